#include "community-operator/controller/status.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/kube/conditions.h"

namespace mysqlop::community {
namespace {

using kube::Condition;

bool isStatus(const Json& conds, std::string_view type, std::string_view status) {
  auto c = kube::findCondition(conds, type);
  return c && c->status == status;
}

}  // namespace

std::string computePhase(const Json& conds) {
  if (isStatus(conds, api::kCondHalted, kube::kConditionTrue)) return std::string(api::kPhaseHalted);
  if (isStatus(conds, api::kCondProvisioned, kube::kConditionTrue)) {
    if (isStatus(conds, api::kCondAcceptingConnection, kube::kConditionFalse)) return std::string(api::kPhaseNotReady);
    if (isStatus(conds, api::kCondReplicaReady, kube::kConditionFalse) || isStatus(conds, api::kCondReady, kube::kConditionFalse)) {
      return std::string(api::kPhaseCritical);
    }
    if (isStatus(conds, api::kCondReady, kube::kConditionTrue)) return std::string(api::kPhaseReady);
  }
  if (isStatus(conds, api::kCondProvisioningStarted, kube::kConditionTrue)) return std::string(api::kPhaseProvisioning);
  return "";
}

namespace {

// The conditions being computed for one status.
struct Conditions {
  Json conds;
  const StatusFacts& f;
  core::WallTime now;
  std::string db;

