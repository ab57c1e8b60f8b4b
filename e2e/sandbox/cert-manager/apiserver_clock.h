#pragma once
// "Now" as the sandbox apiserver says it (its /__sandbox/clock hook), so that tests can move
// time forward and watch renewals happen: real time plus an offset re-read every `poll`. When
// the offset moves by more than `jumpThreshold` (a test advanced the clock), `onJump` runs —
// the certificate controller re-examines every Certificate then.
// now()/monotonic() from any thread; start()/stop() from one.

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/log.h"

namespace mysqlop::sandbox::certmanager {

class ApiServerClock : public core::Clock {
 public:
  ApiServerClock(client::RestClient& cli, std::chrono::milliseconds poll, std::function<void()> onJump,
                 core::Logger log = core::Logger::root());
  ~ApiServerClock() override;

  core::WallTime now() const override;
  core::MonoTime monotonic() const override { return core::systemClock().monotonic(); }

  // Reads the offset once (an error when the hook does not answer), then keeps polling.
  core::Result<bool> start();
  void stop();

 private:
  core::Result<std::chrono::nanoseconds> readOffset();

  client::RestClient& cli_;
  std::chrono::milliseconds poll_;
  std::function<void()> onJump_;
  core::Logger log_;
  std::atomic<int64_t> offsetNs_{0};
  std::jthread thread_;
};

}  // namespace mysqlop::sandbox::certmanager
