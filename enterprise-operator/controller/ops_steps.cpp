#include "enterprise-operator/controller/ops_steps.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/cert_manager.h"
#include "common/api/conditions.h"
#include "common/api/naming.h"
#include "common/api/ops_request.h"
#include "common/kube/conditions.h"
#include "common/kube/object.h"

namespace mysqlop::enterprise::ops {

std::optional<std::string> waitsFor(const Json& request, const std::vector<runtime::ObjectPtr>& sameNamespace) {
  const Json* db = kube::find(request, {"spec", "databaseRef", "name"});
  if (!db || !db->is_string()) return std::nullopt;
  auto order = [](const Json& r) {
    return std::make_pair(r.value("metadata", Json::object()).value("creationTimestamp", ""), kube::name(r));
  };
  const auto mine = order(request);
  std::optional<std::pair<std::string, std::string>> first;
  for (const auto& other : sameNamespace) {
    if (!other || kube::name(*other) == kube::name(request)) continue;
    const Json* otherDb = kube::find(*other, {"spec", "databaseRef", "name"});
    if (!otherDb || *otherDb != *db) continue;
    if (api::isFinished(other->value("status", Json::object()).value("phase", ""))) continue;
    const auto theirs = order(*other);
    if (theirs < mine && (!first || theirs < *first)) first = theirs;
  }
  if (!first) return std::nullopt;
  return first->second;
}

std::optional<std::string> workloadNotStaged(const Json& mysql, const Json* sts) {
  const Json status = mysql.value("status", Json::object());
  const int64_t generation = kube::generation(mysql);
  if (status.value("observedGeneration", int64_t{0}) < generation) {
    return fmt::format("waiting for the community operator to take in generation {} of the MySQL", generation);
  }
  if (auto ready = kube::findCondition(status.value("conditions", Json::array()), api::kCondReady);
      ready && ready->reason == api::kReasonWaitingForTLSSecrets) {
    return "waiting for the community operator to see the TLS Secrets";
  }
  if (!sts) return "waiting for the StatefulSet";
  const Json stsStatus = sts->value("status", Json::object());
  if (stsStatus.value("observedGeneration", int64_t{0}) < kube::generation(*sts) || stsStatus.value("updateRevision", "").empty()) {
    return "waiting for the StatefulSet controller to take in the new pod template";
  }
  return std::nullopt;
}

std::optional<std::string> certificatesNotSynced(const Json& mysql, const std::map<std::string, runtime::ObjectPtr>& certificates,
                                                 const std::map<std::string, int64_t>& revisionsBefore) {
  const std::string uid = kube::uid(mysql);
  const bool tls = mysql.value("spec", Json::object()).contains("tls");
  if (!tls) {
    for (const auto& [name, cert] : certificates) {
      if (cert && kube::isOwnedBy(*cert, uid)) return fmt::format("waiting for Certificate {} to be removed", name);
    }
    return std::nullopt;
  }
  auto verdict = kube::findStatusCondition(mysql, api::kCondTLSCertificatesReady);
  if (!verdict || verdict->status != kube::kConditionTrue || verdict->observedGeneration < kube::generation(mysql)) {
    return fmt::format("waiting for the certificates of generation {} of the MySQL: {}", kube::generation(mysql),
                       verdict ? verdict->message : std::string("not reported yet"));
  }
  for (const auto& alias : api::tlsAliases()) {
    const std::string name = api::certificateName(kube::name(mysql), alias);
    auto it = certificates.find(name);
    if (it == certificates.end() || !it->second) return fmt::format("waiting for Certificate {}", name);
    const Json& cert = *it->second;
    if (auto issuing = kube::findStatusCondition(cert, "Issuing"); issuing && issuing->status == kube::kConditionTrue) {
      return fmt::format("waiting for cert-manager to issue Certificate {} ({})", name, issuing->reason);
    }
    auto st = api::parseCertificateStatus(cert);
    if (!st || !st->ready.ready) {
      return fmt::format("waiting for Certificate {} to be Ready{}", name, st ? ": " + st->ready.message : std::string());
    }
    if (auto before = revisionsBefore.find(name); before != revisionsBefore.end() && st->revision <= before->second) {
      return fmt::format("waiting for cert-manager to re-issue Certificate {} (revision {})", name, st->revision);
    }
  }
  return std::nullopt;
}

std::vector<Pod> databasePods(const std::vector<Json>& pods, const std::string& db) {
  std::vector<Pod> out;
  const std::string prefix = api::statefulSetName(db) + "-";
  for (const auto& p : pods) {
    const std::string name = kube::name(p);
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    if (rest.empty() || !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }) || rest.size() > 6) continue;
    Pod pod;
    pod.name = name;
    pod.ordinal = std::stoi(rest);
    pod.deleting = kube::isBeingDeleted(p);
    pod.revision = kube::label(p, "controller-revision-hash").value_or("");
    pod.created = p.value("metadata", Json::object()).value("creationTimestamp", "");
    for (const auto& c : p.value("status", Json::object()).value("conditions", Json::array())) {
      if (c.value("type", "") == "Ready") pod.ready = c.value("status", "") == "True";
    }
    out.push_back(std::move(pod));
  }
  std::sort(out.begin(), out.end(), [](const Pod& a, const Pod& b) { return a.ordinal < b.ordinal; });
  return out;
}

RestartDecision nextRestart(const std::vector<Pod>& pods, int64_t replicas, const std::function<bool(const Pod&)>& outdated) {
  RestartDecision d;
  for (const auto& p : pods) {
    if (p.ordinal < replicas && outdated(p)) ++d.outdated;
  }
  for (int64_t i = 0; i < replicas; ++i) {
    auto it = std::find_if(pods.begin(), pods.end(), [&](const Pod& p) { return p.ordinal == i; });
    if (it == pods.end()) return {RestartDecision::Kind::kWait, "", fmt::format("waiting for pod {} to be created", i), d.outdated};
    if (it->deleting) return {RestartDecision::Kind::kWait, "", fmt::format("waiting for pod {} to terminate", it->name), d.outdated};
    if (!it->ready) return {RestartDecision::Kind::kWait, "", fmt::format("waiting for pod {} to be Ready", it->name), d.outdated};
  }
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (it->ordinal < replicas && outdated(*it)) return {RestartDecision::Kind::kRestart, it->name, "", d.outdated};
  }
  return d;
}

}  // namespace mysqlop::enterprise::ops
