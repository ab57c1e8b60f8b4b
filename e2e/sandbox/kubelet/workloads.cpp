#include "e2e/sandbox/kubelet/workloads.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace mysqlop::sandbox::kubelet {
namespace {

Json ownerRef(const Json& owner, const char* kind) {
  const Json& md = owner.at("metadata");
  return {{"apiVersion", "apps/v1"}, {"kind", kind}, {"name", md.value("name", "")},
          {"uid", md.value("uid", "")}, {"controller", true}, {"blockOwnerDeletion", true}};
}

int64_t desiredReplicas(const Json& workload) {
  const Json spec = workload.value("spec", Json::object());
  return spec.contains("replicas") && spec["replicas"].is_number_integer() ? spec["replicas"].get<int64_t>() : 1;
}

std::string label(const Json& obj, const char* key) {
  return obj.value("metadata", Json::object()).value("labels", Json::object()).value(key, "");
}

std::string nameOf(const Json& obj) { return obj.value("metadata", Json::object()).value("name", ""); }

bool deleting(const Json& obj) { return obj.value("metadata", Json::object()).contains("deletionTimestamp"); }

// Pod metadata and spec from a template, with the workload's labels and owner.
Json podFromTemplate(const Json& workload, const char* kind, const std::string& name) {
  const Json tmpl = workload.value("spec", Json::object()).value("template", Json::object());
  Json md = tmpl.value("metadata", Json::object());
  md.erase("creationTimestamp");
  md["name"] = name;
  md["namespace"] = workload.at("metadata").value("namespace", "");
  md["ownerReferences"] = Json::array({ownerRef(workload, kind)});
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", md}, {"spec", tmpl.value("spec", Json::object())}};
}

}  // namespace

std::string templateHash(const Json& podTemplate) {
  // FNV-1a over the canonical JSON (nlohmann sorts object keys), in base 36.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : podTemplate.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out.push_back(kDigits[h % 36]);
    h /= 36;
  }
  return out;
}

