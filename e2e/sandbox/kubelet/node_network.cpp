#include "e2e/sandbox/kubelet/node_network.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <sstream>

extern char** environ;

namespace mysqlop::sandbox::kubelet {

NodeNetwork::NodeNetwork(NodeNetworkOptions opts) : opts_(std::move(opts)) {
  // "10.77.0.0/24" → "10.77.0."
  const std::string net = opts_.cidr.substr(0, opts_.cidr.find('/'));
  prefix_ = net.substr(0, net.rfind('.') + 1);
}

std::string NodeNetwork::nodeAddress() const { return prefix_ + "1"; }

std::string NodeNetwork::namespaceName(const std::string& podKey) const { return "sbx-" + podKey.substr(0, 12); }

core::Result<std::string> NodeNetwork::run(const std::vector<std::string>& args) const {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(opts_.ipTool.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int pipefd[2];
  if (pipe(pipefd) != 0) return core::internal("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, opts_.ipTool.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  std::string out;
  std::array<char, 4096> buf{};
  ssize_t n = 0;
  while ((n = read(pipefd[0], buf.data(), buf.size())) > 0) out.append(buf.data(), static_cast<size_t>(n));
  close(pipefd[0]);
  if (rc != 0) return core::unavailable(fmt::format("cannot run {}: {}", opts_.ipTool, rc));
  int status = 0;
  waitpid(pid, &status, 0);
  std::string line = opts_.ipTool;
  for (const auto& a : args) line += " " + a;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return core::unavailable(fmt::format("`{}` failed: {}", line, out));
  }
  return out;
}

core::Result<bool> NodeNetwork::up() {
  // An existing bridge of ours (a crashed run) is reused.
  if (!run({"link", "show", opts_.bridge})) {
    if (auto r = run({"link", "add", opts_.bridge, "type", "bridge"}); !r) return r.error();
  }
  const std::string addr = nodeAddress() + "/" + opts_.cidr.substr(opts_.cidr.find('/') + 1);
  auto shown = run({"-4", "addr", "show", "dev", opts_.bridge});
  if (!shown) return shown.error();
  if (shown->find(nodeAddress() + "/") == std::string::npos) {
    if (auto r = run({"addr", "add", addr, "dev", opts_.bridge}); !r) return r.error();
  }
  if (auto r = run({"link", "set", opts_.bridge, "up"}); !r) return r.error();
  return true;
}

core::Result<bool> NodeNetwork::down() {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, _] : hosts_) keys.push_back(k);
  }
  for (const auto& k : keys) (void)removePod(k);
  if (run({"link", "show", opts_.bridge})) {
    if (auto r = run({"link", "del", opts_.bridge}); !r) return r.error();
  }
  return true;
}

core::Result<std::string> NodeNetwork::addPod(const std::string& podKey) {
  int host = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = hosts_.find(podKey); it != hosts_.end()) return prefix_ + std::to_string(it->second);
    // The next free address after the last one handed out, as CNI's host-local IPAM does: an
    // address is not reused at once, so no neighbour still holds the old pod's MAC for it (a
    // reused address stays unreachable from those pods until their ARP entries expire).
    for (int i = 1; i <= 253; ++i) {
      const int h = (lastHost_ - 2 + i) % 253 + 2;  // 2..254
      if (!used_.count(h)) {
        host = h;
        break;
      }
    }
    if (host == 0) return core::unavailable("no free pod address in " + opts_.cidr);
    used_.insert(host);
    lastHost_ = host;
    hosts_[podKey] = host;
  }
  const std::string ns = namespaceName(podKey), ip = prefix_ + std::to_string(host);
  const std::string veth = fmt::format("vsbx{}", host);
  const std::string mask = opts_.cidr.substr(opts_.cidr.find('/') + 1);
  const std::vector<std::vector<std::string>> steps = {
      {"netns", "add", ns},
      {"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
      {"link", "set", veth, "master", opts_.bridge, "up"},
      {"-n", ns, "addr", "add", ip + "/" + mask, "dev", "eth0"},
      {"-n", ns, "link", "set", "eth0", "up"},
      {"-n", ns, "link", "set", "lo", "up"},
      // No default route: a pod reaches the node and the other pods (the CIDR is on-link) and
      // nothing else, whatever the machine forwards — no pod traffic can leave the machine.
  };
  for (const auto& s : steps) {
    if (auto r = run(s); !r) {
      (void)removePod(podKey);
      return r.error();
    }
  }
  return ip;
}

core::Result<bool> NodeNetwork::removePodByName(const std::string& podKey) {
  const std::string ns = namespaceName(podKey);
  // The bridge end of the pod's veth, found through eth0's peer index ("eth0@if12"): deleted
  // first and synchronously — the kernel tears a namespace's interfaces down only later.
  if (auto link = run({"-n", ns, "-o", "link", "show", "eth0"})) {
    const auto at = link->find("@if");
    if (at != std::string::npos) {
      const std::string index = link->substr(at + 3, link->find_first_not_of("0123456789", at + 3) - at - 3);
      if (auto all = run({"-o", "link", "show"})) {
        std::istringstream lines(*all);
        for (std::string line; std::getline(lines, line);) {
          if (line.rfind(index + ": ", 0) != 0) continue;
          const auto start = index.size() + 2;
          const std::string name = line.substr(start, line.find_first_of("@:", start) - start);
          (void)run({"link", "del", name});
          break;
        }
      }
    }
  }
  auto r = run({"netns", "del", ns});
  if (!r) return r.error();
  return true;
}

core::Result<bool> NodeNetwork::removePod(const std::string& podKey) {
  int host = 0;
  {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(podKey);
    if (it == hosts_.end()) return false;
    host = it->second;
  }
  auto r = removePodByName(podKey);
  {
    std::lock_guard lock(mu_);
    hosts_.erase(podKey);
    used_.erase(host);
  }
  if (!r) return r.error();
  return true;
}

}  // namespace mysqlop::sandbox::kubelet
