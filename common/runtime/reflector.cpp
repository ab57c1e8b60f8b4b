#include "common/runtime/reflector.h"

#include <memory>
#include <random>

namespace mysqlop::runtime {

Reflector::Reflector(ReflectorOptions opts, const core::Clock& clock, std::function<double()> random01)
    : opts_(opts), backoff_(opts.backoff, clock, random01), random01_(std::move(random01)), clock_(clock) {
  if (!random01_) {
    auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
    random01_ = [gen] { return std::uniform_real_distribution<double>(0.0, 1.0)(*gen); };
  }
}

Reflector::Step Reflector::next() {
  switch (state_) {
    case State::kList:
      return {Action::kList, "", 0, {}};
    case State::kWatch: {
      auto min = opts_.minWatchTimeout.count();
      auto timeout = min + static_cast<int64_t>(random01_() * static_cast<double>(min));
      watchStarted_ = clock_.monotonic();
      watchSawEvents_ = false;
      return {Action::kWatch, rv_, timeout, {}};
    }
    case State::kWaitThenList:
    case State::kWaitThenWatch:
      return {Action::kWait, "", 0, pendingWait_};
  }
  return {Action::kList, "", 0, {}};
}

void Reflector::listed(const std::string& resourceVersion) {
  rv_ = resourceVersion;
  synced_ = true;
  state_ = State::kWatch;
}

void Reflector::listFailed(const core::Error&) {
  pendingWait_ = backoff_.next();
  state_ = State::kWaitThenList;
}

void Reflector::observed(const std::string& resourceVersion) {
  watchSawEvents_ = true;
  if (!resourceVersion.empty()) rv_ = resourceVersion;
}

void Reflector::watchEnded(const core::Status& result) {
  const bool instant = !watchSawEvents_ && clock_.monotonic() - watchStarted_ < std::chrono::seconds(1);
  if (result.ok() && !instant) {
    state_ = State::kWatch;
    return;
  }
  if (result.error().is(core::ErrorCode::kGone)) {
    state_ = State::kList;  // history no longer reaches our RV: start over
    return;
  }
  pendingWait_ = backoff_.next();
  state_ = State::kWaitThenWatch;
}

void Reflector::waited() {
  if (state_ == State::kWaitThenList) state_ = State::kList;
  else if (state_ == State::kWaitThenWatch) state_ = State::kWatch;
}

}  // namespace mysqlop::runtime
