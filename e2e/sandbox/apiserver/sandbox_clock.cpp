#include "e2e/sandbox/apiserver/sandbox_clock.h"

namespace mysqlop::sandbox {

core::WallTime SandboxClock::now() const {
  std::lock_guard lock(mu_);
  if (frozenAt_) return *frozenAt_;
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<core::WallTime::duration>(offset_);
}

core::MonoTime SandboxClock::monotonic() const {
  std::lock_guard lock(mu_);
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<core::MonoTime::duration>(offset_);
}

void SandboxClock::advance(std::chrono::nanoseconds d) {
  std::lock_guard lock(mu_);
  offset_ += d;
  if (frozenAt_) *frozenAt_ += std::chrono::duration_cast<core::WallTime::duration>(d);
}

void SandboxClock::freeze() {
  std::lock_guard lock(mu_);
  if (!frozenAt_) {
    frozenAt_ = std::chrono::system_clock::now() +
                std::chrono::duration_cast<core::WallTime::duration>(offset_);
  }
}

void SandboxClock::unfreeze() {
  std::lock_guard lock(mu_);
  if (frozenAt_) {
    offset_ = std::chrono::duration_cast<std::chrono::nanoseconds>(*frozenAt_ -
                                                                   std::chrono::system_clock::now());
    frozenAt_.reset();
  }
}

bool SandboxClock::frozen() const {
  std::lock_guard lock(mu_);
  return frozenAt_.has_value();
}

}  // namespace mysqlop::sandbox
