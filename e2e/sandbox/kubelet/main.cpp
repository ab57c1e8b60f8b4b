// sandbox-kubelet: the sandbox's controller-manager and kubelet (docs/design.md §7): the StatefulSet and
// Deployment controllers (Pods, PVCs, status) and, with --run-pods (root), the pod runner that
// starts each Pod's containers as processes in the Pod's own network and mount namespaces on a
// bridge, with its volumes, probes, restarts and status. Without --run-pods, Pods stay Pending
// unless something else reports their status.
#include "common/client/config.h"
#include "common/runtime/manager.h"
#include "common/runtime/operator_flags.h"
#include "e2e/sandbox/kubelet/controllers.h"
#include "e2e/sandbox/kubelet/node_network.h"
#include "e2e/sandbox/kubelet/pod_runner.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include <iostream>

using namespace mysqlop;

namespace {

// `sandbox-kubelet net up|add KEY|remove KEY|down`: the node network by hand (and the clean-up
// after a crash).
int netCommand(int argc, char** argv) {
  CLI::App app{"Set up or tear down the sandbox node's network (needs root).", "sandbox-kubelet net"};
  sandbox::kubelet::NodeNetworkOptions opts;
  std::string action, key;
  app.add_option("action", action, "up, add, remove or down")->required()->check(CLI::IsMember({"up", "add", "remove", "down"}));
  app.add_option("key", key, "The pod key (add, remove)");
  app.add_option("--bridge", opts.bridge, "Bridge name")->capture_default_str();
  app.add_option("--cidr", opts.cidr, "Pod network (a /24)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  sandbox::kubelet::NodeNetwork net(opts);
  core::Result<std::string> r = std::string();
  if (action == "up") {
    auto u = net.up();
    r = u ? core::Result<std::string>(net.nodeAddress()) : core::Result<std::string>(u.error());
  } else if (action == "add") {
    r = net.addPod(key);
  } else if (action == "remove") {
    // A fresh process has no table: remove by the names it would have used.
    auto d = net.removePodByName(key);
    r = d ? core::Result<std::string>(std::string("removed")) : core::Result<std::string>(d.error());
  } else {
    auto d = net.down();
    r = d ? core::Result<std::string>(std::string("down")) : core::Result<std::string>(d.error());
  }
  if (!r) {
    std::cerr << "sandbox-kubelet net " << action << ": " << r.error().message << "\n";
    return 1;
  }
  std::cout << *r << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "net") return netCommand(argc - 1, argv + 1);
  CLI::App app{"sandbox-kubelet runs the sandbox's StatefulSet and Deployment controllers.", "sandbox-kubelet"};
  runtime::OperatorFlags flags;
  flags.kubeApiQps = 0;  // the sandbox's own components are not rate-limited (like a kubelet's own, higher limits)
  flags.metricsBindAddress = "0";
  flags.healthProbeBindAddress = "0";
  runtime::addOperatorFlags(app, flags);
  bool runPods = false;
  sandbox::kubelet::PodRunnerOptions pr;
  app.add_flag("--run-pods", runPods, "Also run the Pods (needs root): network namespaces on a bridge, containers as processes");
  app.add_option("--node-dir", pr.nodeDir, "Where pod volumes, claims and logs live")->default_val("/var/lib/mysqlop-sandbox/node");
  app.add_option("--bridge", pr.network.bridge, "The node bridge")->capture_default_str();
  app.add_option("--pod-cidr", pr.network.cidr, "The pod network (a /24; .1 is the node)")->capture_default_str();
  double syncSeconds = 2;
  app.add_option("--sync-frequency", syncSeconds,
                 "Seconds between syncs of a running pod's Secret, ConfigMap and projected volumes with their sources")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--image-store", pr.imageStore, "The node's image store (filled by e2e/sandbox/images/build)")
      ->default_val("/var/lib/mysqlop-sandbox/images");
  if (auto rc = runtime::parseFlags(app, flags, argc, argv, "sandbox-kubelet " MYSQLOP_VERSION)) return *rc;
  // sandbox-enter is installed beside this binary.
  std::error_code ec;
  pr.enterProgram = (std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "sandbox-enter").string();
  core::Logger log = core::Logger::root().with("component", "sandbox-kubelet");
  client::RestConfig cfg;
  auto created = runtime::startManager(flags, "sandbox-kubelet", log, &cfg);
  if (!created) return 1;
  sandbox::kubelet::WorkloadControllers controllers(*created, log);
  std::unique_ptr<sandbox::kubelet::PodRunner> runner;
  if (runPods) {
    if (geteuid() != 0) {
      log.error("--run-pods needs root: pods get their own network and mount namespaces");
      return 1;
    }
    // Pods reach the API server at the node address, on the port the kubeconfig names.
    const std::string server = cfg.server;
    pr.apiServerPort = server.substr(server.rfind(':') + 1);
    while (!pr.apiServerPort.empty() && !std::isdigit(static_cast<unsigned char>(pr.apiServerPort.back()))) pr.apiServerPort.pop_back();
    pr.caPem = cfg.caPem;
    pr.syncFrequency = std::chrono::milliseconds(static_cast<int64_t>(syncSeconds * 1000));
    runner = std::make_unique<sandbox::kubelet::PodRunner>(*created, pr, log);
    if (auto started = runner->start(); !started) {
      log.error("cannot set up the node network", {{"error", started.error().message}});
      return 1;
    }
  }
  int rc = created->run();
  if (runner) runner->shutdown();
  return rc;
}