bool podReady(const Json& pod) {
  for (const auto& c : pod.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

std::optional<int> ordinalOf(const std::string& stsName, const std::string& podName) {
  if (podName.size() <= stsName.size() + 1 || podName.compare(0, stsName.size() + 1, stsName + "-") != 0) return std::nullopt;
  const std::string digits = podName.substr(stsName.size() + 1);
  if (digits.empty() || digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  return std::stoi(digits);
}

Json statefulSetPod(const Json& sts, int ordinal, const std::string& revision) {
  const std::string name = fmt::format("{}-{}", nameOf(sts), ordinal);
  Json pod = podFromTemplate(sts, "StatefulSet", name);
  Json& labels = pod["metadata"]["labels"];
  if (!labels.is_object()) labels = Json::object();
  labels[kPodNameLabel] = name;
  labels[kPodIndexLabel] = std::to_string(ordinal);
  labels[kRevisionLabel] = revision;
  Json& spec = pod["spec"];
  spec["hostname"] = name;
  const std::string service = sts.value("spec", Json::object()).value("serviceName", "");
  if (!service.empty()) spec["subdomain"] = service;
  // Each claim template becomes this pod's PVC, mounted where the template's volume would be.
  for (const auto& vct : sts.value("spec", Json::object()).value("volumeClaimTemplates", Json::array())) {
    const std::string claim = vct.value("metadata", Json::object()).value("name", "");
    Json volumes = spec.value("volumes", Json::array());
    volumes.erase(std::remove_if(volumes.begin(), volumes.end(), [&](const Json& v) { return v.value("name", "") == claim; }),
                  volumes.end());
    volumes.push_back({{"name", claim}, {"persistentVolumeClaim", {{"claimName", fmt::format("{}-{}", claim, name)}}}});
    spec["volumes"] = volumes;
  }
  return pod;
}

Json statefulSetClaim(const Json& sts, const Json& claimTemplate, int ordinal) {
  Json md = claimTemplate.value("metadata", Json::object());
  const std::string claim = md.value("name", "");
  md["name"] = fmt::format("{}-{}-{}", claim, nameOf(sts), ordinal);
  md["namespace"] = sts.at("metadata").value("namespace", "");
  Json labels = md.value("labels", Json::object());
  const Json selector = sts.value("spec", Json::object()).value("selector", Json::object()).value("matchLabels", Json::object());
  for (const auto& [k, v] : selector.items()) labels[k] = v;
  md["labels"] = labels;
  Json spec = claimTemplate.value("spec", Json::object());
  return {{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}, {"metadata", md}, {"spec", spec}};
}

Json deploymentPod(const Json& deploy, const std::string& hash, const std::string& suffix) {
  Json pod = podFromTemplate(deploy, "Deployment", fmt::format("{}-{}-{}", nameOf(deploy), hash, suffix));
  Json& labels = pod["metadata"]["labels"];
  if (!labels.is_object()) labels = Json::object();
  labels[kTemplateHashLabel] = hash;
  return pod;
}

Action nextStatefulSetStep(const Json& sts, const std::vector<Json>& pods, const std::string& revision) {
  const Json spec = sts.value("spec", Json::object());
  const int64_t replicas = desiredReplicas(sts);
  const bool parallel = spec.value("podManagementPolicy", "OrderedReady") == "Parallel";
  const Json strategy = spec.value("updateStrategy", Json::object());
  const bool rolling = strategy.value("type", "RollingUpdate") == "RollingUpdate";
  const int64_t partition = strategy.value("rollingUpdate", Json::object()).value("partition", int64_t{0});
  std::vector<const Json*> byOrdinal(static_cast<size_t>(std::max<int64_t>(replicas, 0)), nullptr);
  std::vector<std::pair<int, const Json*>> surplus;
  for (const auto& p : pods) {
    auto o = ordinalOf(nameOf(sts), nameOf(p));
    if (!o) continue;
    if (*o < replicas) {
      byOrdinal[static_cast<size_t>(*o)] = &p;
    } else {
      surplus.emplace_back(*o, &p);
    }
  }
  // Missing pods, in order (OrderedReady: only once every lower ordinal is Ready).
  for (int i = 0; i < replicas; ++i) {
    const Json* p = byOrdinal[static_cast<size_t>(i)];
    if (!p) return {Action::kCreatePod, i, ""};
    if (!parallel && (!podReady(*p) || deleting(*p))) break;
  }
  // Scale down from the top.
  if (!surplus.empty()) {
    auto top = std::max_element(surplus.begin(), surplus.end());
    if (!deleting(*top->second)) return {Action::kDeletePod, top->first, nameOf(*top->second)};
    return {};
  }
  // Rolling update: the highest outdated ordinal above the partition, once all are Ready.
  if (rolling) {
    for (const Json* p : byOrdinal) {
      if (!p || !podReady(*p) || deleting(*p)) return {};
    }
    for (int i = static_cast<int>(replicas) - 1; i >= partition && i >= 0; --i) {
      const Json* p = byOrdinal[static_cast<size_t>(i)];
      if (label(*p, kRevisionLabel) != revision) return {Action::kDeletePod, i, nameOf(*p)};
    }
  }
  return {};
}

Json statefulSetStatus(const Json& sts, const std::vector<Json>& pods, const std::string& revision) {
  int64_t replicas = 0, ready = 0, updated = 0, current = 0;
  std::string currentRevision = sts.value("status", Json::object()).value("currentRevision", revision);
  for (const auto& p : pods) {
    if (!ordinalOf(nameOf(sts), nameOf(p))) continue;
    ++replicas;
    if (podReady(p)) ++ready;
    if (label(p, kRevisionLabel) == revision) ++updated;
  }
  // Once every pod runs the update revision, it becomes the current one.
  if (updated == replicas && replicas == desiredReplicas(sts)) currentRevision = revision;
  for (const auto& p : pods) {
    if (ordinalOf(nameOf(sts), nameOf(p)) && label(p, kRevisionLabel) == currentRevision) ++current;
  }
  return {{"observedGeneration", sts.at("metadata").value("generation", int64_t{1})},
          {"replicas", replicas},
          {"readyReplicas", ready},
          {"availableReplicas", ready},
          {"currentReplicas", current},
          {"updatedReplicas", updated},
          {"currentRevision", currentRevision},
          {"updateRevision", revision},
          {"collisionCount", 0}};
}

DeploymentPlan planDeployment(const Json& deploy, const std::vector<Json>& pods, const std::string& hash) {
  DeploymentPlan plan;
  const int64_t replicas = desiredReplicas(deploy);
  std::vector<const Json*> fresh, old;
  for (const auto& p : pods) {
    if (deleting(p)) continue;
    (label(p, kTemplateHashLabel) == hash ? fresh : old).push_back(&p);
  }
  if (static_cast<int64_t>(fresh.size()) < replicas) plan.create = static_cast<int>(replicas - static_cast<int64_t>(fresh.size()));
  for (size_t i = static_cast<size_t>(std::max<int64_t>(replicas, 0)); i < fresh.size(); ++i) plan.deletePods.push_back(nameOf(*fresh[i]));
  const auto readyFresh = std::count_if(fresh.begin(), fresh.end(), [](const Json* p) { return podReady(*p); });
  if (readyFresh >= replicas) {
    for (const Json* p : old) plan.deletePods.push_back(nameOf(*p));
  }
  return plan;
}

Json deploymentStatus(const Json& deploy, const std::vector<Json>& pods, const std::string& hash) {
  const int64_t want = desiredReplicas(deploy);
  int64_t replicas = 0, ready = 0, updated = 0, available = 0;
  for (const auto& p : pods) {
    if (deleting(p)) continue;
    ++replicas;
    const bool isNew = label(p, kTemplateHashLabel) == hash;
    if (isNew) ++updated;
    if (podReady(p)) {
      ++ready;
      if (isNew) ++available;
    }
  }
  const bool done = updated == want && replicas == want && available == want;
  Json conditions = Json::array(
      {{{"type", "Available"}, {"status", available >= want ? "True" : "False"},
        {"reason", available >= want ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"},
        {"message", available >= want ? "Deployment has minimum availability." : "Deployment does not have minimum availability."}},
       {{"type", "Progressing"}, {"status", "True"}, {"reason", done ? "NewReplicaSetAvailable" : "ReplicaSetUpdated"},
        {"message", done ? "The new pods are available." : "The rollout is in progress."}}});
  Json s = {{"observedGeneration", deploy.at("metadata").value("generation", int64_t{1})},
            {"replicas", replicas},
            {"updatedReplicas", updated},
            {"readyReplicas", ready},
            {"availableReplicas", available},
            {"conditions", conditions}};
  if (want > available) s["unavailableReplicas"] = want - available;
  return s;
}

}  // namespace mysqlop::sandbox::kubelet
