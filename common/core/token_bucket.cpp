#include "common/core/token_bucket.h"

#include <algorithm>

namespace mysqlop::core {

TokenBucket::TokenBucket(double qps, int burst, const Clock& clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(burst_), last_(clock.monotonic()) {}

std::chrono::nanoseconds TokenBucket::reserve() {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.monotonic();
  tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
  last_ = now;
  tokens_ -= 1.0;  // may go negative: the debt is the wait, and later callers queue behind it
  if (tokens_ >= 0) return std::chrono::nanoseconds{0};
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(-tokens_ / qps_));
}

bool TokenBucket::tryTake() {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.monotonic();
  tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
  last_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace mysqlop::core
