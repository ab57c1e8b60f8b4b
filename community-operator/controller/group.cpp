#include "community-operator/controller/group.h"

#include <fmt/format.h>

#include <future>

#include "common/api/naming.h"
#include "common/pki/pki.h"
#include "community-operator/controller/secret_summary.h"

namespace mysqlop::community {
namespace {

std::string cell(const dbclient::Row& row, size_t i) { return i < row.size() && row[i] ? *row[i] : std::string(); }

// 'text' as a SQL string literal.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

// A member asked what it is answers within kAskTimeout (one that does not is away: the others'
// view decides meanwhile); one told to start Group Replication may take kActTimeout (a join
// waits for the group to let it in).
constexpr std::chrono::seconds kAskTimeout{2}, kActTimeout{30};

dbclient::ProbeTarget memberTarget(const api::MySQL& my, const dbclient::ProbeTarget& base, int ordinal,
                                   std::chrono::seconds timeout) {
  dbclient::ProbeTarget t = base;
  t.host = api::podHost(my.name, my.namespace_, ordinal);
  t.port = api::kMySQLPort;
  t.timeout = timeout;
  return t;
}

std::vector<MemberView> observeAll(const GroupClient& c, const api::MySQL& my, const dbclient::ProbeTarget& base,
                                   const std::string& subject) {
  // At once: a member that is gone costs its connect timeout, not the others' turns as well.
  std::vector<std::future<MemberView>> asked;
  for (int i = 0; i < static_cast<int>(my.replicas); ++i) {
    if (c.leaving && c.leaving(my.namespace_, api::podName(my.name, i))) {
      asked.push_back(std::async(std::launch::deferred, [i, pod = api::podName(my.name, i)] {
        MemberView m;
        m.ordinal = i;
        m.pod = pod;
        m.error = "its pod is being deleted";
        return m;
      }));
      continue;
    }
    asked.push_back(std::async(std::launch::async, [&c, t = memberTarget(my, base, i, std::min(base.timeout, kAskTimeout)), i, pod = api::podName(my.name, i), &subject] {
      return observeMember(c, t, i, pod, subject);
    }));
  }
  std::vector<MemberView> out;
  for (auto& a : asked) out.push_back(a.get());
  return out;
}

const char* kindName(GroupAction::Kind k) {
  switch (k) {
    case GroupAction::kPrepare: return "prepare";
    case GroupAction::kBootstrap: return "bootstrap";
    case GroupAction::kJoin: return "join";
    case GroupAction::kRejoin: return "rejoin";
    case GroupAction::kRestart: return "restart";
    case GroupAction::kSwitchPrimary: return "switch primary";
  }
  return "?";
}

}  // namespace

const std::vector<std::string>& memberQueries() {
  static const std::vector<std::string> q = {
      "SELECT @@server_id, @@global.gtid_executed, @@server_uuid",
      "SELECT MEMBER_HOST, MEMBER_STATE, MEMBER_ROLE, MEMBER_ID = @@server_uuid FROM performance_schema.replication_group_members",
      fmt::format("SELECT x509_subject FROM mysql.user WHERE user = '{}' AND host = '%'", kReplicationUser),
      "SELECT USER FROM performance_schema.replication_connection_configuration WHERE CHANNEL_NAME = 'group_replication_recovery'",
  };
  return q;
}

MemberView observeMember(const GroupClient& c, const dbclient::ProbeTarget& member, int ordinal, const std::string& pod,
                         const std::string& subject) {
  MemberView m;
  m.ordinal = ordinal;
  m.pod = pod;
  auto r = c.query(member, memberQueries());
  if (!r || r->size() != memberQueries().size()) {
    m.error = r ? "an incomplete answer" : r.error().message;
    return m;
  }
  const auto& t = *r;
  m.reachable = true;
  if (!t[0].empty()) {
    m.serverId = std::strtoll(cell(t[0][0], 0).c_str(), nullptr, 10);
    m.gtidExecuted = cell(t[0][0], 1);
    m.serverUuid = cell(t[0][0], 2);
  }
  for (const auto& row : t[1]) {
    const std::string host = cell(row, 0);
    MemberView::Peer p{host.substr(0, host.find('.')), cell(row, 1), cell(row, 2)};
    if (cell(row, 3) == "1") {
      m.state = p.state;
      m.role = p.role;
    }
    m.view.push_back(std::move(p));
  }
  // Not in a group, the table lists the member alone as OFFLINE; in one, the view counts.
  if (m.state != "ONLINE" && m.state != "RECOVERING") m.view.clear();
  const bool userOk = !t[2].empty() && cell(t[2][0], 0) == subject;
  const bool channelOk = !t[3].empty() && cell(t[3][0], 0) == kReplicationUser;
  m.replicationUserReady = userOk && channelOk;
  if (m.state == "ONLINE") {
    // Compared, not trusted: the digests say which certificate each channel has loaded. Both
    // at once: a member that stops answering costs one timeout, not two.
    auto group = std::async(std::launch::async, [&] { return c.fetchGroupCert(member.host, api::kGroupPort, member.timeout); });
    if (auto pem = c.fetchClientCert(member.host, member.port, member.timeout)) m.clientCert = certificateDigest(*pem).value_or("");
    if (auto pem = group.get()) {
      m.groupCert = certificateDigest(*pem).value_or("");
      if (auto cert = pki::parseCertificate(*pem)) m.groupCertSerial = pki::inspect(*cert).serialHex;
    }
  }
  return m;
}

std::vector<std::string> groupActionStatements(const GroupAction& a, const std::string& subject) {
  const std::string user = fmt::format("'{}'@'%'", kReplicationUser);
  switch (a.kind) {
    case GroupAction::kPrepare: {
      std::vector<std::string> s = {
          fmt::format("SET PERSIST server_id = {}", serverIdOf(a.ordinal)),
          "SET SESSION sql_log_bin = 0",
          fmt::format("CREATE USER IF NOT EXISTS {} REQUIRE SUBJECT {}", user, quoted(subject)),
          fmt::format("ALTER USER {} REQUIRE SUBJECT {}", user, quoted(subject)),
          fmt::format("GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO {}", user),
          "SET SESSION sql_log_bin = 1",
          fmt::format("CHANGE REPLICATION SOURCE TO SOURCE_USER = '{}', SOURCE_PASSWORD = '' FOR CHANNEL 'group_replication_recovery'",
                      kReplicationUser),
      };
      if (a.resetGtids) s.push_back("RESET BINARY LOGS AND GTIDS");
      return s;
    }
    case GroupAction::kBootstrap:
      return {"SET GLOBAL group_replication_bootstrap_group = ON", "START GROUP_REPLICATION",
              "SET GLOBAL group_replication_bootstrap_group = OFF"};
    case GroupAction::kJoin:
      return {"SET GLOBAL group_replication_bootstrap_group = OFF", "START GROUP_REPLICATION"};
    case GroupAction::kRejoin:
    case GroupAction::kRestart:
      return {"SET GLOBAL group_replication_bootstrap_group = OFF", "STOP GROUP_REPLICATION", "START GROUP_REPLICATION"};
    case GroupAction::kSwitchPrimary:
      return {fmt::format("SELECT group_replication_set_as_primary({})", quoted(a.uuid))};
  }
  return {};
}

GroupFacts observeGroup(const GroupClient& c, const api::MySQL& my, const dbclient::ProbeTarget& base, const GroupWant& want) {
  return planGroup(observeAll(c, my, base, want.subject), my.topology ? my.topology->groupName : "", want.certDigest).facts;
}

GroupFacts manageGroup(const GroupClient& c, const api::MySQL& my, const dbclient::ProbeTarget& base, const GroupWant& want,
                       const core::Logger& log, const std::function<void(const GroupFacts&)>& observed) {
  GroupPlan p = planGroup(observeAll(c, my, base, want.subject), my.topology ? my.topology->groupName : "", want.certDigest);
  // Told at once, acting or not: the rest of a health check (the probe through the primary
  // Service, each pod's served certificate) can wait on a member that has just gone for seconds,
  // and the roles must not wait for it.
  if (observed) observed(p.facts);
  if (p.actions.empty()) return p.facts;
  std::string failed;
  for (const auto& a : p.actions) {
    const std::string pod = api::podName(my.name, a.ordinal);
    log.info("group replication: acting on a member",
             {{"namespace", my.namespace_}, {"name", my.name}, {"pod", pod}, {"action", kindName(a.kind)}, {"why", p.facts.message}});
    auto st = c.run(memberTarget(my, base, a.ordinal, kActTimeout), groupActionStatements(a, want.subject));
    if (a.kind == GroupAction::kBootstrap && !st) {
      // The flag must not stay on: a later START would make a second group.
      (void)c.run(memberTarget(my, base, a.ordinal, kActTimeout), {"SET GLOBAL group_replication_bootstrap_group = OFF"});
    }
    if (!st) {
      failed = fmt::format("{} of {} failed: {}", kindName(a.kind), pod, st.error().message);
      log.warn("group replication: an action failed", {{"namespace", my.namespace_}, {"name", my.name}, {"error", failed}});
      break;
    }
  }
  GroupFacts after = observeGroup(c, my, base, want);
  if (!failed.empty()) after.message += "; " + failed;
  return after;
}

}  // namespace mysqlop::community
