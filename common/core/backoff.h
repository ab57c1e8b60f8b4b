#pragma once
// Capped exponential backoff with jitter.
//
// `backoffDelay` is the pure formula; `Backoff` tracks consecutive failures of one activity
// (a watch, a key) and forgets them after a quiet period, the way client-go's backoff
// manager does for reflectors (0.8 s → 30 s, reset after 2 min without failures).
//
//   Backoff b(BackoffPolicy{800ms, 30s, 2.0, 1.0, 2min}, clock);
//   sleepFor(b.next());   // after each failure
//   b.reset();            // after a success, if the caller wants to forget at once
//
// `Backoff` is not synchronised: one owner thread.

#include <chrono>
#include <functional>

#include "common/core/clock.h"

namespace mysqlop::core {

struct BackoffPolicy {
  std::chrono::nanoseconds initial{std::chrono::milliseconds{800}};
  std::chrono::nanoseconds max{std::chrono::seconds{30}};
  double factor = 2.0;
  // Adds up to `jitter` × the delay, uniformly at random (never beyond `max`).
  double jitter = 0.0;
  // Failures further apart than this start again from `initial`; zero = never forget.
  std::chrono::nanoseconds resetAfter{0};
};

// Delay before retry number `attempt` (0 = first retry): min(initial·factor^attempt, max),
// plus `random01` × jitter × that, capped at max. `random01` ∈ [0, 1).
std::chrono::nanoseconds backoffDelay(const BackoffPolicy& p, unsigned attempt, double random01);

class Backoff {
 public:
  // `random01` defaults to a per-instance Mersenne twister seeded from std::random_device.
  Backoff(BackoffPolicy policy, const Clock& clock, std::function<double()> random01 = {});

  // Records a failure now and returns how long to wait before trying again.
  std::chrono::nanoseconds next();
  void reset() { attempt_ = 0; }
  unsigned attempts() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  const Clock& clock_;
  std::function<double()> random01_;
  unsigned attempt_ = 0;
  MonoTime lastFailure_{};
};

}  // namespace mysqlop::core
