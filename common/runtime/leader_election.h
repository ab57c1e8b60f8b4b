#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when the
// lease is free or its holder has not renewed for leaseDuration (judged by when *we* saw the
// record change, not by the holder's clock), renew every retryPeriod, give up leadership when
// no renewal succeeded for renewDeadline, and release the lease on a clean stop.
//
// `LeaseDecision` is the pure core; `LeaderElector` drives it on its own thread.
// Callbacks run on the elector's thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/log.h"

namespace mysqlop::runtime {

struct LeaderElectionConfig {
  std::string namespace_;
  std::string name;
  std::string identity;
  std::chrono::seconds leaseDuration{15};
  std::chrono::seconds renewDeadline{10};
  std::chrono::seconds retryPeriod{2};
  // A Lease an older version led under (its fixed name, before each release had its own): this
  // candidate starts leading only once that one is free — released, expired, or never made — so
  // that an upgrade's old and new pods never lead at once. Empty: none.
  std::string formerName;
};

// What a candidate may do with the lease it just read.
enum class LeaseAction { kCreate, kAcquire, kRenew, kWait };

// `holder` and `durationSeconds` come from the lease (empty / 0 when it does not exist);
// `observedFor` is how long the record has been unchanged as far as we have watched it.
LeaseAction decideLease(bool exists, const std::string& holder, int64_t durationSeconds,
                        std::chrono::nanoseconds observedFor, const std::string& identity);

class LeaderElector {
 public:
  struct Callbacks {
    std::function<void()> onStartedLeading;
    std::function<void()> onStoppedLeading;  // after losing the lease (not after release)
    std::function<void(const std::string&)> onNewLeader;
  };

  LeaderElector(client::RestClient& cli, LeaderElectionConfig cfg, Callbacks cb,
                const core::Clock& clock = core::systemClock(), core::Logger log = core::Logger::root());
  ~LeaderElector();

  void start();
  // Stops campaigning; a leader releases the lease (holder cleared) so another takes over at once.
  void stop();
  bool isLeader() const { return leader_.load(); }
  std::string leader() const;

 private:
  void run(std::stop_token stop);
  // One attempt to acquire or renew; true when we hold the lease afterwards.
  bool tryAcquireOrRenew();
  // The former Lease (cfg_.formerName) is held by someone who renews it.
  bool formerHeld();
  void release();

  client::RestClient& cli_;
  LeaderElectionConfig cfg_;
  Callbacks cb_;
  const core::Clock& clock_;
  core::Logger log_;
  std::atomic<bool> leader_{false};
  mutable std::mutex mu_;
  std::string observedRecord_;      // guarded by mu_: holder|renewTime|RV last seen
  core::MonoTime observedAt_{};     // guarded by mu_
  std::string currentLeader_;       // guarded by mu_
  std::string formerRecord_;        // the former Lease's holder|renewTime|RV last seen (elector thread)
  core::MonoTime formerAt_{};
  std::jthread thread_;
};

}  // namespace mysqlop::runtime
