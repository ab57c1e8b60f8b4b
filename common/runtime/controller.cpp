#include "common/runtime/controller.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fmt/format.h>
#include <openssl/rand.h>

#include "common/kube/object.h"
#include "common/runtime/metrics.h"

namespace mysqlop::runtime {

std::vector<Request> requestsFor(const std::set<std::string>& keys) {
  std::vector<Request> out;
  for (const auto& k : keys) {
    auto [ns, name] = splitKey(k);
    out.push_back({ns, name});
  }
  return out;
}
namespace {

std::string reconcileId() {
  unsigned char b[8];
  RAND_bytes(b, sizeof b);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

}  // namespace

Controller::Controller(ControllerOptions opts, ReconcileFn reconcile)
    : opts_(std::move(opts)),
      reconcile_(std::move(reconcile)),
      queue_(WorkQueueOptions{.name = opts_.name, .metrics = opts_.metrics}) {
  opts_.log = opts_.log.with("controller", opts_.name);
}

Controller::~Controller() { stop(std::chrono::seconds{0}); }

void Controller::watchPrimary(Informer& inf) {
  sources_.push_back(&inf);
  auto enqueue = [this](const ObjectPtr& o) { queue_.add(objectKey(*o)); };
  inf.addHandler({enqueue, [this](const ObjectPtr&, const ObjectPtr& o) { queue_.add(objectKey(*o)); }, enqueue});
}

void Controller::watchOwned(Informer& inf, const std::string& ownerGroup, const std::string& ownerKind) {
  sources_.push_back(&inf);
  auto enqueueOwner = [this, ownerGroup, ownerKind](const ObjectPtr& o) {
    auto owner = kube::controllerOf(*o);
    if (!owner || owner->kind != ownerKind) return;
    if (kube::GroupVersion::parse(owner->apiVersion).group != ownerGroup) return;
    queue_.add(objectKey(kube::namespaceOf(*o), owner->name));
  };
  inf.addHandler({enqueueOwner,
                  [enqueueOwner](const ObjectPtr& old, const ObjectPtr& o) {
                    enqueueOwner(old);  // the owner may have changed
                    enqueueOwner(o);
                  },
                  enqueueOwner});
}

void Controller::watchMapped(Informer& inf, std::function<std::vector<Request>(const Json&)> map) {
  sources_.push_back(&inf);
  auto enqueueMapped = [this, map](const ObjectPtr& o) {
    for (const auto& r : map(*o)) queue_.add(r.key());
  };
  inf.addHandler({enqueueMapped, [enqueueMapped](const ObjectPtr&, const ObjectPtr& o) { enqueueMapped(o); },
                  enqueueMapped});
}

bool Controller::start() {
  if (running_.load()) return true;
  // The informers list with backoff for as long as it takes (an API server that is down, a CRD
  // not installed yet): wait for them however long that is, saying so every cacheSyncTimeout,
  // and give up only when stopped. Readiness reports the unsynced informers meanwhile.
  auto nextWarning = std::chrono::steady_clock::now() + opts_.cacheSyncTimeout;
  while (true) {
    std::vector<std::string> waiting;
    Informer* first = nullptr;
    for (Informer* inf : sources_) {
      if (inf->synced()) continue;
      waiting.push_back(inf->type().qualifiedResource());
      if (!first) first = inf;
    }
    if (!first) break;
    if (stopping_.load()) return false;
    first->waitForSync(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() >= nextWarning) {
      opts_.log.warn("still waiting for caches to sync: the API server may be unavailable, or a resource not installed "
                     "yet (its CRD); retrying",
                     {{"kinds", fmt::format("{}", fmt::join(waiting, ", "))}, {"afterSeconds", opts_.cacheSyncTimeout.count()}});
      nextWarning += opts_.cacheSyncTimeout;
    }
  }
  running_ = true;
  opts_.log.info("starting workers", {{"workers", opts_.workers}});
  for (int i = 0; i < opts_.workers; ++i) {
    workers_.emplace_back([this](std::stop_token st) { worker(st); });
  }
  return true;
}

void Controller::stop(std::chrono::seconds grace) {
  stopping_ = true;
  queue_.shutDown();
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (inFlight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& w : workers_) w.request_stop();  // reconcilers see their stop token
  workers_.clear();                           // joins
  if (running_.exchange(false)) opts_.log.info("stopped workers");
}

void Controller::worker(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto key = queue_.get();
    if (!key) return;
    ++inFlight_;
    processOne(*key, stop);
    queue_.done(*key);
    --inFlight_;
  }
}

void Controller::processOne(const std::string& key, std::stop_token stop) {
  auto [ns, name] = splitKey(key);
  core::Logger log = opts_.log.with("namespace", ns).with("name", name).with("reconcileID", reconcileId());
  auto start = std::chrono::steady_clock::now();
  core::Result<ReconcileResult> r = core::internal("not run");
  try {
    r = reconcile_(Request{ns, name}, stop);
  } catch (const std::exception& e) {
    // A reconciler must not throw; if one does, it is a bug we log and retry, not a crash.
    r = core::internal(std::string("reconciler threw: ") + e.what());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string result;
  if (!r) {
    result = "error";
    const core::Error& e = r.error();
    // A server's Retry-After is a floor over the key's own backoff, never a shortcut past it
    // (Retry-After: 0 must not spin), and capped (a huge value must not park the key for days).
    queue_.addRateLimited(key, e.retryAfter ? std::min<std::chrono::nanoseconds>(*e.retryAfter, kMaxRetryAfter)
                                            : std::chrono::nanoseconds{0});
    // A conflict is the normal outcome of racing a cache or another writer: retried, not alarming.
    log.log(e.is(core::ErrorCode::kConflict) ? core::LogLevel::kInfo : core::LogLevel::kError,
            e.is(core::ErrorCode::kConflict) ? "reconcile conflicted; requeued" : "reconcile failed",
            {{"error", e.toString()}, {"retries", queue_.failures(key)}});
  } else if (r->requeueAfter.count() > 0) {
    result = "requeue_after";
    queue_.forget(key);
    queue_.addAfter(key, r->requeueAfter);
  } else if (r->requeue) {
    result = "requeue";
    queue_.addRateLimited(key);
  } else {
    result = "success";
    queue_.forget(key);
  }
  if (opts_.metrics) opts_.metrics->reconciled(opts_.name, result, seconds);
  log.debug("reconciled", {{"result", result}, {"seconds", seconds}});
}

}  // namespace mysqlop::runtime
