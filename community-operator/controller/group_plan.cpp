#include "community-operator/controller/group_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/conditions.h"
#include "common/api/naming.h"
#include "common/mysql/gtid.h"

namespace mysqlop::community {
namespace {

constexpr std::string_view kOnline = "ONLINE";

bool inGroup(const MemberView& m) { return m.reachable && (m.state == kOnline || m.state == "RECOVERING"); }

int onlineIn(const std::vector<MemberView::Peer>& view) {
  return static_cast<int>(std::count_if(view.begin(), view.end(), [](const auto& p) { return p.state == kOnline; }));
}

// The ONLINE member that sees the most members ONLINE: whose view is the group's.
const MemberView* bestView(const std::vector<MemberView>& members) {
  const MemberView* best = nullptr;
  for (const auto& m : members) {
    if (m.reachable && m.state == kOnline && (!best || onlineIn(m.view) > onlineIn(best->view))) best = &m;
  }
  return best;
}

// Prepared for the group (its server_id, the replication user, the recovery channel), or the action that prepares it.
std::optional<GroupAction> prepare(const MemberView& m, const std::string& groupName) {
  const bool ready = m.replicationUserReady && m.serverId == serverIdOf(m.ordinal);
  // Only a member that never held a transaction of the group forgets its own (see GroupAction).
  auto gtids = dbclient::GtidSet::parse(m.gtidExecuted);
  const bool reset = gtids && !gtids->empty() && !gtids->hasSource(groupName);
  if (ready && !reset) return std::nullopt;
  return GroupAction{GroupAction::kPrepare, m.ordinal, reset};
}

void describeMembers(const std::vector<MemberView>& members, const MemberView* view, GroupFacts& f) {
  for (const auto& m : members) {
    GroupMemberFacts mf{m.pod, m.reachable ? m.state : "Unknown", "", m.groupCertSerial};
    if (view) {
      for (const auto& p : view->view) {
        if (p.pod == m.pod) mf = {m.pod, p.state, p.state == kOnline ? p.role : "", m.groupCertSerial};
      }
    }
    if (mf.state.empty()) mf.state = "Unknown";
    if (mf.role == "PRIMARY") f.primary = m.pod;
    f.online += mf.state == kOnline ? 1 : 0;
    f.members.push_back(std::move(mf));
  }
}

// Every member ONLINE: a renewed server certificate reaches the group channels, one member a round
// (group_plan.h).
void planRoll(GroupPlan& p, const std::vector<MemberView>& members, const std::string& serverCert) {
  // Every member answers: one the group still lists ONLINE may be on its way out (its pod deleted).
  const bool allAnswer = std::all_of(members.begin(), members.end(), [](const MemberView& m) { return m.reachable; });
  if (serverCert.empty() || !allAnswer) return;
  std::vector<const MemberView*> stale;
  for (const auto& m : members) {
    if (!m.groupCert.empty() && m.groupCert != serverCert) stale.push_back(&m);
  }
  if (stale.empty()) return;
  GroupFacts& f = p.facts;
  f.rolling = true;
  auto refreshed = [&](const MemberView* m) { return m->clientCert == serverCert; };
  for (const auto* m : stale) {
    if (m->role == "PRIMARY" || !refreshed(m)) continue;
    p.actions.push_back({GroupAction::kRestart, m->ordinal, false, ""});
    f.message += fmt::format("; restarting Group Replication on {} so that its group channel presents the renewed certificate", m->pod);
    return;
  }
  auto primary = std::find_if(stale.begin(), stale.end(), [&](const MemberView* m) { return m->role == "PRIMARY" && refreshed(m); });
  if (primary != stale.end()) {
    for (const auto& to : members) {
      if (to.role != "SECONDARY" || to.groupCert != serverCert || to.serverUuid.empty()) continue;
      p.actions.push_back({GroupAction::kSwitchPrimary, (*primary)->ordinal, false, to.serverUuid});
      f.message += fmt::format("; {} hands the primary role to {} before its group channel is restarted", (*primary)->pod, to.pod);
      return;
    }
  }
  std::vector<std::string> waiting;
  for (const auto* m : stale) waiting.push_back(m->pod);
  f.message += fmt::format("; the group channel of {} presents an older certificate: waiting until the pod's files hold the "
                           "renewed one (its client port presents it)",
                           fmt::join(waiting, ", "));
}

// A group exists: members outside it prepared and joined.
void planLive(GroupPlan& p, const std::vector<MemberView>& members, const std::string& groupName, const std::string& serverCert) {
  std::vector<std::string> joining;
  for (const auto& m : members) {
    if (!m.reachable || inGroup(m)) continue;
    if (auto a = prepare(m, groupName)) p.actions.push_back(*a);
    p.actions.push_back({m.state == "ERROR" ? GroupAction::kRejoin : GroupAction::kJoin, m.ordinal, false});
    joining.push_back(m.pod);
  }
  GroupFacts& f = p.facts;
  if (f.online == static_cast<int>(members.size())) {
    f.reason = api::kReasonGroupOnline;
    f.message = fmt::format("{} members ONLINE, primary {}", f.online, f.primary);
    planRoll(p, members, serverCert);
    return;
  }
  f.reason = api::kReasonGroupMemberNotOnline;
  std::vector<std::string> notOnline;
  for (const auto& m : f.members) {
    if (m.state != kOnline) notOnline.push_back(fmt::format("{} {}", m.pod, m.state));
  }
  f.message = fmt::format("{} of {} members ONLINE, primary {}; not ONLINE: {}", f.online, members.size(), f.primary,
                          fmt::join(notOnline, ", "));
  if (!joining.empty()) f.message += fmt::format("; joining: {}", fmt::join(joining, ", "));
}

// No group: bootstrapped from the member holding every transaction, once every member answers.
void planBootstrap(GroupPlan& p, const std::vector<MemberView>& members, const std::string& groupName) {
  GroupFacts& f = p.facts;
  std::vector<std::string> away;
  for (const auto& m : members) {
    if (!m.reachable) away.push_back(fmt::format("{} ({})", m.pod, m.error));
  }
  if (!away.empty()) {
    f.reason = api::kReasonGroupWaitingForMembers;
    f.message = fmt::format("no member is in a group; bootstrapping waits until every member answers, so that it starts from the "
                            "one holding every transaction: {}",
                            fmt::join(away, ", "));
    return;
  }
  // What each member holds of the group's history: nothing, for one that never held any of it.
  std::vector<dbclient::GtidSet> held;
  for (const auto& m : members) {
    auto s = dbclient::GtidSet::parse(m.gtidExecuted);
    if (!s) {
      f.reason = api::kReasonGroupDiverged;
      f.message = fmt::format("{} reports a GTID set that cannot be read: {}", m.pod, s.error().message);
      return;
    }
    held.push_back(s->hasSource(groupName) ? *s : dbclient::GtidSet{});
  }
  const MemberView* from = nullptr;
  for (size_t i = 0; i < members.size() && !from; ++i) {
    const bool all = std::all_of(held.begin(), held.end(), [&](const auto& other) { return held[i].contains(other); });
    if (all) from = &members[i];
  }
  if (!from) {
    std::vector<std::string> counts;
    for (size_t i = 0; i < members.size(); ++i) counts.push_back(fmt::format("{} {} transactions", members[i].pod, held[i].count()));
    f.reason = api::kReasonGroupDiverged;
    f.message = fmt::format("no member holds every transaction the others hold ({}); the group is not bootstrapped: "
                            "compare @@gtid_executed on the members and decide which data to keep",
                            fmt::join(counts, ", "));
    return;
  }
  if (auto a = prepare(*from, groupName)) p.actions.push_back(*a);
  p.actions.push_back({GroupAction::kBootstrap, from->ordinal, false});
  for (const auto& m : members) {
    if (&m == from) continue;
    if (auto a = prepare(m, groupName)) p.actions.push_back(*a);
    p.actions.push_back({m.state == "ERROR" ? GroupAction::kRejoin : GroupAction::kJoin, m.ordinal, false});
  }
  f.reason = api::kReasonGroupBootstrapping;
  f.message = fmt::format("no member is in a group: bootstrapping it from {} ({} transactions of the group), the others join",
                          from->pod, held[static_cast<size_t>(from - members.data())].count());
}

GroupPlan planMembers(const std::vector<MemberView>& members, const std::string& groupName, const std::string& serverCert);

}  // namespace

std::optional<std::string> roleLabel(const GroupFacts& facts, const std::string& pod) {
  if (!facts.majority) return std::nullopt;
  for (const auto& m : facts.members) {
    if (m.pod != pod || m.state != kOnline) continue;
    return std::string(m.role == "PRIMARY" ? api::kRolePrimary : api::kRoleStandby);
  }
  return std::nullopt;
}

GroupPlan planGroup(const std::vector<MemberView>& members, const std::string& groupName, const std::string& serverCert) {
  GroupPlan p = planMembers(members, groupName, serverCert);
  for (const auto& m : p.facts.members) {
    if (auto r = roleLabel(p.facts, m.pod)) p.roles[m.pod] = *r;
  }
  return p;
}

namespace {

GroupPlan planMembers(const std::vector<MemberView>& members, const std::string& groupName, const std::string& serverCert) {
  GroupPlan p;
  const MemberView* view = bestView(members);
  describeMembers(members, view, p.facts);
  // The group's majority as it counts itself: members that left cleanly are out of its view, ones
  // that vanished stay in it (UNREACHABLE) until expelled.
  if (view && 2 * onlineIn(view->view) > static_cast<int>(view->view.size())) {
    p.facts.majority = true;
    planLive(p, members, groupName, serverCert);
    return p;
  }
  const bool anyInGroup = std::any_of(members.begin(), members.end(), inGroup);
  if (anyInGroup) {
    // Members in a group without a majority: it cannot commit; forcing a new membership could
    // lose what the others hold. Nothing is done; the roles stay off.
    p.facts.reason = api::kReasonGroupNoMajority;
    p.facts.message = fmt::format("{} of {} members ONLINE: the group has no majority and accepts no writes; bring the other "
                                  "members back (or, knowing what is lost, force a membership with "
                                  "group_replication_force_members)",
                                  view ? onlineIn(view->view) : 0, view ? view->view.size() : members.size());
    return p;
  }
  planBootstrap(p, members, groupName);
  return p;
}

}  // namespace
}  // namespace mysqlop::community
