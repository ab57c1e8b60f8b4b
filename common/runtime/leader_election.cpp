#include "common/runtime/leader_election.h"

#include <condition_variable>

#include "common/core/time_format.h"
#include "common/kube/object.h"

namespace mysqlop::runtime {

using Json = nlohmann::json;

LeaseAction decideLease(bool exists, const std::string& holder, int64_t durationSeconds,
                        std::chrono::nanoseconds observedFor, const std::string& identity) {
  if (!exists) return LeaseAction::kCreate;
  if (holder == identity) return LeaseAction::kRenew;
  if (holder.empty()) return LeaseAction::kAcquire;  // released
  if (observedFor >= std::chrono::seconds(durationSeconds)) return LeaseAction::kAcquire;  // expired
  return LeaseAction::kWait;
}

LeaderElector::LeaderElector(client::RestClient& cli, LeaderElectionConfig cfg, Callbacks cb,
                             const core::Clock& clock, core::Logger log)
    : cli_(cli), cfg_(std::move(cfg)), cb_(std::move(cb)), clock_(clock),
      log_(log.with("lease", cfg_.namespace_ + "/" + cfg_.name).with("identity", cfg_.identity)) {}

LeaderElector::~LeaderElector() { stop(); }

std::string LeaderElector::leader() const {
  std::lock_guard lock(mu_);
  return currentLeader_;
}

void LeaderElector::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

void LeaderElector::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  if (leader_.exchange(false)) release();
}

bool LeaderElector::tryAcquireOrRenew() {
  auto lease = cli_.get(kube::kLeases, cfg_.namespace_, cfg_.name);
  if (!lease && !lease.error().is(core::ErrorCode::kNotFound)) {
    log_.warn("cannot read the lease", {{"error", lease.error().toString()}});
    return false;
  }
  bool exists = lease.ok();
  Json spec = exists ? lease->value("spec", Json::object()) : Json::object();
  std::string holder = spec.value("holderIdentity", "");
  int64_t duration = spec.value("leaseDurationSeconds", static_cast<int64_t>(cfg_.leaseDuration.count()));
  std::chrono::nanoseconds observedFor{0};
  {
    std::lock_guard lock(mu_);
    std::string record = exists ? holder + "|" + spec.value("renewTime", "") + "|" + kube::resourceVersion(*lease) : "";
    auto now = clock_.monotonic();
    if (record != observedRecord_) {
      observedRecord_ = record;
      observedAt_ = now;
    }
    observedFor = now - observedAt_;
    if (holder != currentLeader_) {
      currentLeader_ = holder;
      if (!holder.empty() && cb_.onNewLeader) cb_.onNewLeader(holder);
    }
  }
  LeaseAction action = decideLease(exists, holder, duration, observedFor, cfg_.identity);
  if (action == LeaseAction::kWait) return false;
  std::string now = core::formatMicroTime(clock_.now());
  Json next = exists ? *lease : Json{{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
                                     {"metadata", {{"name", cfg_.name}, {"namespace", cfg_.namespace_}}}};
  next["spec"]["holderIdentity"] = cfg_.identity;
  next["spec"]["leaseDurationSeconds"] = cfg_.leaseDuration.count();
  next["spec"]["renewTime"] = now;
  if (action != LeaseAction::kRenew) {
    next["spec"]["acquireTime"] = now;
    int64_t transitions = spec.value("leaseTransitions", static_cast<int64_t>(0));
    next["spec"]["leaseTransitions"] = exists ? transitions + 1 : 0;
  }
  auto written = action == LeaseAction::kCreate ? cli_.create(kube::kLeases, cfg_.namespace_, next)
                                                : cli_.update(kube::kLeases, next);
  if (!written) {
    if (!written.error().is(core::ErrorCode::kConflict) && !written.error().is(core::ErrorCode::kAlreadyExists)) {
      log_.warn("cannot write the lease", {{"error", written.error().toString()}});
    }
    return false;
  }
  std::lock_guard lock(mu_);
  observedRecord_ = cfg_.identity + "|" + now + "|" + kube::resourceVersion(*written);
  observedAt_ = clock_.monotonic();
  currentLeader_ = cfg_.identity;
  return true;
}

bool LeaderElector::formerHeld() {
  if (cfg_.formerName.empty() || cfg_.formerName == cfg_.name) return false;
  auto lease = cli_.get(kube::kLeases, cfg_.namespace_, cfg_.formerName);
  if (!lease) return !lease.error().is(core::ErrorCode::kNotFound);  // unreadable: assume held
  const Json spec = lease->value("spec", Json::object());
  const std::string holder = spec.value("holderIdentity", "");
  const std::string record = holder + "|" + spec.value("renewTime", "") + "|" + kube::resourceVersion(*lease);
  const auto now = clock_.monotonic();
  if (record != formerRecord_) {
    formerRecord_ = record;
    formerAt_ = now;
  }
  const int64_t duration = spec.value("leaseDurationSeconds", int64_t{0});
  const LeaseAction a = decideLease(true, holder, duration, now - formerAt_, cfg_.identity);
  return a == LeaseAction::kWait;
}

void LeaderElector::run(std::stop_token stop) {
  auto sleep = [&](std::chrono::nanoseconds d) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, d, [] { return false; });
  };
  // Campaign.
  bool toldFormer = false;
  while (!stop.stop_requested() && !leader_.load()) {
    if (formerHeld()) {
      if (!toldFormer) log_.info("waiting: the former Lease is held (an older version still leads)", {{"former", cfg_.formerName}});
      toldFormer = true;
    } else if (tryAcquireOrRenew()) {
      leader_ = true;
      log_.info("became leader");
      if (cb_.onStartedLeading) cb_.onStartedLeading();
      break;
    }
    sleep(cfg_.retryPeriod);
  }
  // Renew until a renewal has failed for renewDeadline.
  auto lastRenew = clock_.monotonic();
  while (!stop.stop_requested() && leader_.load()) {
    sleep(cfg_.retryPeriod);
    if (stop.stop_requested()) break;
    if (tryAcquireOrRenew()) {
      lastRenew = clock_.monotonic();
    } else if (clock_.monotonic() - lastRenew >= cfg_.renewDeadline) {
      leader_ = false;
      log_.error("lost the lease: no renewal within the renew deadline",
                 {{"renewDeadlineSeconds", cfg_.renewDeadline.count()}});
      if (cb_.onStoppedLeading) cb_.onStoppedLeading();
      return;
    }
  }
}

void LeaderElector::release() {
  auto lease = cli_.get(kube::kLeases, cfg_.namespace_, cfg_.name);
  if (!lease || lease->value("spec", Json::object()).value("holderIdentity", "") != cfg_.identity) return;
  Json next = *lease;
  next["spec"]["holderIdentity"] = "";
  next["spec"]["leaseDurationSeconds"] = 1;
  next["spec"]["renewTime"] = core::formatMicroTime(clock_.now());
  if (auto st = cli_.update(kube::kLeases, next); st) {
    log_.info("released the lease");
  } else {
    log_.warn("cannot release the lease", {{"error", st.error().toString()}});
  }
}

}  // namespace mysqlop::runtime
