#include "e2e/sandbox/kubelet/controllers.h"

#include <openssl/rand.h>

#include "common/kube/object.h"
#include "common/runtime/writes.h"
#include "e2e/sandbox/kubelet/workloads.h"

namespace mysqlop::sandbox::kubelet {

using runtime::ReconcileResult;

namespace {

// How soon a StatefulSet looks again when a name it needs is still held by an object on its way out.
constexpr std::chrono::milliseconds kRetryBusyName{500};

std::vector<Json> owned(const runtime::ObjectCache& pods, const Json& owner) {
  std::vector<Json> out;
  for (const auto& p : pods.byOwner(kube::uid(owner))) out.push_back(*p);
  return out;
}

// Five characters as upstream's generated suffixes use (no vowels, no look-alikes).
std::string randomSuffix() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char bytes[5];
  RAND_bytes(bytes, sizeof bytes);
  std::string out;
  for (unsigned char b : bytes) out.push_back(kAlphabet[b % (sizeof kAlphabet - 1)]);
  return out;
}

}  // namespace

WorkloadControllers::WorkloadControllers(runtime::Manager& m, core::Logger log) : m_(m), log_(std::move(log)) {
  statefulSets_ = &m_.informer(kube::kStatefulSets);
  deployments_ = &m_.informer(kube::kDeployments);
  pods_ = &m_.informer(kube::kPods);
  claims_ = &m_.informer(kube::kPersistentVolumeClaims);
  auto& sts = m_.controller({.name = "statefulset"}, [this](const runtime::Request& r, std::stop_token) {
    return reconcileStatefulSet(r);
  });
  auto& dep = m_.controller({.name = "deployment"}, [this](const runtime::Request& r, std::stop_token) {
    return reconcileDeployment(r);
  });
  sts.watchPrimary(*statefulSets_);
  sts.watchOwned(*pods_, "apps", "StatefulSet");
  dep.watchPrimary(*deployments_);
  dep.watchOwned(*pods_, "apps", "Deployment");
}

core::Result<bool> WorkloadControllers::writeStatus(const kube::ResourceType& rt, const Json& obj, const Json& status) {
  if (runtime::satisfies(obj.value("status", Json::object()), status)) return false;
  return runtime::updateStatus(m_.client(), rt, kube::namespaceOf(obj), kube::name(obj), [&](Json& latest) {
    if (runtime::satisfies(latest.value("status", Json::object()), status)) return false;
    for (const auto& [k, v] : status.items()) latest["status"][k] = v;
    return true;
  });
}

core::Result<ReconcileResult> WorkloadControllers::reconcileStatefulSet(const runtime::Request& r) {
  auto sts = statefulSets_->cache().get(r.key());
  if (!sts || kube::isBeingDeleted(*sts)) return ReconcileResult{};  // the garbage collector takes the pods
  auto& cli = m_.client();
  const std::string revision = kube::name(*sts) + "-" + templateHash(sts->value("spec", Json::object()).value("template", Json::object()));
  const std::vector<Json> pods = owned(pods_->cache(), *sts);
  const Action step = nextStatefulSetStep(*sts, pods, revision);
  if (step.kind == Action::kCreatePod) {
    for (const auto& vct : sts->value("spec", Json::object()).value("volumeClaimTemplates", Json::array())) {
      Json claim = statefulSetClaim(*sts, vct, step.ordinal);
      if (auto cached = claims_->cache().get(r.namespace_, kube::name(claim))) {
        // A claim on its way out is not this pod's volume: wait for it to go, then make a new one.
        if (kube::isBeingDeleted(*cached)) return ReconcileResult{.requeueAfter = kRetryBusyName};
        continue;
      }
      auto made = cli.create(kube::kPersistentVolumeClaims, r.namespace_, claim);
      if (!made && !made.error().is(core::ErrorCode::kAlreadyExists)) return made.error();
      if (made) {
        // A provisioner would bind it; the sandbox's volumes are directories, so it is bound now.
        Json bound = *made;
        bound["status"] = {{"phase", "Bound"},
                           {"accessModes", claim["spec"].value("accessModes", Json::array({"ReadWriteOnce"}))},
                           {"capacity", {{"storage", claim["spec"].value("resources", Json::object())
                                                        .value("requests", Json::object()).value("storage", "1Gi")}}}};
        auto st = cli.updateStatus(kube::kPersistentVolumeClaims, bound);
        if (!st) return st.error();
      }
    }
    auto made = cli.create(kube::kPods, r.namespace_, statefulSetPod(*sts, step.ordinal, revision));
    if (!made && made.error().is(core::ErrorCode::kAlreadyExists)) {
      // A pod of that name that is not ours — a deleted StatefulSet's, still terminating. Its
      // deletion is no event of this StatefulSet's, so look again (as upstream's requeue does).
      return ReconcileResult{.requeueAfter = kRetryBusyName};
    }
    if (!made) return made.error();
    log_.info("created pod", {{"namespace", r.namespace_}, {"statefulset", r.name}, {"ordinal", step.ordinal}});
  } else if (step.kind == Action::kDeletePod) {
    auto gone = cli.remove(kube::kPods, r.namespace_, step.podName);
    if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
    log_.info("deleted pod", {{"namespace", r.namespace_}, {"pod", step.podName}});
  }
  auto w = writeStatus(kube::kStatefulSets, *sts, statefulSetStatus(*sts, pods, revision));
  if (!w) return w.error();
  return ReconcileResult{};
}

core::Result<ReconcileResult> WorkloadControllers::reconcileDeployment(const runtime::Request& r) {
  auto dep = deployments_->cache().get(r.key());
  if (!dep || kube::isBeingDeleted(*dep)) return ReconcileResult{};
  auto& cli = m_.client();
  const std::string hash = templateHash(dep->value("spec", Json::object()).value("template", Json::object()));
  const std::vector<Json> pods = owned(pods_->cache(), *dep);
  const DeploymentPlan plan = planDeployment(*dep, pods, hash);
  for (int i = 0; i < plan.create; ++i) {
    auto made = cli.create(kube::kPods, r.namespace_, deploymentPod(*dep, hash, randomSuffix()));
    if (!made && !made.error().is(core::ErrorCode::kAlreadyExists)) return made.error();
  }
  for (const auto& name : plan.deletePods) {
    auto gone = cli.remove(kube::kPods, r.namespace_, name);
    if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
  }
  auto w = writeStatus(kube::kDeployments, *dep, deploymentStatus(*dep, pods, hash));
  if (!w) return w.error();
  return ReconcileResult{};
}

}  // namespace mysqlop::sandbox::kubelet
