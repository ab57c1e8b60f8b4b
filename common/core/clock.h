#pragma once
// An injectable clock: production code asks a `Clock` for the time instead of calling
// std::chrono directly, so that tests (and the sandbox's clock hooks) can drive it.
//
//   const Clock& clock = systemClock();     // production
//   FakeClock fake(someInstant);  fake.advance(30s);   // tests
//
// All implementations are safe to call from any thread.

#include <chrono>
#include <mutex>

namespace mysqlop::core {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps written into objects.
  virtual WallTime now() const = 0;
  // Monotonic time, for deadlines and intervals.
  virtual MonoTime monotonic() const = 0;
};

// The real clocks. A process-wide instance that lives forever.
const Clock& systemClock();

// A clock that moves only when told to. Wall and monotonic time advance together.
class FakeClock : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime{std::chrono::seconds{1'800'000'000}});

  WallTime now() const override;
  MonoTime monotonic() const override;

  void advance(std::chrono::nanoseconds d);
  // Jumps wall time only (like an NTP step); monotonic time is unaffected.
  void setWall(WallTime t);

 private:
  mutable std::mutex mu_;
  WallTime wall_;               // guarded by mu_
  MonoTime mono_{};             // guarded by mu_
};

}  // namespace mysqlop::core
