#pragma once
// The manager wires an operator process together: the REST client (metrics per request),
// shared informers, controllers, the event recorder, leader election, and an HTTP server for
// /healthz and /readyz (caches synced, leader or standby, program checks) and /metrics
// (Prometheus text; over HTTPS for authorized callers only with metricsSecure, as
// controller-runtime's secure metrics). run() blocks until SIGTERM/SIGINT or stop(): it stops taking work, lets
// in-flight reconciles finish (30 s bound), releases the lease and returns 0. Losing the lease
// ends the process (exit 1), as controller-runtime does.
//
//   auto mgr = Manager::create(cfg, {.name = "community-operator", .leaderElection = true, ...});
//   auto& mysqls = (*mgr)->informer(kMySQLs);
//   auto& c = (*mgr)->controller({.name = "mysql", .workers = 2}, reconcile);
//   c.watchPrimary(mysqls);
//   return (*mgr)->run();
//
// create() and the registration calls from main; run() once.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/client/rest_client.h"
#include "common/core/log.h"
#include "common/runtime/controller.h"
#include "common/runtime/event_recorder.h"
#include "common/runtime/informer.h"
#include "common/runtime/leader_election.h"
#include "common/runtime/metrics.h"
#include "common/runtime/metrics_auth.h"
#include "common/runtime/serving_cert.h"

namespace httplib {
class Server;
}

namespace mysqlop::runtime {

struct ManagerOptions {
  std::string name = "operator";           // component name: events, logs, lease identity prefix
  std::string version = "0.1.0";           // with name, the User-Agent of every request
  std::string metricsBindAddress = ":8080";  // "0" disables; ":0" picks a port
  // HTTPS, and only for callers the API server authenticates and RBAC allows `get` on the path
  // (metrics_auth.h); the certificate from metricsCertDir (tls.crt, tls.key; re-read when they
  // change) or, when that is empty, self-signed (serving_cert.h). False: plain HTTP, anyone.
  bool metricsSecure = false;
  std::string metricsCertDir;
  std::string healthBindAddress = ":8081";
  bool leaderElection = false;
  std::string leaderElectionNamespace;  // default: the in-cluster namespace, else "default"
  std::string leaderElectionId;         // the Lease name (default: <name>-leader)
  // When leaderElectionId is not the default: the default name is the former Lease (an older
  // version led under it), whose holder must let go before this one leads (LeaderElectionConfig).
  std::chrono::seconds leaseDuration{15};
  std::chrono::seconds renewDeadline{10};
  std::chrono::seconds retryPeriod{2};
  std::chrono::seconds gracefulShutdown{30};
  // Exit the process when the lease is lost (tests turn this off and watch `lostLease()`).
  bool exitOnLostLease = true;
  // The client's rate limit; qps ≤ 0: none (the operators' flags default to 50/100).
  double qps = 0;
  int burst = 30;
};

class Manager {
 public:
  // Blocks SIGTERM/SIGINT in the calling thread (call before starting threads) so run() can
  // take them synchronously.
  static core::Result<std::unique_ptr<Manager>> create(const client::RestConfig& cfg, ManagerOptions opts,
                                                       core::Logger log = core::Logger::root());
  ~Manager();

  client::RestClient& client() { return *client_; }
  Metrics& metrics() { return metrics_; }
  EventRecorder& recorder() { return *recorder_; }
  const std::string& identity() const { return identity_; }

  // One informer per (kind, namespace, selectors), shared by every controller that asks.
  Informer& informer(const kube::ResourceType& type, InformerOptions opts = {});
  Controller& controller(ControllerOptions opts, ReconcileFn reconcile);
  // A readiness check: nullopt when ready, else why not. /readyz (unauthenticated) names a
  // failing check only; why goes to the log when it changes.
  void addReadyCheck(std::string name, std::function<std::optional<std::string>()> check);

  // Starts everything and blocks until a signal or stop(); returns the process exit code.
  int run();
  void stop();

  bool isLeader() const;
  bool lostLease() const { return lostLease_.load(); }
  int healthPort() const { return healthPort_.load(); }
  int metricsPort() const { return metricsPort_.load(); }
  // The readiness verdict: empty when ready, else each failing check with why.
  std::vector<std::string> notReady() const;
  // What /readyz answers (status, body): "ok", or "not ready: " and the failing checks' names
  // (informers, controllers, or a check's name) — never why: a cluster's ID or a licence's
  // trouble is no business of whoever can reach the probe port. Logs why when it changes.
  std::pair<int, std::string> readyz();

 private:
  Manager(std::unique_ptr<client::RestClient> cli, std::unique_ptr<client::RestClient> reviewCli, ManagerOptions opts,
          core::Logger log, std::unique_ptr<ServingCertificate> metricsCert);
  void startServers();
  void stopServers();
  void startControllers();

  ManagerOptions opts_;
  std::mutex readyLogMu_;
  std::string readyLogged_;  // guarded by readyLogMu_: the verdict last logged
  core::Logger log_;
  Metrics metrics_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<client::RestClient> reviewClient_;  // the metrics endpoint's reviews only
  std::unique_ptr<EventRecorder> recorder_;
  std::string identity_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;
  std::shared_ptr<std::mutex> listGate_ = std::make_shared<std::mutex>();  // its informers list a page at a time
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::vector<std::pair<std::string, std::function<std::optional<std::string>()>>> readyChecks_;
  std::unique_ptr<LeaderElector> elector_;
  std::unique_ptr<ServingCertificate> metricsCert_;  // with metricsSecure
  std::unique_ptr<MetricsAuthorizer> metricsAuth_;   // with metricsSecure
  std::unique_ptr<httplib::Server> health_, metricsServer_;
  std::thread healthThread_, metricsThread_;
  std::atomic<int> healthPort_{0}, metricsPort_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> lostLease_{false};
  std::atomic<bool> controllersStarted_{false};
  std::mutex stopMu_;
  std::condition_variable stopCv_;
  std::mutex starterMu_;
  std::thread controllerStarter_;  // guarded by starterMu_ (set on the elector's thread)
  void joinStarter();
};

}  // namespace mysqlop::runtime
