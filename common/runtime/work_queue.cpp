#include "common/runtime/work_queue.h"

#include "common/runtime/metrics.h"

namespace mysqlop::runtime {

using Steady = std::chrono::steady_clock;

WorkQueue::WorkQueue(WorkQueueOptions opts) : opts_(std::move(opts)) {
  if (opts_.retryQps > 0) {
    overall_ = std::make_unique<core::TokenBucket>(opts_.retryQps, opts_.retryBurst, opts_.clock ? *opts_.clock : core::systemClock());
  }
}

core::MonoTime WorkQueue::now() const { return opts_.clock ? opts_.clock->monotonic() : Steady::now(); }

WorkQueue::~WorkQueue() { shutDown(); }

void WorkQueue::reportDepthLocked() {
  if (opts_.metrics) opts_.metrics->queueDepth(opts_.name, static_cast<double>(queue_.size()));
}

void WorkQueue::addLocked(const std::string& key) {
  if (shutdown_) return;
  if (opts_.metrics) opts_.metrics->queueAdd(opts_.name);
  if (dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // queued again by done()
  queue_.push_back(key);
  addedAt_.emplace(key, Steady::now());
  reportDepthLocked();
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mu_);
  if (shutdown_) return;
  if (delay.count() <= 0) {
    addLocked(key);
    return;
  }
  auto at = now() + std::chrono::duration_cast<Steady::duration>(delay);
  auto it = delayedAt_.find(key);
  if (it != delayedAt_.end()) {
    if (it->second <= at) return;  // an earlier wake-up is already pending
    for (auto d = delayed_.lower_bound(it->second); d != delayed_.end() && d->first == it->second; ++d) {
      if (d->second == key) {
        delayed_.erase(d);
        break;
      }
    }
  }
  delayedAt_[key] = at;
  delayed_.emplace(at, key);
  cv_.notify_all();  // a waiter may need to wake earlier
}

std::chrono::nanoseconds WorkQueue::nextBackoff(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  unsigned n = it == failures_.end() ? 0 : static_cast<unsigned>(it->second);
  return core::backoffDelay(opts_.backoff, n, 0.0);
}

void WorkQueue::addRateLimited(const std::string& key, std::chrono::nanoseconds atLeast) {
  std::chrono::nanoseconds d;
  {
    std::lock_guard lock(mu_);
    if (shutdown_) return;
    int& n = failures_[key];
    d = std::max(atLeast, std::chrono::nanoseconds(core::backoffDelay(opts_.backoff, static_cast<unsigned>(n), 0.0)));
    // And the queue's overall bucket (client-go's default controller rate limiter: 10 a second,
    // 100 at once) for retries of all keys together.
    if (overall_) d = std::max(d, overall_->reserve());
    if (n < 64) ++n;
    if (opts_.metrics) opts_.metrics->queueRetry(opts_.name);
  }
  addAfter(key, d);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promoteDueLocked() {
  const auto t = now();
  while (!delayed_.empty() && delayed_.begin()->first <= t) {
    std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayedAt_.erase(key);
    addLocked(key);
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  while (true) {
    promoteDueLocked();
    if (!queue_.empty()) break;
    if (shutdown_) return std::nullopt;
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      // A copy: wait_until holds its argument by reference while the lock is released, and
      // other threads may erase that map entry meanwhile (found by TSan).
      const core::MonoTime until = delayed_.begin()->first;
      if (opts_.clock) {
        cv_.wait_for(lock, std::min<Steady::duration>(until - now(), std::chrono::milliseconds(5)));
      } else {
        cv_.wait_until(lock, until);
      }
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  if (auto it = addedAt_.find(key); it != addedAt_.end()) {
    if (opts_.metrics) {
      opts_.metrics->queueLatency(opts_.name, std::chrono::duration<double>(Steady::now() - it->second).count());
    }
    addedAt_.erase(it);
  }
  reportDepthLocked();
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    addedAt_.emplace(key, Steady::now());
    reportDepthLocked();
    cv_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shutdown_ = true;
  delayed_.clear();
  delayedAt_.clear();
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shutdown_;
}

size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace mysqlop::runtime
