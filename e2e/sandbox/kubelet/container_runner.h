#pragma once
// Runs a pod plan's containers on the sandbox node (DESIGN §7): the volumes are written under
// the node directory (claims persist per namespace/claim), and each container is a process in
// the pod's network namespace and in a mount namespace of its own, where its volumes appear at
// their mount paths, /etc/hosts is the sandbox's, /run is fresh and the hostname is the pod's.
// Built from the real tools (`ip netns exec`, `unshare`, `mount`), each exec'ing the next, so the
// pid returned is the program's own and SIGTERM reaches it. Needs root.
//
//   auto dirs = materialise(plan, nodeDir);
//   auto pid = startContainer(plan, plan.containers[0], dirs, {.netns = "sbx-…", .hostsFile = …});
//   stopContainer(*pid, std::chrono::seconds(plan.terminationGracePeriodSeconds));

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>

#include "common/core/result.h"
#include "e2e/sandbox/kubelet/pod_plan.h"

namespace mysqlop::sandbox::kubelet {

// Volume name → host directory.
using VolumeDirs = std::map<std::string, std::string>;

// Writes the pod's volumes under <nodeDir>/pods/<uid>/volumes — Secret, ConfigMap and projected
// ones with the kubelet's atomic writer (atomic_writer.h), so calling it again with a new plan
// updates them in place for the running containers — and <nodeDir>/claims/<ns>/<claim>.
core::Result<VolumeDirs> materialise(const PodPlan& plan, const std::string& nodeDir);

struct ContainerEnv {
  std::string netns;      // the pod's network namespace
  std::string hostsFile;  // bind-mounted at /etc/hosts
  std::string logFile;    // stdout and stderr
};

// Where a container finds its image's commands (ContainerPlan::pathCommands): a directory of
// its fresh /run.
inline constexpr const char* kImageBin = "/run/.sandbox-bin";
// "PATH=…" for a process of the container (its program, an exec probe): the image's commands
// first, then the machine's.
std::string containerPath(const ContainerPlan& c);

core::Result<pid_t> startContainer(const PodPlan& plan, const ContainerPlan& c, const VolumeDirs& dirs,
                                   const ContainerEnv& env);
// SIGTERM, then SIGKILL after `grace`; reaps it and kills what is left of its process group.
// Returns the exit status as waitpid reports it.
int stopContainer(pid_t pid, std::chrono::milliseconds grace);
// Kills what is left of an exited container's process group.
void reapGroup(pid_t pid);

}  // namespace mysqlop::sandbox::kubelet
