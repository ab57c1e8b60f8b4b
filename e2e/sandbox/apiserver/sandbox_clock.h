#pragma once
// The sandbox's clock: real time plus an offset that tests can advance, or frozen at an
// instant (the /__sandbox/clock hook). It stamps creationTimestamp, deletionTimestamp and
// table ages, and the sandbox's controllers read it through that hook so that renewal and
// expiry can be tested in seconds. Thread-safe.

#include <chrono>
#include <mutex>
#include <optional>

#include "common/core/clock.h"

namespace mysqlop::sandbox {

class SandboxClock : public core::Clock {
 public:
  core::WallTime now() const override;
  core::MonoTime monotonic() const override;

  void advance(std::chrono::nanoseconds d);
  void freeze();    // stop at the current instant
  void unfreeze();  // run again from the frozen instant
  bool frozen() const;

 private:
  mutable std::mutex mu_;
  std::chrono::nanoseconds offset_{0};       // guarded by mu_
  std::optional<core::WallTime> frozenAt_;   // guarded by mu_
};

}  // namespace mysqlop::sandbox
