// The group executor (group.h) against scripted members: what it asks, what it runs and in which
// order, and what it reports afterwards.
#include "community-operator/controller/group.h"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>

#include "common/api/conditions.h"
#include "common/pki/pki.h"
#include "common/testing/test_pki.h"
#include "community-operator/controller/secret_summary.h"

namespace mysqlop::community {
namespace {

const std::string kGroup = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const std::string kSubject = "/O=O'Reilly/CN=my.demo.svc";

// Three scripted members: their state, what they hold, and every statement they were sent.
struct Members {
  struct M {
    bool up = true;
    std::string state = "OFFLINE", role;
    int64_t serverId = 1;
    std::string gtids, subject, channelUser;
    bool bootstrapFlag = false;
    // What its files hold (the client port presents it) and what its group channel loaded.
    std::string filesPem, groupPem;
  };
  std::mutex mu;
  std::map<std::string, M> m = {{"my-0", {}}, {"my-1", {}}, {"my-2", {}}};
  std::vector<std::string> log;  // "my-N: statement"
  bool failStart = false;
  int minOnline = 3;  // the fewest members ONLINE seen after any statement
  std::map<std::string, int> queried;  // by pod
  std::string leavingPod;              // its pod is being deleted

  static std::string pod(const dbclient::ProbeTarget& t) { return t.host.substr(0, t.host.find('.')); }
  GroupClient client() {
    return {.query = [this](const dbclient::ProbeTarget& t, const std::vector<std::string>&) -> core::Result<std::vector<dbclient::Rows>> {
              std::lock_guard l(mu);
              const M& me = m.at(pod(t));
              ++queried[pod(t)];
              if (!me.up) return core::unavailable(t.host + ":3306: ERROR 2002: Connection refused");
              std::vector<dbclient::Rows> out(4);
              out[0] = {{std::to_string(me.serverId), me.gtids, "uuid-" + pod(t)}};
              if (me.state == "ONLINE") {
                for (const auto& [name, x] : m) {
                  if (x.state == "ONLINE") out[1].push_back({name + ".my-pods.demo.svc", x.state, x.role, name == pod(t) ? "1" : "0"});
                }
              } else {
                out[1].push_back({pod(t) + ".my-pods.demo.svc", me.state, "", "1"});
              }
              if (!me.subject.empty()) out[2] = {{me.subject}};
              if (!me.channelUser.empty()) out[3] = {{me.channelUser}};
              return out;
            },
            .run = [this](const dbclient::ProbeTarget& t, const std::vector<std::string>& statements) -> core::Status {
              std::lock_guard l(mu);
              M& me = m.at(pod(t));
              for (const auto& s : statements) {
                log.push_back(pod(t) + ": " + s);
                if (s.rfind("SET PERSIST server_id = ", 0) == 0) me.serverId = std::stoll(s.substr(24));
                if (s.find("REQUIRE SUBJECT") != std::string::npos) me.subject = kSubject;
                if (s.rfind("CHANGE REPLICATION SOURCE", 0) == 0) me.channelUser = "mysqlop_repl";
                if (s == "RESET BINARY LOGS AND GTIDS") me.gtids.clear();
                if (s == "SET GLOBAL group_replication_bootstrap_group = ON") me.bootstrapFlag = true;
                if (s == "SET GLOBAL group_replication_bootstrap_group = OFF") me.bootstrapFlag = false;
                if (s == "START GROUP_REPLICATION") {
                  if (failStart) return core::invalid(t.host + ":3306 refused \"START GROUP_REPLICATION\": ERROR 3092: The server is not configured properly");
                  const bool group = std::any_of(m.begin(), m.end(), [](const auto& e) { return e.second.state == "ONLINE"; });
                  if (!me.bootstrapFlag && !group) return core::invalid("ERROR 3092: no group to join");
                  me.state = "ONLINE";
                  me.role = me.bootstrapFlag ? "PRIMARY" : "SECONDARY";
                  me.groupPem = me.filesPem;  // the group channel reads the files when it starts
                }
                if (s == "STOP GROUP_REPLICATION") {
                  me.state = "OFFLINE";
                  me.role.clear();
                }
                if (s.rfind("SELECT group_replication_set_as_primary('uuid-", 0) == 0) {
                  const std::string to = s.substr(s.find("uuid-") + 5, 4);
                  if (me.role != "PRIMARY") return core::invalid("ERROR 3910: not the primary");
                  me.role = "SECONDARY";
                  m.at(to).role = "PRIMARY";
                }
                minOnline = std::min<int>(minOnline, static_cast<int>(std::count_if(m.begin(), m.end(), [](const auto& e) {
                                            return e.second.state == "ONLINE";
                                          })));
              }
              return {};
            },
            .fetchClientCert = [this](const std::string& host, int, std::chrono::seconds) -> core::Result<std::string> {
              std::lock_guard l(mu);
              return m.at(host.substr(0, host.find('.'))).filesPem;
            },
            .fetchGroupCert = [this](const std::string& host, int port, std::chrono::seconds) -> core::Result<std::string> {
              std::lock_guard l(mu);
              const M& me = m.at(host.substr(0, host.find('.')));
              if (port != 33061 || me.state != "ONLINE") return core::unavailable(host + ": Connection refused");
              return me.groupPem;
            },
            .leaving = [this](const std::string&, const std::string& pod) { return pod == leavingPod; }};
  }
  std::vector<std::string> sent() {
    std::lock_guard l(mu);
    return log;
  }
};

api::MySQL group() {
  api::MySQL my;
  my.name = "my";
  my.namespace_ = "demo";
  my.replicas = 3;
  my.topology = api::Topology{"GroupReplication", kGroup, "Single-Primary"};
  return my;
}

dbclient::ProbeTarget base() {
  dbclient::ProbeTarget t;
  t.host = "my.demo.svc";
  t.user = "root";
  t.password = "pw";
  t.tls = dbclient::ProbeTls{"CA PEM", true};
  return t;
}

TEST_CASE("group: a new group is bootstrapped on my-0 alone, the others prepared and joined, nothing twice", "[group]") {
  Members ms;
  ms.m["my-1"].gtids = "11111111-0000-4000-8000-000000000001:1-4";  // its first start's own transactions
  auto facts = manageGroup(ms.client(), group(), base(), GroupWant{kSubject, ""}, core::Logger::root());
  const auto sent = ms.sent();
  const std::vector<std::string> boot = {"my-0: SET GLOBAL group_replication_bootstrap_group = ON", "my-0: START GROUP_REPLICATION",
                                         "my-0: SET GLOBAL group_replication_bootstrap_group = OFF"};
  auto at = std::search(sent.begin(), sent.end(), boot.begin(), boot.end());
  REQUIRE(at != sent.end());
  // Prepared first: server_id, the user bound to the certificate's subject (quoted), the channel.
  CHECK(std::find(sent.begin(), at, "my-0: SET PERSIST server_id = 1") != at);
  CHECK(std::find(sent.begin(), at, R"(my-0: CREATE USER IF NOT EXISTS 'mysqlop_repl'@'%' REQUIRE SUBJECT '/O=O\'Reilly/CN=my.demo.svc')") != at);
  CHECK(std::find(sent.begin(), at, "my-0: SET SESSION sql_log_bin = 0") != at);
  // One bootstrap only; my-1 forgets its own transactions, then each joins with the flag off.
  CHECK(std::count(sent.begin(), sent.end(), "my-0: SET GLOBAL group_replication_bootstrap_group = ON") == 1);
  CHECK(std::count_if(sent.begin(), sent.end(), [](const auto& s) { return s.find("bootstrap_group = ON") != std::string::npos; }) == 1);
  CHECK(std::find(sent.begin(), sent.end(), "my-1: RESET BINARY LOGS AND GTIDS") != sent.end());
  CHECK(std::find(sent.begin(), sent.end(), "my-2: RESET BINARY LOGS AND GTIDS") == sent.end());
  CHECK(std::find(sent.begin(), sent.end(), "my-2: SET PERSIST server_id = 3") != sent.end());
  for (const auto& s : sent) CHECK_THAT(s, !Catch::Contains("IDENTIFIED BY"));
  // Reported as they are afterwards.
  CHECK(facts.reason == api::kReasonGroupOnline);
  CHECK(facts.primary == "my-0");
  CHECK(facts.online == 3);
  // A second round finds nothing to do.
  const size_t before = ms.sent().size();
  facts = manageGroup(ms.client(), group(), base(), GroupWant{kSubject, ""}, core::Logger::root());
  CHECK(ms.sent().size() == before);
  CHECK(facts.reason == api::kReasonGroupOnline);
}

TEST_CASE("group: a member that does not answer holds the bootstrap back, and a failed bootstrap leaves the flag off", "[group]") {
  Members ms;
  ms.m["my-2"].up = false;
  auto facts = manageGroup(ms.client(), group(), base(), GroupWant{kSubject, ""}, core::Logger::root());
  CHECK(ms.sent().empty());
  CHECK(facts.reason == api::kReasonGroupWaitingForMembers);
  CHECK_THAT(facts.message, Catch::Contains("my-2 (my-2.my-pods.demo.svc:3306: ERROR 2002"));

  ms.m["my-2"].up = true;
  ms.failStart = true;
  facts = manageGroup(ms.client(), group(), base(), GroupWant{kSubject, ""}, core::Logger::root());
  const auto sent = ms.sent();
  REQUIRE_FALSE(sent.empty());
  CHECK(sent.back() == "my-0: SET GLOBAL group_replication_bootstrap_group = OFF");  // switched off after the failure
  CHECK_FALSE(ms.m["my-0"].bootstrapFlag);
  CHECK(std::none_of(sent.begin(), sent.end(), [](const auto& s) { return s.rfind("my-1:", 0) == 0 && s.find("START") != std::string::npos; }));
  CHECK_THAT(facts.message, Catch::Contains("bootstrap of my-0 failed") && Catch::Contains("ERROR 3092"));
}

TEST_CASE("group: a renewal reaches every group channel, secondaries first, the primary after a switchover, the majority kept", "[group]") {
  testing::TestPki pki;
  const std::string old = pki.issue({.commonName = "my.demo.svc", .serverAuth = true}).certPem;
  const std::string renewed = pki.issue({.commonName = "my.demo.svc", .serverAuth = true}).certPem;
  Members ms;
  for (auto& [name, x] : ms.m) {
    x.state = "ONLINE";
    x.role = name == "my-0" ? "PRIMARY" : "SECONDARY";
    x.serverId = name[3] - '0' + 1;
    x.subject = kSubject;
    x.channelUser = "mysqlop_repl";
    x.gtids = kGroup + ":1-20";
    x.groupPem = old;
    x.filesPem = renewed;  // renewed, and the client ports reloaded
  }
  const GroupWant want{kSubject, *certificateDigest(renewed)};
  GroupFacts facts;
  for (int round = 0; round < 8; ++round) facts = manageGroup(ms.client(), group(), base(), want, core::Logger::root());
  const auto sent = ms.sent();
  std::vector<std::string> acts;
  for (const auto& s : sent) {
    if (s.find("STOP") != std::string::npos || s.find("set_as_primary") != std::string::npos) acts.push_back(s);
  }
  CHECK(acts == std::vector<std::string>{"my-1: STOP GROUP_REPLICATION", "my-2: STOP GROUP_REPLICATION",
                                         "my-0: SELECT group_replication_set_as_primary('uuid-my-1')", "my-0: STOP GROUP_REPLICATION"});
  for (const auto& [name, x] : ms.m) CHECK(x.groupPem == renewed);
  CHECK(ms.minOnline == 2);  // one member at a time
  CHECK(facts.primary == "my-1");
  CHECK_FALSE(facts.rolling);
  CHECK(facts.members[0].groupChannelSerial == pki::inspect(*pki::parseCertificate(renewed)).serialHex);
  // Converged: a further round sends nothing.
  const size_t before = ms.sent().size();
  manageGroup(ms.client(), group(), base(), want, core::Logger::root());
  CHECK(ms.sent().size() == before);

  // A member whose pod is being deleted is not dialled (a server shutting down can hold a
  // connection for seconds); the others' view describes it, and nothing is restarted meanwhile.
  const std::string third = pki.issue({.commonName = "my.demo.svc", .serverAuth = true}).certPem;
  for (auto& [name, x] : ms.m) x.filesPem = third;
  ms.leavingPod = "my-2";
  ms.queried.clear();
  facts = manageGroup(ms.client(), group(), base(), GroupWant{kSubject, *certificateDigest(third)}, core::Logger::root());
  CHECK(ms.queried.count("my-2") == 0);
  CHECK(ms.queried["my-0"] >= 1);
  CHECK(facts.members[2].state == "ONLINE");
  CHECK(ms.sent().size() == before);
}

}  // namespace
}  // namespace mysqlop::community
