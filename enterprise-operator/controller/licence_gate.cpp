#include "enterprise-operator/controller/licence_gate.h"

#include <sys/stat.h>

#include <condition_variable>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/core/file.h"
#include "common/core/time_format.h"
#include "common/licence/licence.h"

namespace mysqlop::enterprise {
namespace {

// Tells one version of the licence file from another: size and a hash of the bytes.
std::string stampOf(const core::Result<std::string>& content) {
  return content ? fmt::format("{}:{}", content->size(), std::hash<std::string>{}(*content)) : "";
}

}  // namespace

std::string LicenceState::summary() const {
  const std::string cluster = clusterId.empty() ? std::string("(unknown)") : clusterId;
  if (valid) {
    return fmt::format("licence for {} valid for cluster {} until {}", licensee, cluster,
                       notAfter ? core::formatTime(*notAfter) : std::string("?"));
  }
  return fmt::format("licence invalid for cluster {}: {}", cluster, reason);
}

LicenceGate::LicenceGate(LicenceGateOptions opts, ClusterIdFn clusterId, prometheus::Registry& registry,
                         std::function<void()> onChange, const core::Clock& clock, core::Logger log)
    : opts_(std::move(opts)),
      clusterIdFn_(std::move(clusterId)),
      onChange_(std::move(onChange)),
      clock_(clock),
      log_(log.with("component", "licence")),
      valid_(prometheus::BuildGauge()
                 .Name("mysqlop_license_valid")
                 .Help("1 when the enterprise licence is valid for this cluster, else 0")
                 .Register(registry)
                 .Add({})),
      expiry_(prometheus::BuildGauge()
                  .Name("mysqlop_license_expiry_timestamp_seconds")
                  .Help("When the enterprise licence expires (Unix seconds; 0 when there is none)")
                  .Register(registry)
                  .Add({})) {
  state_.reason = "not checked yet";
}

LicenceGate::~LicenceGate() { stop(); }

LicenceState LicenceGate::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool LicenceGate::evaluate() {
  LicenceState next;
  {
    std::lock_guard lock(mu_);
    next.clusterId = state_.clusterId;
  }
  if (next.clusterId.empty()) {
    auto id = clusterIdFn_();
    if (id) next.clusterId = *id;
  }
  const auto content = core::readFile(opts_.path);
  if (opts_.path.empty()) {
    next.reason = "no licence: start the operator with --license-file (helm: --set-file license=PATH)";
  } else if (!content) {
    next.reason = fmt::format("cannot read the licence file {}", opts_.path);
  } else if (next.clusterId.empty()) {
    next.reason = "the cluster ID (UID of namespace kube-system) cannot be read yet";
  } else if (auto l = licence::verifyLicence(*content, opts_.caPem, next.clusterId, clock_.now())) {
    next.valid = true;
    next.licensee = l->licensee;
    next.notAfter = l->notAfter;
  } else {
    next.reason = l.error().message;
    if (auto r = licence::readLicence(*content)) next.notAfter = r->notAfter;
  }
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    changed = next.valid != state_.valid || next.reason != state_.reason || next.clusterId != state_.clusterId ||
              next.notAfter != state_.notAfter;
    state_ = next;
    fileStamp_ = stampOf(content);
    lastCheck_ = clock_.monotonic();
  }
  valid_.Set(next.valid ? 1 : 0);
  expiry_.Set(next.notAfter ? static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                                      next.notAfter->time_since_epoch())
                                                      .count())
                            : 0);
  if (changed) {
    if (next.valid) {
      log_.info("licence accepted", {{"summary", next.summary()}});
    } else {
      log_.warn("licence not valid", {{"summary", next.summary()}});
    }
    if (onChange_) onChange_();
  }
  return changed;
}

bool LicenceGate::poll() {
  // The file changed (a Secret update, a new mount), the cluster ID is still unknown, or the
  // periodic re-check is due.
  const std::string stamp = opts_.path.empty() ? "" : stampOf(core::readFile(opts_.path));
  bool due = false;
  {
    std::lock_guard lock(mu_);
    due = clock_.monotonic() - lastCheck_ >= opts_.recheck || stamp != fileStamp_ || state_.clusterId.empty();
  }
  if (due) evaluate();
  return due;
}

void LicenceGate::start() {
  evaluate();
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, opts_.filePoll, [] { return false; });
      }
      if (stop.stop_requested()) return;
      poll();
    }
  });
}

void LicenceGate::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

}  // namespace mysqlop::enterprise
