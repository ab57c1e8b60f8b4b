// sandbox-kubelet: the sandbox's controller-manager and kubelet (DESIGN §7, issue 9). Today it
// runs the StatefulSet and Deployment controllers (Pods, PVCs, status); the pod runner that
// starts the Pods' programs in their own namespaces is still to come, so Pods stay Pending
// unless something else reports their status.
#include "common/client/config.h"
#include "common/runtime/manager.h"
#include "common/runtime/operator_flags.h"
#include "e2e/sandbox/kubelet/controllers.h"
#include "e2e/sandbox/kubelet/node_network.h"

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
