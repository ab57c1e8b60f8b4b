#include "community-operator/controller/group_plan.h"

#include <catch2/catch.hpp>

#include "common/api/conditions.h"

namespace mysqlop::community {
namespace {

const std::string kGroup = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const std::string kLocal0 = "11111111-0000-4000-8000-000000000000";
const std::string kLocal1 = "11111111-0000-4000-8000-000000000001";

using A = GroupAction;
using Peer = MemberView::Peer;

// A member that answers: prepared (server_id, replication user) and holding `gtids`.
MemberView member(int i, std::string state, std::string gtids = "", std::string role = "") {
  MemberView m;
  m.ordinal = i;
  m.pod = "my-" + std::to_string(i);
  m.reachable = true;
  m.serverId = serverIdOf(i);
  m.replicationUserReady = true;
  m.state = std::move(state);
  m.role = std::move(role);
  m.gtidExecuted = std::move(gtids);
  return m;
}

MemberView away(int i) {
  MemberView m;
  m.ordinal = i;
  m.pod = "my-" + std::to_string(i);
  m.error = "connection refused";
  return m;
}

TEST_CASE("group plan: a new database is bootstrapped once, from member 0, and the others join", "[group]") {
  std::vector<MemberView> ms = {member(0, "OFFLINE"), member(1, "OFFLINE"), member(2, "OFFLINE")};
  // Fresh members: not yet prepared, and holding their own first-start transactions.
  for (auto& m : ms) {
    m.replicationUserReady = false;
    m.serverId = 1;
  }
  ms[1].gtidExecuted = kLocal1 + ":1-3";
  auto p = planGroup(ms, kGroup);
  CHECK(p.actions == std::vector<A>{{A::kPrepare, 0, false}, {A::kBootstrap, 0, false}, {A::kPrepare, 1, true},
                                    {A::kJoin, 1, false}, {A::kPrepare, 2, false}, {A::kJoin, 2, false}});
  CHECK(p.facts.reason == api::kReasonGroupBootstrapping);
  CHECK(p.roles.empty());
  CHECK_FALSE(p.facts.majority);
}

TEST_CASE("group plan: no bootstrap while a member does not answer", "[group]") {
  auto p = planGroup({member(0, "OFFLINE"), away(1), member(2, "OFFLINE")}, kGroup);
  CHECK(p.actions.empty());
  CHECK(p.facts.reason == api::kReasonGroupWaitingForMembers);
  CHECK_THAT(p.facts.message, Catch::Contains("my-1 (connection refused)"));
  CHECK(p.facts.members[1].state == "Unknown");
}

TEST_CASE("group plan: after a full restart, the member holding every transaction bootstraps", "[group]") {
  // my-2 was the last primary: it holds 1-12, the others lag.
  auto p = planGroup({member(0, "OFFLINE", kGroup + ":1-9"), member(1, "ERROR", kGroup + ":1-10"),
                      member(2, "OFFLINE", kGroup + ":1-12")},
                     kGroup);
  CHECK(p.actions == std::vector<A>{{A::kBootstrap, 2, false}, {A::kJoin, 0, false}, {A::kRejoin, 1, false}});
  CHECK_THAT(p.facts.message, Catch::Contains("from my-2 (12 transactions"));
  // Never from an empty member while one holds the group's history; a member's own local
  // transactions do not count as the group's (my-0 is new: its 50 are its first start's).
  p = planGroup({member(0, "OFFLINE", kLocal0 + ":1-50"), member(1, "OFFLINE", kGroup + ":1-3"), member(2, "OFFLINE", "")},
                kGroup);
  REQUIRE(p.actions.size() == 4);
  CHECK(p.actions[0] == A{A::kBootstrap, 1, false});
  CHECK(p.actions[1] == A{A::kPrepare, 0, true});
}

TEST_CASE("group plan: members that diverged are left to a person", "[group]") {
  auto p = planGroup({member(0, "OFFLINE", kGroup + ":1-5," + kLocal0 + ":1"), member(1, "OFFLINE", kGroup + ":1-6"),
                      member(2, "OFFLINE", kGroup + ":1-4")},
                     kGroup);
  CHECK(p.actions.empty());
  CHECK(p.facts.reason == api::kReasonGroupDiverged);
  CHECK_THAT(p.facts.message, Catch::Contains("my-0 6 transactions") && Catch::Contains("my-1 6 transactions"));
}

TEST_CASE("group plan: a live group gives the roles and takes back who is outside", "[group]") {
  const std::vector<Peer> view = {{"my-0", "ONLINE", "SECONDARY"}, {"my-1", "ONLINE", "PRIMARY"}};
  auto m0 = member(0, "ONLINE", kGroup + ":1-20", "SECONDARY");
  auto m1 = member(1, "ONLINE", kGroup + ":1-20", "PRIMARY");
  m0.view = m1.view = view;
  auto m2 = member(2, "OFFLINE", kGroup + ":1-9");  // restarted: rejoins, no reset (it held the group's)
  auto p = planGroup({m0, m1, m2}, kGroup);
  CHECK(p.facts.majority);
  CHECK(p.actions == std::vector<A>{{A::kJoin, 2, false}});
  CHECK(p.roles == std::map<std::string, std::string>{{"my-0", "standby"}, {"my-1", "primary"}});
  CHECK(p.facts.primary == "my-1");
  CHECK(p.facts.online == 2);
  CHECK(p.facts.reason == api::kReasonGroupMemberNotOnline);
  CHECK_THAT(p.facts.message, Catch::Contains("my-2 OFFLINE") && Catch::Contains("joining: my-2"));

  // All three ONLINE: nothing to do.
  m2 = member(2, "ONLINE", kGroup + ":1-20", "SECONDARY");
  std::vector<Peer> all = view;
  all.push_back({"my-2", "ONLINE", "SECONDARY"});
  m0.view = m1.view = m2.view = all;
  p = planGroup({m0, m1, m2}, kGroup);
  CHECK(p.actions.empty());
  CHECK(p.facts.reason == api::kReasonGroupOnline);
  CHECK(p.roles.size() == 3);

  // A member the group lists as RECOVERING gets no role yet and is not asked to join again.
  all[2].state = "RECOVERING";
  m2.state = "RECOVERING";
  m0.view = m1.view = m2.view = all;
  p = planGroup({m0, m1, m2}, kGroup);
  CHECK(p.actions.empty());
  CHECK(p.roles.count("my-2") == 0);
  CHECK(p.facts.members[2].state == "RECOVERING");
}

TEST_CASE("group plan: without a majority nothing is forced", "[group]") {
  auto m0 = member(0, "ONLINE", kGroup + ":1-20", "PRIMARY");
  m0.view = {{"my-0", "ONLINE", "PRIMARY"}, {"my-1", "UNREACHABLE", "SECONDARY"}, {"my-2", "UNREACHABLE", "SECONDARY"}};
  auto p = planGroup({m0, away(1), away(2)}, kGroup);
  CHECK(p.actions.empty());
  CHECK(p.roles.empty());
  CHECK_FALSE(p.facts.majority);
  CHECK(p.facts.reason == api::kReasonGroupNoMajority);
  // Nor is a second group bootstrapped beside it when the others answer but are outside it.
  p = planGroup({m0, member(1, "OFFLINE", kGroup + ":1-20"), member(2, "OFFLINE", kGroup + ":1-20")}, kGroup);
  CHECK(p.actions.empty());
  CHECK(p.facts.reason == api::kReasonGroupNoMajority);
  // Members that left cleanly are out of the group's view: the one left is a group of one, with
  // its majority, and the others join it.
  m0.view = {{"my-0", "ONLINE", "PRIMARY"}};
  p = planGroup({m0, member(1, "OFFLINE", kGroup + ":1-20"), member(2, "OFFLINE", kGroup + ":1-18")}, kGroup);
  CHECK(p.actions == std::vector<A>{{A::kJoin, 1, false}, {A::kJoin, 2, false}});
  CHECK(p.roles == std::map<std::string, std::string>{{"my-0", "primary"}});
}

// Three ONLINE members (my-0 primary), each presenting `client` on its client port and
// group[i] on its group port.
std::vector<MemberView> rolling(const std::string& client, const std::vector<std::string>& group) {
  std::vector<Peer> view = {{"my-0", "ONLINE", "PRIMARY"}, {"my-1", "ONLINE", "SECONDARY"}, {"my-2", "ONLINE", "SECONDARY"}};
  std::vector<MemberView> ms;
  for (int i = 0; i < 3; ++i) {
    auto m = member(i, "ONLINE", kGroup + ":1-20", i == 0 ? "PRIMARY" : "SECONDARY");
    m.view = view;
    m.serverUuid = "uuid-" + std::to_string(i);
    m.clientCert = client;
    m.groupCert = group[static_cast<size_t>(i)];
    ms.push_back(std::move(m));
  }
  return ms;
}

TEST_CASE("group plan: a renewed certificate reaches the group channels one member a round, the primary last", "[group]") {
  // Every client port presents the renewed certificate (the files hold it): secondaries first,
  // lowest ordinal first, one per round.
  auto p = planGroup(rolling("new", {"old", "old", "old"}), kGroup, "new");
  CHECK(p.actions == std::vector<A>{{A::kRestart, 1, false, ""}});
  CHECK(p.facts.rolling);
  CHECK(p.facts.reason == api::kReasonGroupOnline);
  CHECK_THAT(p.facts.message, Catch::Contains("restarting Group Replication on my-1"));
  p = planGroup(rolling("new", {"old", "new", "old"}), kGroup, "new");
  CHECK(p.actions == std::vector<A>{{A::kRestart, 2, false, ""}});
  // Only the primary left: it hands its role to a secondary that presents the new certificate.
  p = planGroup(rolling("new", {"old", "new", "new"}), kGroup, "new");
  CHECK(p.actions == std::vector<A>{{A::kSwitchPrimary, 0, false, "uuid-1"}});
  CHECK_THAT(p.facts.message, Catch::Contains("my-0 hands the primary role to my-1"));
  // Every channel presents it: nothing to do, nothing rolling.
  p = planGroup(rolling("new", {"new", "new", "new"}), kGroup, "new");
  CHECK(p.actions.empty());
  CHECK_FALSE(p.facts.rolling);
}

TEST_CASE("group plan: no group channel is restarted before the files hold the renewal, nor while a member is away", "[group]") {
  // my-1's client port still presents the old certificate: its files lag; my-2 goes first.
  auto ms = rolling("new", {"old", "old", "old"});
  ms[1].clientCert = "old";
  auto p = planGroup(ms, kGroup, "new");
  CHECK(p.actions == std::vector<A>{{A::kRestart, 2, false, ""}});
  // Nothing refreshed yet: waiting, said, checked again soon.
  p = planGroup(rolling("old", {"old", "old", "old"}), kGroup, "new");
  CHECK(p.actions.empty());
  CHECK(p.facts.rolling);
  CHECK_THAT(p.facts.message, Catch::Contains("group channel of my-0, my-1, my-2 presents an older certificate"));
  // A member not ONLINE: the group is not at full strength; nothing is restarted.
  ms = rolling("new", {"old", "old", "old"});
  ms[2].state = "RECOVERING";
  for (auto& m : ms) m.view[2].state = "RECOVERING";
  p = planGroup(ms, kGroup, "new");
  CHECK(p.actions.empty());
  // A member the others still list ONLINE that does not answer (its pod being deleted): nothing.
  ms = rolling("new", {"old", "old", "old"});
  ms[2].reachable = false;
  p = planGroup(ms, kGroup, "new");
  CHECK(p.actions.empty());
  // A group channel that could not be read, or a Secret not read: no restart on a guess.
  p = planGroup(rolling("new", {"", "", ""}), kGroup, "new");
  CHECK(p.actions.empty());
  CHECK_FALSE(p.facts.rolling);
  p = planGroup(rolling("new", {"old", "old", "old"}), kGroup, "");
  CHECK(p.actions.empty());
  // No secondary presents the new certificate yet: the primary keeps its role.
  ms = rolling("new", {"old", "", ""});
  p = planGroup(ms, kGroup, "new");
  CHECK(p.actions.empty());
}

}  // namespace
}  // namespace mysqlop::community
