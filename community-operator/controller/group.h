#pragma once
// The community operator's hand on a Group Replication group (issue 31): asks every member at once
// what it is (over TLS, verified as every check is), lets planGroup decide (group_plan.h), runs what it
// decided, and reports the members as they are afterwards. The health checker calls it on its own
// threads for a MySQL with spec.topology, before it probes the primary Service.
//
// The replication user (`mysqlop_repl`) has no password: it is REQUIRE SUBJECT of the server
// certificate, which the members present on the recovery channel (docs/design.md §11), so no
// replication password exists anywhere. Statements that make it are not written to the binary
// log (each member makes its own).
//
// Blocking (bounded by the target's timeout per connection); any thread.

#include <functional>
#include <string>
#include <vector>

#include "common/api/mysql.h"
#include "common/core/log.h"
#include "common/mysql/mysql_probe.h"
#include "common/mysql/served_certificate.h"
#include "community-operator/controller/group_plan.h"

namespace mysqlop::community {

inline constexpr std::string_view kReplicationUser = "mysqlop_repl";

struct GroupClient {
  std::function<core::Result<std::vector<dbclient::Rows>>(const dbclient::ProbeTarget&, const std::vector<std::string>&)> query =
      dbclient::queryRows;
  std::function<core::Status(const dbclient::ProbeTarget&, const std::vector<std::string>&)> run = dbclient::runStatements;
  // The certificate a member presents on its client-facing port, and on its group port.
  using FetchFn = std::function<core::Result<std::string>(const std::string& host, int port, std::chrono::seconds timeout)>;
  FetchFn fetchClientCert = dbclient::fetchServedCertificate;
  FetchFn fetchGroupCert = dbclient::fetchTlsCertificate;
  // A member whose pod is being deleted is not dialled: it is leaving, and a server shutting down
  // can hold a connection for seconds without an answer. Unset: every member is dialled.
  std::function<bool(const std::string& ns, const std::string& pod)> leaving;
};

// The queries observeMember sends, in order (exposed for tests that answer them).
const std::vector<std::string>& memberQueries();
// What member `ordinal` says; unreachable (with the error) when it cannot be asked. An ONLINE
// member is also asked which certificate each of its two ports presents.
MemberView observeMember(const GroupClient& c, const dbclient::ProbeTarget& member, int ordinal, const std::string& pod,
                         const std::string& subject);
// The statements of one action; `subject` is the server certificate's (REQUIRE SUBJECT). Pure.
std::vector<std::string> groupActionStatements(const GroupAction& a, const std::string& subject);
// `want` is what the database's server Secret holds: the certificate's subject (REQUIRE SUBJECT of
// the replication user) and digest (what the group channels should present).
struct GroupWant {
  std::string subject, certDigest;
};
// Every member observed, nothing done: the facts planGroup draws from what they say.
GroupFacts observeGroup(const GroupClient& c, const api::MySQL& my, const dbclient::ProbeTarget& base, const GroupWant& want);
// One round: observe every member, act as planGroup says (stopping at the first failure, which the
// facts then name), observe again after acting. `base` is the database's check target (user,
// password, TLS); each member is dialled at its own name.
// `observed`, when given, hears the members as they are before anything is done (so that the
// roles follow a new primary without waiting for a join that takes its time, or for the rest of
// the health check).
GroupFacts manageGroup(const GroupClient& c, const api::MySQL& my, const dbclient::ProbeTarget& base, const GroupWant& want,
                       const core::Logger& log, const std::function<void(const GroupFacts&)>& observed = {});

}  // namespace mysqlop::community
