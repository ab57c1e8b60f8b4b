#pragma once
// The enterprise operator's licence gate (docs/design.md §6): reads --license-file, verifies it against
// the CA compiled in for this cluster (the UID of namespace kube-system), re-reads the file when
// it changes and re-verifies every `recheck` (hourly). It exports mysqlop_license_valid and
// mysqlop_license_expiry_timestamp_seconds and tells `onChange` when the verdict changes (the
// reconciler then re-examines every MySQL). Without a valid licence nothing stops: the gate only
// says no, and why.
//
// start()/stop() from one thread; state() from any.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/result.h"

namespace mysqlop::enterprise {

struct LicenceState {
  bool valid = false;
  std::string clusterId;  // "" until known
  std::string reason;     // why not valid, in verifyLicence's words (or the file problem)
  std::string licensee;
  std::optional<core::WallTime> notAfter;
  // "licence valid for cluster X until T" or "licence invalid for cluster X: <reason>".
  std::string summary() const;
};

struct LicenceGateOptions {
  std::string path;
  std::string caPem;  // the licence CA (the embedded one in production)
  std::chrono::milliseconds filePoll{2000};
  std::chrono::milliseconds recheck{std::chrono::hours(1)};
};

class LicenceGate {
 public:
  using ClusterIdFn = std::function<core::Result<std::string>()>;
  LicenceGate(LicenceGateOptions opts, ClusterIdFn clusterId, prometheus::Registry& registry,
              std::function<void()> onChange, const core::Clock& clock = core::systemClock(),
              core::Logger log = core::Logger::root());
  ~LicenceGate();

  // Evaluates once (synchronously), then watches the file and the clock.
  void start();
  void stop();
  LicenceState state() const;
  // Evaluates now; returns whether the verdict changed.
  bool evaluate();
  // One round of the watch start() runs every filePoll: evaluates when the file changed, the
  // cluster ID is still unknown or `recheck` has passed on the injected clock since the last
  // evaluation; returns whether it evaluated.
  bool poll();

 private:
  LicenceGateOptions opts_;
  ClusterIdFn clusterIdFn_;
  std::function<void()> onChange_;
  const core::Clock& clock_;
  core::Logger log_;
  prometheus::Gauge& valid_;
  prometheus::Gauge& expiry_;
  mutable std::mutex mu_;
  LicenceState state_;         // guarded by mu_
  std::string fileStamp_;      // "size:content hash" of the file as last read; guarded by mu_
  core::MonoTime lastCheck_{};  // when evaluate() last ran (injected clock); guarded by mu_
  std::jthread thread_;
};

}  // namespace mysqlop::enterprise
