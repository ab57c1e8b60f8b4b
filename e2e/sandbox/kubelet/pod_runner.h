#pragma once
// The sandbox kubelet's pod runner (docs/design.md §7): every Pod gets a network namespace and address
// on the node bridge, its volumes, and its containers as processes (container_runner.h); a
// supervisor thread restarts containers that exit (exponential backoff, 1 s → 5 min, as a
// kubelet's CrashLoopBackOff), runs readiness and liveness probes (exec inside the container,
// tcpSocket, httpGet), keeps the sandbox's /etc/hosts in step with Services and Pods, and the
// reconciler writes Pod status (phase, podIP, conditions, containerStatuses). Each container runs
// in its image's root filesystem from the node's image store; an image the store lacks leaves
// the container waiting (ErrImagePull, then ImagePullBackOff, looked for again 10 s → 5 min). A deleted Pod's
// containers get SIGTERM, then SIGKILL after the grace period; its namespace and volumes go
// (claims stay). While a pod runs, its Secret, ConfigMap and projected volumes follow their
// sources every syncFrequency, swapped atomically (atomic_writer.h); containers are not restarted.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <set>
#include <utility>

#include "common/core/log.h"
#include "common/runtime/manager.h"
#include "e2e/sandbox/kubelet/container_runner.h"
#include "e2e/sandbox/kubelet/node_network.h"
#include "e2e/sandbox/kubelet/pod_plan.h"

namespace mysqlop::sandbox::kubelet {

struct PodRunnerOptions {
  std::string nodeDir;
  NodeNetworkOptions network;
  std::string imageStore;    // the node's images (image_store.h)
  std::string enterProgram;  // sandbox-enter, which makes a container's image its root
  std::string apiServerPort;  // pods reach the API server at the node address and this port
  std::string caPem;          // the API server's CA, for the service-account volume
  std::chrono::milliseconds supervisePeriod{500};
  // How often a running pod's Secret, ConfigMap and projected volumes are brought in step with
  // their sources (the real kubelet's --sync-frequency, 1 min there; a few seconds here).
  std::chrono::milliseconds syncFrequency{2000};
};

class PodRunner {
 public:
  PodRunner(runtime::Manager& m, PodRunnerOptions opts, core::Logger log = core::Logger::root());
  ~PodRunner();
  // Brings the node network up and starts supervising; an error when the network cannot be made.
  core::Result<bool> start();
  // Stops every container and removes the node network (the sandbox going down).
  void shutdown();

 private:
  struct Container {
    pid_t pid = -1;
    int restarts = 0;
    bool ready = false;
    int lastExit = 0;
    int livenessFailures = 0;
    int pullFailures = 0;  // the image was not in the store this many times in a row
    std::chrono::steady_clock::time_point startedAt{}, restartAt{};
    std::string startedTime;  // RFC 3339, for status
  };
  struct Running {
    std::string uid;
    PodPlan plan;
    std::string ip;
    std::string token;  // the service account's, for the service-account volume
    VolumeDirs dirs;
    std::map<std::string, Container> containers;
  };

  core::Result<runtime::ReconcileResult> reconcile(const runtime::Request& r);
  core::Result<Running> launch(const runtime::Json& pod);
  Lookups lookups(const Running& r) const;
  // Re-plans the pod's volumes from the caches and rewrites those whose sources changed.
  void syncVolumes(Running& r, const runtime::Json& pod);
  void stopPod(Running& p);
  // Stops the pod running under `key` when `pod` (the cache's) is gone, being deleted or another
  // (a new uid), without holding mu_ through its grace period.
  void stopIfGone(const std::string& key, const runtime::ObjectPtr& pod);
  // A container whose image was not there: looks again (the store may have been filled since);
  // true when its plan now has the image. Requires mu_.
  bool pullAgain(Running& p, ContainerPlan& c);
  // What a kubelet adds to every container's environment: where the API server is.
  void addServiceEnv(ContainerPlan& c) const;
  void supervise(std::stop_token stop);
  bool probe(const Running& p, const ContainerPlan& c, const Container& state, const runtime::Json& probe);
  void writeHosts();
  void writeHostsLocked();  // requires mu_
  void reclaimLocked();     // requires mu_: removes the directories of deleted claims no pod uses
  runtime::Json statusOf(const Running& p) const;

  runtime::Manager& m_;
  PodRunnerOptions opts_;
  core::Logger log_;
  NodeNetwork net_;
  runtime::Informer* pods_ = nullptr;
  runtime::Informer* secrets_ = nullptr;
  runtime::Informer* configMaps_ = nullptr;
  runtime::Informer* services_ = nullptr;
  runtime::Informer* claims_ = nullptr;
  runtime::Controller* controller_ = nullptr;
  std::mutex mu_;
  std::map<std::string, Running> running_;  // pod key → state; guarded by mu_
  // Pods being stopped (outside mu_: a pod's grace period holds no other pod up), by uid: their
  // claims are still in use. Guarded by mu_.
  std::map<std::string, PodPlan> stopping_;
  struct ReleasedClaim {
    std::string ns, name, uid;
    auto operator<=>(const ReleasedClaim&) const = default;
  };
  std::set<ReleasedClaim> releasedClaims_;  // deleted PVCs; guarded by mu_
  std::jthread supervisor_;
};

}  // namespace mysqlop::sandbox::kubelet
