#include "common/runtime/event_recorder.h"

#include <algorithm>

#include "common/core/text.h"
#include <vector>

#include <fmt/format.h>

#include "common/core/time_format.h"
#include "common/kube/object.h"

namespace mysqlop::runtime {

using Json = nlohmann::json;

EventRecorder::EventRecorder(client::RestClient& cli, std::string component, std::string instance,
                             const core::Clock& clock, core::Logger log)
    : cli_(cli), component_(std::move(component)), instance_(std::move(instance)), clock_(clock),
      log_(log.with("component", component_)) {}

void EventRecorder::event(const Json& involved, const std::string& type, const std::string& reason,
                          const std::string& rawMessage) {
  if (rawMessage.find("PRIVATE KEY") != std::string::npos) {
    log_.error("refusing to record an event whose message holds a private key", {{"reason", reason}});
    return;
  }
  // events.k8s.io/v1's note holds at most 1 KiB; the core/v1 view is cut the same way.
  const std::string message = core::truncateUtf8(rawMessage, 1024);
  std::string uid = kube::uid(involved);
  std::string ns = kube::namespaceOf(involved);
  if (ns.empty()) ns = "default";  // events about cluster-scoped objects live in default
  std::string aggKey = fmt::format("{}|{}|{}|{}", uid, type, reason, message);
  std::string now = core::formatTime(clock_.now());

  std::string existing;
  int64_t count = 1;
  int64_t stamp = 0;
  {
    std::lock_guard lock(mu_);
    auto mono = clock_.monotonic();
    pruneLocked(mono);
    Bucket& b = buckets_[uid + "|" + reason];
    if (b.refilled == core::MonoTime{}) b.refilled = mono;
    b.tokens = std::min(25.0, b.tokens + std::chrono::duration<double>(mono - b.refilled).count() / 300.0);
    b.refilled = mono;
    if (b.tokens < 1.0) {
      log_.debug("event rate-limited", {{"reason", reason}, {"object", kube::name(involved)}});
      return;
    }
    b.tokens -= 1.0;
    auto it = seen_.find(aggKey);
    if (it != seen_.end()) {
      existing = it->second.eventName;
      count = ++it->second.count;
      it->second.used = mono;
    }
    // <name>.<hex nanoseconds> as client-go names them, kept unique when the clock repeats.
    stamp = std::max(lastStamp_ + 1, static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                              clock_.now().time_since_epoch()).count()));
    lastStamp_ = stamp;
  }
  if (!existing.empty()) {
    auto patched = cli_.patch(kube::kEvents, ns, existing, kube::PatchType::kMerge,
                              {{"count", count}, {"lastTimestamp", now}});
    if (patched) return;
    if (!patched.error().is(core::ErrorCode::kNotFound)) {
      log_.warn("cannot update event", {{"error", patched.error().toString()}});
      return;
    }
    count = 1;  // the Event expired: record it afresh
  }
  std::string name = fmt::format("{}.{:x}", kube::name(involved), stamp);
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", {{"apiVersion", kube::apiVersion(involved)}, {"kind", kube::kind(involved)},
                                 {"name", kube::name(involved)}, {"uid", uid},
                                 {"resourceVersion", kube::resourceVersion(involved)}}},
             {"reason", reason},
             {"message", message},
             {"type", type},
             {"count", count},
             {"firstTimestamp", now},
             {"lastTimestamp", now},
             {"source", {{"component", component_}}},
             {"reportingComponent", component_},
             {"reportingInstance", instance_}};
  if (!kube::namespaceOf(involved).empty()) ev["involvedObject"]["namespace"] = kube::namespaceOf(involved);
  auto created = cli_.create(kube::kEvents, ns, ev);
  if (!created) {
    log_.warn("cannot record event", {{"reason", reason}, {"error", created.error().toString()}});
    return;
  }
  std::lock_guard lock(mu_);
  seen_[aggKey] = {name, ns, count, clock_.monotonic()};
}

std::pair<size_t, size_t> EventRecorder::remembered() const {
  std::lock_guard lock(mu_);
  return {seen_.size(), buckets_.size()};
}

void EventRecorder::pruneLocked(core::MonoTime now) {
  // A sweep a minute at most, and whenever a map has outgrown its bound.
  const bool due = now - lastPrune_ >= std::chrono::minutes(1);
  if (!due && seen_.size() < kMaxRemembered && buckets_.size() < kMaxRemembered) return;
  lastPrune_ = now;
  // An Event the API server has expired (1 h) is recreated anyway; a bucket back to full is the
  // same as none.
  std::erase_if(seen_, [&](const auto& kv) { return now - kv.second.used > std::chrono::hours(1); });
  std::erase_if(buckets_, [&](const auto& kv) {
    const double tokens = kv.second.tokens + std::chrono::duration<double>(now - kv.second.refilled).count() / 300.0;
    return tokens >= 25.0;
  });
  // Still too many: the least recently used go.
  auto trim = [](auto& map, auto lastUse) {
    if (map.size() < kMaxRemembered) return;
    std::vector<std::pair<core::MonoTime, std::string>> order;
    order.reserve(map.size());
    for (const auto& [k, v] : map) order.emplace_back(lastUse(v), k);
    std::sort(order.begin(), order.end());
    const size_t drop = map.size() - kMaxRemembered / 2;
    for (size_t i = 0; i < drop; ++i) map.erase(order[i].second);
  };
  trim(seen_, [](const Seen& v) { return v.used; });
  trim(buckets_, [](const Bucket& v) { return v.refilled; });
}

}  // namespace mysqlop::runtime