  void set(std::string_view type, std::string_view st, std::string_view reason, std::string message) {
    kube::setCondition(conds,
                       Condition{std::string(type), std::string(st), std::string(reason), std::move(message), f.generation, ""},
                       now);
  }
  void remove(std::string_view type) { kube::removeCondition(conds, type); }
};

void setHalted(Conditions& c) {
  c.set(api::kCondHalted, kube::kConditionTrue, api::kReasonHalted,
        "MySQL " + c.db + " is halted: its workload is removed, its data and secrets are kept");
  c.set(api::kCondAcceptingConnection, kube::kConditionFalse, api::kReasonNotAcceptingConnection, "MySQL " + c.db + " is halted");
  c.set(api::kCondReady, kube::kConditionFalse, api::kReasonDatabaseHalted, "MySQL " + c.db + " is halted");
  c.remove(api::kCondReplicaReady);
}

// Whether a health check has said something (Ready's reason is one of its verdicts).
bool wasChecked(const Json& conds) {
  auto ready = kube::findCondition(conds, api::kCondReady);
  return ready &&
         (ready->reason == api::kReasonReadinessCheckSucceeded || ready->reason == api::kReasonReadinessCheckFailed);
}

void setPending(Conditions& c) {
  c.set(api::kCondReady, kube::kConditionFalse, api::kReasonReadinessCheckPending,
        "The StatefulSet of " + c.db + " exists; waiting for the first health check");
}

// Ready (and AcceptingConnection) from what stops provisioning, else from the health checker.
void setReady(Conditions& c) {
  const StatusFacts& f = c.f;
  if (f.blocker) {
    c.set(api::kCondReady, kube::kConditionFalse, f.blocker->reason, f.blocker->message);
  } else if (f.statefulSet && f.health && f.health->noReadyPod && (f.workloadWritten || !wasChecked(c.conds))) {
    setPending(c);
  } else if (f.statefulSet && f.health && f.health->ok) {
    c.set(api::kCondAcceptingConnection, kube::kConditionTrue, api::kReasonAcceptingConnection,
          "The MySQL server " + c.db + " accepts connections");
    c.set(api::kCondReady, kube::kConditionTrue, api::kReasonReadinessCheckSucceeded, f.health->message);
  } else if (f.statefulSet && f.health) {
    c.set(api::kCondAcceptingConnection, kube::kConditionFalse, api::kReasonNotAcceptingConnection, f.health->message);
    c.set(api::kCondReady, kube::kConditionFalse, api::kReasonReadinessCheckFailed, f.health->message);
  } else if (f.statefulSet) {
    // No verdict since this process started (a restart, a new leader): what an earlier check
    // wrote stands until the next one, so a restart costs no write.
    if (f.workloadWritten || !wasChecked(c.conds)) setPending(c);
  }
}

void setRunning(Conditions& c) {
  c.remove(api::kCondHalted);
  if (const auto& r = c.f.statefulSet) {
    if (r->ready >= r->desired) {
      c.set(api::kCondReplicaReady, kube::kConditionTrue, api::kReasonAllReplicasReady,
            fmt::format("All desired replicas are ready: {}/{}", r->ready, r->desired));
    } else {
      c.set(api::kCondReplicaReady, kube::kConditionFalse, api::kReasonSomeReplicasNotReady,
            fmt::format("{} of {} replicas are ready", r->ready, r->desired));
    }
  }
  setReady(c);
  if (isStatus(c.conds, api::kCondReplicaReady, kube::kConditionTrue) &&
      isStatus(c.conds, api::kCondAcceptingConnection, kube::kConditionTrue) &&
      isStatus(c.conds, api::kCondReady, kube::kConditionTrue)) {
    c.set(api::kCondProvisioned, kube::kConditionTrue, api::kReasonProvisioned,
          "The KubeDB operator has successfully provisioned MySQL: " + c.db);
  }
}

// status.tls and ServedCertificatesCurrent from the health checker's view of each pod.
void setServed(Conditions& c, Json& status) {
  const StatusFacts& f = c.f;
  if (!f.tls) return;
  if (!*f.tls) {
    status.erase("tls");
    c.remove(api::kCondServedCertificatesCurrent);
    c.remove(api::kCondServedCertificatesExpiring);
    return;
  }
  if (!f.health || !f.health->served || f.halted) return;  // nothing new seen: keep what was said
  const auto& served = *f.health->served;
  Json pods = Json::array();
  std::string earliest;
  const ServedCertificate* stale = nullptr;
  for (const auto& s : served) {
    Json p = {{"pod", s.pod}, {"matchesSecret", s.matchesSecret}};
    if (!s.serialNumber.empty()) p["serialNumber"] = s.serialNumber;
    if (!s.notAfter.empty()) p["notAfter"] = s.notAfter;
    if (!s.issuer.empty()) p["issuer"] = s.issuer;
    if (!s.lastReloadTime.empty()) p["lastReloadTime"] = s.lastReloadTime;
    if (!s.reason.empty()) p["reason"] = s.reason;
    if (!s.message.empty()) p["message"] = s.message;
    if (!s.expiry.empty()) p["expiry"] = s.expiry;
    if (!s.caSha256.empty()) p["caSha256"] = s.caSha256;
    pods.push_back(std::move(p));
    if (!s.notAfter.empty() && (earliest.empty() || s.notAfter < earliest)) earliest = s.notAfter;
    if (!s.matchesSecret && !stale) stale = &s;
  }
  Json tls = status.value("tls", Json::object());  // trustedCAs: setTrusted's
  if (!tls.is_object()) tls = Json::object();
  tls["servedCertificates"] = pods;
  tls.erase("earliestServedNotAfter");
  if (!earliest.empty()) tls["earliestServedNotAfter"] = earliest;
  status["tls"] = std::move(tls);
  const ServedCertificate* expiring = nullptr;
  for (const auto& s : served) {
    if (!s.expiry.empty() && (!expiring || s.notAfter < expiring->notAfter)) expiring = &s;
  }
  if (expiring) {
    c.set(api::kCondServedCertificatesExpiring, kube::kConditionTrue, expiring->expiry,
          fmt::format("pod {} serves a certificate (serial {}) that {} {}{}", expiring->pod, expiring->serialNumber,
                      expiring->expiry == api::kReasonExpired ? "expired at" : "expires at", expiring->notAfter,
                      expiring->matchesSecret ? "; its Secret holds no newer one: is cert-manager renewing it?" : ""));
  } else if (!served.empty()) {
    c.set(api::kCondServedCertificatesExpiring, kube::kConditionFalse, api::kReasonNotExpiring,
          "no pod serves a certificate close to its expiry");
  }
  if (stale) {
    c.set(api::kCondServedCertificatesCurrent, kube::kConditionFalse, stale->reason,
          fmt::format("pod {}: {}", stale->pod, stale->message));
  } else if (!served.empty()) {
    c.set(api::kCondServedCertificatesCurrent, kube::kConditionTrue, api::kReasonServedCurrent,
          fmt::format("every pod serves the certificate of its server Secret (serial {}, until {})", served[0].serialNumber,
                      served[0].notAfter));
  }
}

// CARotationInProgress from the trust bundle: what each CA is there for, in a few words.
void setRotation(Conditions& c) {
  const StatusFacts& f = c.f;
  if (f.tls && !*f.tls) {
    c.remove(api::kCondCARotationInProgress);
    return;
  }
  if (!f.tls || !f.trustedCas || f.trustedCas->empty()) return;
  const auto& cas = *f.trustedCas;
  std::vector<std::string> parts;
  for (const auto& ca : cas) {
    std::string what = ca.usedBy.empty() ? "used by nothing" : "used by " + fmt::format("{}", fmt::join(ca.usedBy, ", "));
    if (!ca.leavesAfter.empty()) what += ", leaves after " + ca.leavesAfter;
    if (!ca.loadedByPods) what += ", not loaded by every pod yet";
    parts.push_back(fmt::format("sha256:{} ({})", ca.sha256.substr(0, 16), what));
  }
  const std::string bundle = f.name + "-ca-bundle";
  if (cas.size() > 1) {
    c.set(api::kCondCARotationInProgress, kube::kConditionTrue, api::kReasonSeveralCAsTrusted,
          fmt::format("trust bundle {} holds {} CAs: {}", bundle, cas.size(), fmt::join(parts, "; ")));
  } else {
    c.set(api::kCondCARotationInProgress, kube::kConditionFalse, api::kReasonOneCATrusted,
          fmt::format("trust bundle {} holds one CA: {}", bundle, parts[0]));
  }
}

// status.tls.trustedCAs: the trust bundle's CAs and what uses each.
void setTrusted(const StatusFacts& f, Json& status) {
  if (!f.tls || !*f.tls || !f.trustedCas) return;
  Json cas = Json::array();
  for (const auto& ca : *f.trustedCas) {
    Json c = {{"sha256", ca.sha256}, {"usedBy", ca.usedBy}, {"loadedByPods", ca.loadedByPods}};
    if (!ca.subject.empty()) c["subject"] = ca.subject;
    if (!ca.notAfter.empty()) c["notAfter"] = ca.notAfter;
    if (!ca.unusedSince.empty()) c["unusedSince"] = ca.unusedSince;
    if (!ca.leavesAfter.empty()) c["leavesAfter"] = ca.leavesAfter;
    cas.push_back(std::move(c));
  }
  if (!status.contains("tls") || !status["tls"].is_object()) status["tls"] = Json::object();
  status["tls"]["trustedCAs"] = std::move(cas);
}

// PodTemplateOutdated: said while a pod runs an older template, gone once none does.
void setTemplate(Conditions& c) {
  const StatusFacts& f = c.f;
  if (f.halted) {
    c.remove(api::kCondPodTemplateOutdated);
    return;
  }
  if (!f.outdatedPods) return;  // not known now: what was said stands
  if (f.outdatedPods->empty()) {
    c.remove(api::kCondPodTemplateOutdated);
    return;
  }
  std::string pods;
  for (const auto& p : *f.outdatedPods) pods += (pods.empty() ? "" : "; ") + p.pod + " (" + p.differs + ")";
  c.set(api::kCondPodTemplateOutdated, kube::kConditionTrue, api::kReasonRestartRequired,
        fmt::format("pods run an older template than StatefulSet {}: {}; a MySQLOpsRequest restarts them one at a time "
                    "(type Restart, or a ReconfigureTLS that changes server arguments)",
                    c.db, pods));
}

// A group's members (status.group) and GroupReplicationOnline, from the last check that asked them.
void setGroup(Conditions& c, Json& status) {
  const StatusFacts& f = c.f;
  if (f.halted) {
    status.erase("group");
    c.remove(api::kCondGroupReplication);
    return;
  }
  if (!f.health) return;  // not asked yet (by this process): what was said stands
  if (!f.health->group) {
    status.erase("group");
    c.remove(api::kCondGroupReplication);
    return;
  }
  const GroupFacts& g = *f.health->group;
  Json members = Json::array();
  for (const auto& m : g.members) {
    Json j = {{"pod", m.pod}, {"state", m.state}};
    if (!m.role.empty()) j["role"] = m.role;
    if (!m.groupChannelSerial.empty()) j["groupChannelSerial"] = m.groupChannelSerial;
    members.push_back(std::move(j));
  }
  status["group"] = {{"primary", g.primary}, {"online", g.online}, {"majority", g.majority}, {"members", members}};
  const bool all = g.reason == api::kReasonGroupOnline;
  c.set(api::kCondGroupReplication, all ? kube::kConditionTrue : kube::kConditionFalse, g.reason, g.message);
}

}  // namespace

Json desiredStatus(const Json& current, const StatusFacts& f, core::WallTime now) {
  Json status = current.is_object() ? current : Json::object();
  Conditions c{status.value("conditions", Json::array()), f, now, f.ns + "/" + f.name};
  if (!c.conds.is_array()) c.conds = Json::array();
  c.set(api::kCondProvisioningStarted, kube::kConditionTrue, api::kReasonProvisioningStarted,
        "The KubeDB operator has started the provisioning of MySQL: " + c.db);
  if (f.halted && !f.blocker) {
    setHalted(c);
  } else {
    setRunning(c);
  }
  setServed(c, status);
  setTrusted(c.f, status);
  setRotation(c);
  setTemplate(c);
  setGroup(c, status);
  status["conditions"] = c.conds;
  status["phase"] = computePhase(c.conds);
  status["observedGeneration"] = f.generation;
  return status;
}

}  // namespace mysqlop::community
