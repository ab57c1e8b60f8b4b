#pragma once
// Records core/v1 Events on the objects a controller works on, as client-go's recorder does:
// a repeated event (same object, type, reason and message) bumps `count` and `lastTimestamp`
// of the existing Event instead of creating another; each (object, reason) may emit a burst of
// 25 and then one every 5 minutes. Messages holding a private key are refused (never written).
// What it remembers stays bounded: entries unused for an hour (the API server's Event TTL) and
// rate-limit buckets refilled to full are dropped, and past 4,096 of either the least recently
// used go first (client-go keeps LRU caches of that size).
// Thread-safe; writes happen on the caller's thread.

#include <chrono>
#include <map>
#include <mutex>
#include <utility>
#include <string>

#include <nlohmann/json.hpp>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/log.h"

namespace mysqlop::runtime {

inline constexpr const char* kEventNormal = "Normal";
inline constexpr const char* kEventWarning = "Warning";

// An Event as a value: what a reconciler's plan asks to be said once its write is done.
struct EventSpec {
  bool warning = false;  // Warning, else Normal
  std::string reason, message;
  bool operator==(const EventSpec&) const = default;
};

class EventRecorder {
 public:
  EventRecorder(client::RestClient& cli, std::string component, std::string instance,
                const core::Clock& clock = core::systemClock(), core::Logger log = core::Logger::root());

  // `involved` is the object (apiVersion, kind, metadata.name/namespace/uid are used).
  void event(const nlohmann::json& involved, const std::string& type, const std::string& reason,
             const std::string& message);
  void event(const nlohmann::json& involved, const EventSpec& e) {
    event(involved, e.warning ? kEventWarning : kEventNormal, e.reason, e.message);
  }

  // How many aggregation entries and rate-limit buckets it holds (memory it keeps).
  std::pair<size_t, size_t> remembered() const;
  static constexpr size_t kMaxRemembered = 4096;

 private:
  struct Seen {
    std::string eventName;
    std::string ns;
    int64_t count = 0;
    core::MonoTime used{};
  };
  struct Bucket {
    double tokens = 25;
    core::MonoTime refilled{};
  };
  void pruneLocked(core::MonoTime now);

  client::RestClient& cli_;
  std::string component_;
  std::string instance_;
  const core::Clock& clock_;
  core::Logger log_;
  mutable std::mutex mu_;
  std::map<std::string, Seen> seen_;      // aggregation key → event; guarded by mu_
  std::map<std::string, Bucket> buckets_;  // uid|reason → rate limit; guarded by mu_
  int64_t lastStamp_ = 0;                  // event name suffixes, strictly increasing; guarded by mu_
  core::MonoTime lastPrune_{};             // guarded by mu_
};

}  // namespace mysqlop::runtime
