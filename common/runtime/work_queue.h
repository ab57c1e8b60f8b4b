#pragma once
// A work queue with client-go's guarantees: a key is queued at most once; a key being
// processed is never handed to a second worker — if it is added meanwhile it is queued again
// once, when done() is called; per-key exponential backoff (5 ms → 1000 s) for failures,
// reset by forget(); delayed adds (RequeueAfter); shutdown that lets workers drain.
//
//   auto key = q.get();            // blocks; nullopt once shut down
//   bool ok = reconcile(*key);
//   ok ? q.forget(*key) : q.addRateLimited(*key);
//   q.done(*key);
//
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/core/backoff.h"
#include "common/core/token_bucket.h"
#include "common/core/clock.h"

namespace mysqlop::runtime {

class Metrics;

struct WorkQueueOptions {
  std::string name = "queue";
  core::BackoffPolicy backoff{std::chrono::milliseconds{5}, std::chrono::seconds{1000}, 2.0, 0.0, {}};
  Metrics* metrics = nullptr;  // optional
  // The clock delays (addAfter, backoff) are measured on; nullptr: the system's. With another
  // clock (a test's FakeClock), get() re-reads it every few milliseconds while it waits, so
  // advancing it releases what is due.
  const core::Clock* clock = nullptr;
  // The overall bucket for retries (addRateLimited) of all keys: qps ≤ 0 turns it off.
  double retryQps = 10;
  int retryBurst = 100;
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions opts = {});
  ~WorkQueue();

  void add(const std::string& key);
  // Adds `key` once `delay` has passed (the earliest pending time wins).
  void addAfter(const std::string& key, std::chrono::nanoseconds delay);
  // Adds after the key's next backoff delay — and the queue's overall retry bucket, and not
  // before `atLeast` (a server's Retry-After) — and counts a retry.
  void addRateLimited(const std::string& key, std::chrono::nanoseconds atLeast = std::chrono::nanoseconds{0});
  // The key succeeded: its failures are forgotten.
  void forget(const std::string& key);
  // How many times in a row the key has failed (addRateLimited since the last forget).
  int failures(const std::string& key) const;
  // The delay the next addRateLimited(key) will use.
  std::chrono::nanoseconds nextBackoff(const std::string& key) const;

  std::optional<std::string> get();
  void done(const std::string& key);

  // No new adds; get() returns the queued keys, then nullopt. Delayed keys are dropped.
  void shutDown();
  bool shuttingDown() const;
  size_t len() const;

 private:
  void addLocked(const std::string& key);  // requires mu_
  void promoteDueLocked();                 // requires mu_
  void reportDepthLocked();                // requires mu_
  core::MonoTime now() const;

  const WorkQueueOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                      // guarded by mu_
  std::unordered_set<std::string> dirty_;              // guarded by mu_ (queued or to requeue)
  std::unordered_set<std::string> processing_;         // guarded by mu_
  std::unordered_map<std::string, core::MonoTime> addedAt_;  // guarded by mu_ (for latency)
  std::multimap<core::MonoTime, std::string> delayed_;       // guarded by mu_
  std::unordered_map<std::string, core::MonoTime> delayedAt_;  // guarded by mu_
  std::unordered_map<std::string, int> failures_;      // guarded by mu_
  std::unique_ptr<core::TokenBucket> overall_;  // null: none
  bool shutdown_ = false;                              // guarded by mu_
};

}  // namespace mysqlop::runtime
