#include "common/core/clock.h"

namespace mysqlop::core {
namespace {

class SystemClock final : public Clock {
 public:
  WallTime now() const override { return std::chrono::system_clock::now(); }
  MonoTime monotonic() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

const Clock& systemClock() {
  static const SystemClock clock;
  return clock;
}

FakeClock::FakeClock(WallTime start) : wall_(start), mono_(std::chrono::hours{1}) {}

WallTime FakeClock::now() const {
  std::lock_guard lock(mu_);
  return wall_;
}

MonoTime FakeClock::monotonic() const {
  std::lock_guard lock(mu_);
  return mono_;
}

void FakeClock::advance(std::chrono::nanoseconds d) {
  std::lock_guard lock(mu_);
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  mono_ += std::chrono::duration_cast<MonoTime::duration>(d);
}

void FakeClock::setWall(WallTime t) {
  std::lock_guard lock(mu_);
  wall_ = t;
}

}  // namespace mysqlop::core
