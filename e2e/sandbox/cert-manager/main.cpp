// sandbox-cert-manager: the sandbox's stand-in for cert-manager (selfSigned and ca issuers,
// Certificate issuance and renewal), a controller on common/runtime. See e2e/sandbox/README.md.
#include <iostream>

#include "common/client/config.h"
#include "common/runtime/manager.h"
#include "common/runtime/operator_flags.h"
#include "e2e/sandbox/cert-manager/apiserver_clock.h"
#include "e2e/sandbox/cert-manager/controllers.h"

using namespace mysqlop;

int main(int argc, char** argv) {
  CLI::App app{"sandbox-cert-manager issues cert-manager.io/v1 Certificates from selfSigned and ca issuers into "
               "kubernetes.io/tls Secrets and renews them, taking the time from the sandbox apiserver.",
               "sandbox-cert-manager"};
  runtime::OperatorFlags flags;
  flags.kubeApiQps = 0;  // the sandbox's own components are not rate-limited (like a kubelet's own, higher limits)
  flags.metricsBindAddress = "0";
  flags.healthProbeBindAddress = "0";
  runtime::addOperatorFlags(app, flags);
  sandbox::certmanager::ControllerOptions opts;
  app.add_option("--cluster-resource-namespace", opts.clusterResourceNamespace,
                 "Namespace of the Secrets that ClusterIssuers read")
      ->capture_default_str();
  app.add_flag("--enable-certificate-owner-ref", opts.certificateOwnerRef,
               "Give each issued Secret an ownerReference to its Certificate (upstream's flag; off by default)");
  int64_t backoff = 3600;
  app.add_option("--issuance-backoff", backoff, "Seconds before the first retry of a failed issuance (doubles)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  std::string clockSource = "apiserver";
  app.add_option("--clock", clockSource, "Where \"now\" comes from")
      ->check(CLI::IsMember({"apiserver", "system"}))
      ->capture_default_str();
  if (auto rc = runtime::parseFlags(app, flags, argc, argv, "sandbox-cert-manager " MYSQLOP_VERSION)) return *rc;
  opts.backoffBase = std::chrono::seconds(backoff);
  opts.watchNamespace = flags.watchNamespace;

  core::Logger log = core::Logger::root().with("component", "sandbox-cert-manager");
  auto created = runtime::startManager(flags, "sandbox-cert-manager", log);
  if (!created) return 1;
  runtime::Manager& m = *created;
  sandbox::certmanager::CertManagerControllers* controllers = nullptr;
  sandbox::certmanager::ApiServerClock apiClock(m.client(), std::chrono::milliseconds(500), [&controllers] {
    if (controllers) controllers->resync();
  }, log);
  const core::Clock* clock = &core::systemClock();
  if (clockSource == "apiserver") {
    if (auto started = apiClock.start(); !started) {
      log.error("cannot read the sandbox apiserver's clock (use --clock=system on another API server)",
                {{"error", started.error().message}});
      return 1;
    }
    clock = &apiClock;
  }
  sandbox::certmanager::CertManagerControllers c(m, *clock, opts, log);
  controllers = &c;
  int rc = m.run();
  apiClock.stop();
  return rc;
}
