#pragma once
// The sandbox node's network (docs/design.md §7): a bridge with the node's address (where the API
// server listens for pods) and, per pod, a network namespace joined to the bridge by a veth pair,
// with the next free address of the pod CIDR after the last one handed out and no default route.
// Built with iproute2's `ip` (the real tool); everything it creates it can also remove, so `down`
// leaves nothing behind. Needs root (CAP_NET_ADMIN).
//
//   NodeNetwork net({.bridge = "sbx0", .cidr = "10.77.0.0/24"});
//   net.up();                         // bridge 10.77.0.1/24
//   auto ip = net.addPod("3f1c…");    // netns sbx-3f1c…, eth0 10.77.0.2/24, no default route
//   net.removePod("3f1c…");  net.down();
//
// Thread-safe.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace mysqlop::sandbox::kubelet {

struct NodeNetworkOptions {
  std::string bridge = "sbx0";
  std::string cidr = "10.77.0.0/24";  // a /24: .1 is the node, .2–.254 are pods
  std::string ipTool = "ip";
};

class NodeNetwork {
 public:
  explicit NodeNetwork(NodeNetworkOptions opts);

  core::Result<bool> up();
  core::Result<bool> down();
  std::string nodeAddress() const;  // "10.77.0.1"
  // The pod's network namespace name ("sbx-" + the first 12 characters of the key).
  std::string namespaceName(const std::string& podKey) const;
  // Creates the pod's namespace and link; returns its address. Idempotent per key.
  core::Result<std::string> addPod(const std::string& podKey);
  core::Result<bool> removePod(const std::string& podKey);
  // Removes a pod's namespace (and with it its veth pair) without this object's table: the
  // clean-up after a crashed kubelet.
  core::Result<bool> removePodByName(const std::string& podKey);

 private:
  core::Result<std::string> run(const std::vector<std::string>& args) const;

  NodeNetworkOptions opts_;
  std::string prefix_;  // "10.77.0."
  mutable std::mutex mu_;
  std::map<std::string, int> hosts_;  // pod key → host number; guarded by mu_
  std::set<int> used_;                // guarded by mu_
  int lastHost_ = 1;                  // the last host number handed out; guarded by mu_
};

}  // namespace mysqlop::sandbox::kubelet
