#include "e2e/sandbox/cert-manager/apiserver_clock.h"

#include <condition_variable>
#include <mutex>

#include "common/core/time_format.h"

namespace mysqlop::sandbox::certmanager {

ApiServerClock::ApiServerClock(client::RestClient& cli, std::chrono::milliseconds poll, std::function<void()> onJump,
                               core::Logger log)
    : cli_(cli), poll_(poll), onJump_(std::move(onJump)), log_(log.with("component", "clock")) {}

ApiServerClock::~ApiServerClock() { stop(); }

core::WallTime ApiServerClock::now() const {
  return core::systemClock().now() + std::chrono::nanoseconds(offsetNs_.load());
}

core::Result<std::chrono::nanoseconds> ApiServerClock::readOffset() {
  auto before = core::systemClock().now();
  auto r = cli_.execute({.method = "GET", .path = "/__sandbox/clock", .verb = "get", .resource = "__sandbox/clock"});
  if (!r) return r.error();
  auto after = core::systemClock().now();
  auto server = core::parseTime(r->value("now", ""));
  if (!server) return core::invalid("the apiserver's clock hook answered without a time");
  // The server read its clock about halfway through the request.
  return *server - (before + (after - before) / 2);
}

core::Result<bool> ApiServerClock::start() {
  auto first = readOffset();
  if (!first) return first.error();
  offsetNs_ = first->count();
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, poll_, [] { return false; });
      }
      if (stop.stop_requested()) return;
      auto off = readOffset();
      if (!off) {
        log_.warn("cannot read the apiserver's clock", {{"error", off.error().message}});
        continue;
      }
      const int64_t old = offsetNs_.exchange(off->count());
      // Time-format precision is a microsecond and requests take a while: only a real move counts.
      if (std::llabs(off->count() - old) > std::chrono::nanoseconds(std::chrono::seconds(1)).count()) {
        log_.info("the apiserver's clock moved", {{"by_seconds", (off->count() - old) / 1000000000}});
        if (onJump_) onJump_();
      }
    }
  });
  return true;
}

void ApiServerClock::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

}  // namespace mysqlop::sandbox::certmanager
