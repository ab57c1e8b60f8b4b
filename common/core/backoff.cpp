#include "common/core/backoff.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

namespace mysqlop::core {

std::chrono::nanoseconds backoffDelay(const BackoffPolicy& p, unsigned attempt, double random01) {
  const double maxNs = static_cast<double>(p.max.count());
  double base = static_cast<double>(p.initial.count()) * std::pow(p.factor, attempt);
  base = std::min(base, maxNs);  // also tames inf when the exponent overflows
  double withJitter = std::min(base + base * p.jitter * std::clamp(random01, 0.0, 1.0), maxNs);
  return std::chrono::nanoseconds{static_cast<int64_t>(withJitter)};
}

Backoff::Backoff(BackoffPolicy policy, const Clock& clock, std::function<double()> random01)
    : policy_(policy), clock_(clock), random01_(std::move(random01)) {
  if (!random01_) {
    auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
    random01_ = [gen] { return std::uniform_real_distribution<double>(0.0, 1.0)(*gen); };
  }
}

std::chrono::nanoseconds Backoff::next() {
  MonoTime now = clock_.monotonic();
  if (policy_.resetAfter.count() > 0 && attempt_ > 0 && now - lastFailure_ > policy_.resetAfter) {
    attempt_ = 0;
  }
  lastFailure_ = now;
  auto d = backoffDelay(policy_, attempt_, random01_());
  if (attempt_ < 64) ++attempt_;
  return d;
}

}  // namespace mysqlop::core
