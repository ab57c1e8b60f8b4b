#pragma once
// A token bucket (client-go's flowcontrol and the work queue's overall limiter): `qps` tokens a
// second up to `burst`; reserve() takes one and says how long to wait before using it (zero
// while tokens last). Thread-safe.
//
//   TokenBucket b(20, 30, clock);
//   std::this_thread::sleep_for(b.reserve());   // before each request
#include <chrono>
#include <mutex>

#include "common/core/clock.h"

namespace mysqlop::core {

class TokenBucket {
 public:
  TokenBucket(double qps, int burst, const Clock& clock = systemClock());
  std::chrono::nanoseconds reserve();
  // Takes a token if one is there now; false (nothing taken, nobody waits) otherwise.
  bool tryTake();

 private:
  const double qps_;
  const double burst_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_;
  MonoTime last_;
};

}  // namespace mysqlop::core
