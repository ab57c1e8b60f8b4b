#pragma once
// What a cluster's controller-manager does for the sandbox (docs/design.md §7, issue 9): StatefulSets
// and Deployments become Pods (and PVCs), with the status kubectl and the operators read. The
// pure parts — names, revisions, the Pod and PVC a workload asks for, pod readiness, the next
// step of a rollout — are functions here; controllers.cpp applies them.
//
// StatefulSet: pods <sts>-<i> with hostname/subdomain, PVCs <claim>-<sts>-<i> from the
// volumeClaimTemplates (selector labels added, kept after the StatefulSet goes, as upstream's
// default Retain policy does); OrderedReady creates pod i only when 0..i-1 are Ready; Parallel
// creates them all; RollingUpdate replaces outdated pods from the highest ordinal down, one at a
// time, above the partition; OnDelete waits for the user to delete them.
// Deployment: pods <deploy>-<hash>-<suffix> labelled pod-template-hash; a rollout creates the new
// pods and deletes the old ones once the new are Ready.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mysqlop::sandbox::kubelet {

using Json = nlohmann::json;

inline constexpr const char* kRevisionLabel = "controller-revision-hash";
inline constexpr const char* kPodNameLabel = "statefulset.kubernetes.io/pod-name";
inline constexpr const char* kPodIndexLabel = "apps.kubernetes.io/pod-index";
inline constexpr const char* kTemplateHashLabel = "pod-template-hash";

// A short stable hash of a pod template (10 lowercase alphanumerics).
std::string templateHash(const Json& podTemplate);
bool podReady(const Json& pod);
// The ordinal of a StatefulSet pod ("db-3" of "db" → 3), or nullopt.
std::optional<int> ordinalOf(const std::string& stsName, const std::string& podName);

Json statefulSetPod(const Json& sts, int ordinal, const std::string& revision);
Json statefulSetClaim(const Json& sts, const Json& claimTemplate, int ordinal);
Json deploymentPod(const Json& deploy, const std::string& hash, const std::string& suffix);

struct Action {
  enum Kind { kNone, kCreatePod, kDeletePod } kind = kNone;
  int ordinal = -1;         // StatefulSet pods
  std::string podName;      // for deletions
};

// The next step for a StatefulSet given its pods (those it controls), or kNone when there is
// nothing to do right now. One step at a time, as upstream does for OrderedReady.
Action nextStatefulSetStep(const Json& sts, const std::vector<Json>& pods, const std::string& revision);
// The status a StatefulSet reports for these pods.
Json statefulSetStatus(const Json& sts, const std::vector<Json>& pods, const std::string& revision);

struct DeploymentPlan {
  int create = 0;                       // new-template pods to add
  std::vector<std::string> deletePods;  // old or surplus pods to delete now
};
DeploymentPlan planDeployment(const Json& deploy, const std::vector<Json>& pods, const std::string& hash);
Json deploymentStatus(const Json& deploy, const std::vector<Json>& pods, const std::string& hash);

}  // namespace mysqlop::sandbox::kubelet
