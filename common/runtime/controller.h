#pragma once
// A controller: a work queue of object keys fed by informers, and N workers calling the
// reconciler — never two on one key — with controller-runtime's result contract:
//   error               → requeue with per-key backoff (or after the error's Retry-After)
//   requeueAfter > 0    → forget failures, requeue after that long
//   requeue             → requeue with backoff
//   otherwise           → forget failures
// Sources: the primary kind (its own key), owned kinds (the key of their controller owner of
// the primary kind), and any kind through a mapper. Workers start once every watched informer
// has synced (a timeout is logged and leaves the controller not ready).
// Thread-safe; start/stop from one thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <stop_token>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/core/log.h"
#include "common/core/result.h"
#include "common/runtime/informer.h"
#include "common/runtime/work_queue.h"

namespace mysqlop::runtime {

class Metrics;

struct Request {
  std::string namespace_;
  std::string name;
  std::string key() const { return objectKey(namespace_, name); }
};

// A request for each key ("ns/name").
std::vector<Request> requestsFor(const std::set<std::string>& keys);

struct ReconcileResult {
  bool requeue = false;
  std::chrono::nanoseconds requeueAfter{0};
};

using ReconcileFn = std::function<core::Result<ReconcileResult>(const Request&, std::stop_token)>;

// The longest a server's Retry-After holds a failed key back.
inline constexpr std::chrono::seconds kMaxRetryAfter{300};

struct ControllerOptions {
  std::string name;
  int workers = 1;
  // How long to wait for the caches before saying so (a warning); the wait itself goes on until
  // they sync or the controller is stopped.
  std::chrono::seconds cacheSyncTimeout{120};
  Metrics* metrics = nullptr;
  core::Logger log = core::Logger::root();
};

class Controller {
 public:
  Controller(ControllerOptions opts, ReconcileFn reconcile);
  ~Controller();

  // Events of the primary kind enqueue the object's own key.
  void watchPrimary(Informer& inf);
  // Events of an owned kind enqueue the key of their controller owner of `ownerKind` in
  // `ownerGroup` (same namespace).
  void watchOwned(Informer& inf, const std::string& ownerGroup, const std::string& ownerKind);
  // Events of any kind enqueue what `map` returns.
  void watchMapped(Informer& inf, std::function<std::vector<Request>(const Json&)> map);

  void enqueue(const Request& r) { queue_.add(r.key()); }
  // Starts the workers after the watched informers sync; returns false if they did not sync in
  // time (the controller then stays stopped and not ready).
  bool start();
  // Stops taking work and waits for in-flight reconciles (bounded by `grace`).
  void stop(std::chrono::seconds grace = std::chrono::seconds{30});
  bool running() const { return running_.load(); }
  const std::string& name() const { return opts_.name; }
  WorkQueue& queue() { return queue_; }

 private:
  void worker(std::stop_token stop);
  void processOne(const std::string& key, std::stop_token stop);

  ControllerOptions opts_;
  ReconcileFn reconcile_;
  WorkQueue queue_;
  std::vector<Informer*> sources_;
  std::vector<std::jthread> workers_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> inFlight_{0};
};

}  // namespace mysqlop::runtime
