#pragma once
// Runs a pod plan's containers on the sandbox node (docs/design.md §7): the volumes are written under
// the node directory (claims persist per namespace/claim), and each container is a process in
// the pod's network namespace and in a mount namespace of its own whose root is its image's
// root filesystem (an overlay with a writable layer that is new at every start), with /proc,
// /sys, /dev and a fresh /run, its volumes at their mount paths, the pod's /etc/hosts and
// hostname. Built from the real tools (`ip netns exec`, `unshare`, `mount`) and sandbox-enter
// (pivot_root, user, capabilities), each exec'ing the next, so the pid returned is the
// program's own and SIGTERM reaches it. Needs root.
//
//   auto dirs = materialise(plan, nodeDir);
//   auto pid = startContainer(plan, plan.containers[0], dirs, {.netns = "sbx-…", .hostsFile = …,
//                             .containerDir = containerDir(nodeDir, uid, "mysql"), .enterProgram = …});
//   stopContainer(*pid, std::chrono::seconds(plan.terminationGracePeriodSeconds));

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/core/result.h"
#include "e2e/sandbox/kubelet/pod_plan.h"

namespace mysqlop::sandbox::kubelet {

// Volume name → host directory.
using VolumeDirs = std::map<std::string, std::string>;

// Writes the pod's volumes under <nodeDir>/pods/<uid>/volumes — Secret, ConfigMap and projected
// ones with the kubelet's atomic writer (atomic_writer.h), so calling it again with a new plan
// updates them in place for the running containers — and a claim's volume (claimDir).
core::Result<VolumeDirs> materialise(const PodPlan& plan, const std::string& nodeDir);
// A claim's volume: <nodeDir>/claims/<ns>/<claim>.<uid> (a claim made again under the same name
// gets a volume of its own, as a dynamically provisioned volume is).
std::string claimDir(const std::string& nodeDir, const std::string& ns, const std::string& claim, const std::string& uid);

struct ContainerEnv {
  std::string netns;      // the pod's network namespace
  std::string hostsFile;  // bind-mounted at /etc/hosts
  std::string resolvFile;  // bind-mounted at /etc/resolv.conf (kResolvConf)
  std::string logFile;    // stdout and stderr
  std::string containerDir;  // its writable layer and root mount point (containerDir())
  std::string enterProgram;  // the sandbox-enter binary
};

// What a container's /etc/resolv.conf says. The sandbox runs no cluster DNS: Services and pods
// resolve from the /etc/hosts the kubelet keeps; any other name fails at once (the query is
// refused on the pod's own loopback), as an NXDOMAIN from a cluster's DNS would, instead of
// waiting for the nameserver an image was built with — and no query leaves the pod.
inline constexpr std::string_view kResolvConf =
    "# Written by the sandbox kubelet: no cluster DNS here; names resolve from /etc/hosts.\n"
    "nameserver 127.0.0.1\n"
    "options timeout:1 attempts:1\n";

// A mount path as the container sees it, the image's symbolic links followed inside the image
// (`image` = its root filesystem) and never out of it: "/var/run/secrets" → "/run/secrets" on
// Debian. An error for a relative path or a loop.
core::Result<std::string> resolveInImage(const std::string& image, const std::string& path);

// <nodeDir>/pods/<uid>/containers/<name>: the container's writable layer, remade at each start.
std::string containerDir(const std::string& nodeDir, const std::string& uid, const std::string& container);
// The environment a process of the container gets (its program, an exec probe): the image's,
// then the container's, PATH defaulted as runtimes do, HOSTNAME.
std::vector<std::string> containerEnv(const PodPlan& plan, const ContainerPlan& c);

core::Result<pid_t> startContainer(const PodPlan& plan, const ContainerPlan& c, const VolumeDirs& dirs,
                                   const ContainerEnv& env);
// SIGTERM, then SIGKILL after `grace`; reaps it and kills what is left of its process group.
// Returns the exit status as waitpid reports it.
int stopContainer(pid_t pid, std::chrono::milliseconds grace);
// Kills what is left of an exited container's process group.
void reapGroup(pid_t pid);

}  // namespace mysqlop::sandbox::kubelet
