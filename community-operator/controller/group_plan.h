#pragma once
// Group Replication's decisions (issue 31), as pure functions: the community operator asks every
// member of a group what it is (observeMember, group.h), `planGroup` decides what to do about it,
// and the executor runs the statements (group.cpp). The operator decides, not the members or
// their entrypoint, because only it sees every member at once (docs/design.md §11):
//
//   - a group exists while a member is ONLINE and sees a majority ONLINE: members not in it
//     (OFFLINE, or ERROR after a failed attempt) are prepared if need be and join it;
//   - no member in a group (a new database, or every pod restarted): the group is bootstrapped
//     once, from the member that holds every transaction any other holds (GTID sets), only when
//     every member answers — never from an empty or lagging one while another is away, and never
//     when no member holds all the others' transactions (diverged: a person decides);
//   - members ONLINE without a majority: nothing is forced (the group is blocked; a person decides);
//   - every member ONLINE and a renewed server certificate served on each client-facing port (so
//     the pod's files hold it) but not yet on a member's group channel: that channel is reloaded by
//     restarting Group Replication on one member per round, secondaries first; the primary hands
//     its role to a secondary that already presents the new certificate, then restarts as one.
//     A clean STOP leaves the group's view, so the others keep their majority throughout.
//
// Bootstrapping twice would make two groups (split brain): the operator that bootstraps is the
// only leader (leader election), it bootstraps only when no member is in a group, and the member
// it picks is deterministic (the lowest ordinal of those holding everything), so an operator
// restarted mid-bootstrap finds the group made or picks the same member again.
//
//   std::vector<MemberView> views = ...;     // one per pod 0..replicas-1
//   GroupPlan p = planGroup(views, groupName);
//   for (auto& a : p.actions) run(a);         // in order; the first failure stops them
//
// Pure; any thread.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "community-operator/controller/status.h"

namespace mysqlop::community {

// What one member says of itself and of its group.
struct MemberView {
  int ordinal = 0;
  std::string pod;
  bool reachable = false;
  std::string error;  // why it could not be asked
  int64_t serverId = 0;
  std::string gtidExecuted;  // @@gtid_executed
  // Its own MEMBER_STATE (OFFLINE, RECOVERING, ONLINE, ERROR, UNREACHABLE) and MEMBER_ROLE.
  std::string state, role;
  struct Peer {
    std::string pod;  // the first label of its MEMBER_HOST (<pod>.<db>-pods.<ns>.svc)
    std::string state, role;
    bool operator==(const Peer&) const = default;
  };
  std::vector<Peer> view;  // the group's members as this member sees them (itself included)
  // The replication user exists with the wanted REQUIRE SUBJECT and the recovery channel names it.
  bool replicationUserReady = false;
  std::string serverUuid;  // @@server_uuid: what group_replication_set_as_primary names it by
  // The certificate it presents now (the SHA-256 of its DER; "" when it could not be read), on the
  // client-facing port (reloaded in place by ALTER INSTANCE RELOAD TLS) and on the group
  // communication port (read only when Group Replication starts).
  std::string clientCert, groupCert;
  std::string groupCertSerial;
};

struct GroupAction {
  // kRestart: STOP and START GROUP_REPLICATION on an ONLINE secondary, so that its group channel
  // loads the certificate its files hold; kSwitchPrimary: group_replication_set_as_primary(uuid),
  // run on the primary, before its own restart.
  enum Kind { kPrepare, kBootstrap, kJoin, kRejoin, kRestart, kSwitchPrimary };
  Kind kind = kPrepare;
  int ordinal = 0;
  // kPrepare of a member that never held a transaction of the group: its local transactions
  // (the image's first-start initialisation) are forgotten (RESET BINARY LOGS AND GTIDS), so that
  // it can bootstrap or join with the group's history alone. Its data stays.
  bool resetGtids = false;
  std::string uuid;  // kSwitchPrimary: the member that becomes primary
  bool operator==(const GroupAction&) const = default;
};

struct GroupPlan {
  std::vector<GroupAction> actions;
  // The label kubedb.com/role each pod should carry: primary, standby; absent: none (not ONLINE).
  std::map<std::string, std::string> roles;
  GroupFacts facts;
};

// The server_id a member gets: its ordinal + 1 (unique in the group, never 0).
inline int64_t serverIdOf(int ordinal) { return ordinal + 1; }

// `serverCert` is the SHA-256 of the server certificate the database's Secret holds ("" when
// unknown: no group channel is restarted then).
GroupPlan planGroup(const std::vector<MemberView>& members, const std::string& groupName, const std::string& serverCert = "");
// The kubedb.com/role a pod should carry: primary or standby while it is ONLINE in a group with
// its majority; nullopt (no label, so no Service sends it clients) otherwise.
std::optional<std::string> roleLabel(const GroupFacts& facts, const std::string& pod);

}  // namespace mysqlop::community
