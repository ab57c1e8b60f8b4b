// A test program for leader election across processes: a Manager with leader election whose
// one controller stamps every ConfigMap labelled leader-test=yes with the annotation
// `reconciled-by: <id>`. JSON logs on stderr say when it leads and what it reconciles.
//
//   leader_helper --kubeconfig FILE --id NAME [--lease NAME] [--lease-duration S --renew-deadline S --retry S]
// Without --lease it leads under leader-helper-leader (the default name), which a candidate given
// --lease waits for (the former Lease).
#include <iostream>
#include <string>

#include "common/client/config.h"
#include "common/core/log.h"
#include "common/kube/object.h"
#include "common/runtime/manager.h"

using namespace mysqlop;

int main(int argc, char** argv) {
  std::string kubeconfig, id;
  runtime::ManagerOptions opts{.name = "leader-helper", .metricsBindAddress = "0", .healthBindAddress = "0",
                               .leaderElection = true, .leaderElectionNamespace = "default"};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--kubeconfig") kubeconfig = v;
    else if (a == "--id") id = v;
    else if (a == "--lease") opts.leaderElectionId = v;
    else if (a == "--lease-duration") opts.leaseDuration = std::chrono::seconds(std::stoi(v));
    else if (a == "--renew-deadline") opts.renewDeadline = std::chrono::seconds(std::stoi(v));
    else if (a == "--retry") opts.retryPeriod = std::chrono::seconds(std::stoi(v));
  }
  auto cfg = client::loadKubeconfig(kubeconfig);
  if (!cfg) {
    std::cerr << cfg.error().message << "\n";
    return 1;
  }
  core::Logger log = core::Logger::root().with("id", id);
  auto mgr = runtime::Manager::create(*cfg, opts, log);
  if (!mgr) {
    std::cerr << mgr.error().message << "\n";
    return 1;
  }
  runtime::Manager& m = **mgr;
  auto& cms = m.informer(kube::kConfigMaps, {.namespace_ = "default", .labelSelector = "leader-test=yes"});
  auto& c = m.controller({.name = "stamp"}, [&](const runtime::Request& r, std::stop_token) -> core::Result<runtime::ReconcileResult> {
    auto obj = cms.cache().get(r.key());
    if (!obj || kube::annotation(*obj, "reconciled-by") == id) return runtime::ReconcileResult{};
    log.info("reconciling", {{"configmap", r.key()}});
    auto st = m.client().patch(kube::kConfigMaps, r.namespace_, r.name, kube::PatchType::kMerge,
                               {{"metadata", {{"annotations", {{"reconciled-by", id}}}}}});
    if (!st) return st.error();
    return runtime::ReconcileResult{};
  });
  c.watchPrimary(cms);
  return m.run();
}
