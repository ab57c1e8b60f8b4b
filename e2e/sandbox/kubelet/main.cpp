// sandbox-kubelet: the sandbox's controller-manager and kubelet (DESIGN §7, issue 9). Today it
// runs the StatefulSet and Deployment controllers (Pods, PVCs, status); the pod runner that
// starts the Pods' programs in their own namespaces is still to come, so Pods stay Pending
// unless something else reports their status.
#include "common/client/config.h"
#include "common/runtime/manager.h"
#include "common/runtime/operator_flags.h"
#include "e2e/sandbox/kubelet/controllers.h"

using namespace mysqlop;

int main(int argc, char** argv) {
  CLI::App app{"sandbox-kubelet runs the sandbox's StatefulSet and Deployment controllers.", "sandbox-kubelet"};
  runtime::OperatorFlags flags;
  flags.metricsBindAddress = "0";
  flags.healthProbeBindAddress = "0";
  runtime::addOperatorFlags(app, flags);
  if (auto rc = runtime::parseFlags(app, flags, argc, argv, "sandbox-kubelet " MYSQLOP_VERSION)) return *rc;
  core::Logger log = core::Logger::root().with("component", "sandbox-kubelet");
  auto cfg = client::loadConfig(flags.kubeconfig);
  if (!cfg) {
    log.error("cannot load the cluster configuration", {{"error", cfg.error().message}});
    return 1;
  }
  auto created = runtime::Manager::create(*cfg, runtime::managerOptions(flags, "sandbox-kubelet"), log);
  if (!created) {
    log.error("cannot start", {{"error", created.error().message}});
    return 1;
  }
  sandbox::kubelet::WorkloadControllers controllers(**created, log);
  return (*created)->run();
}
