#pragma once
// The community operator's health checker (issue 5, KubeDB reference §2.8): for every MySQL
// with a StatefulSet it connects to `<db>.<ns>.svc:3306` with the MySQL protocol — TLS with the
// server Secret's ca.crt when spec.tls is set, host name verified when requireSSL — and keeps
// the latest verdict per database. When a verdict changes it calls `onChange` (the reconciler's
// enqueue), so status is written by the reconciler alone and a steady verdict costs no write.
//
// Checks run on the checker's own threads — periodically, and at once when `trigger(key)` is
// called (pods or the StatefulSet changed) — never on the controller's workers. A key is never
// checked by two threads at once.
//
// start()/stop() from one thread; trigger() and verdict() from any.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/core/log.h"
#include "common/core/result.h"
#include "common/runtime/cache.h"
#include "community-operator/controller/status.h"
#include "community-operator/health/mysql_probe.h"

namespace mysqlop::community {

using ProbeFn = std::function<core::Result<ProbeResult>(const ProbeTarget&)>;

struct HealthCheckerOptions {
  std::chrono::milliseconds interval{10000};
  int workers = 2;
  std::chrono::seconds probeTimeout{5};
  ProbeFn probe = probeMySQL;
};

struct Verdict {
  std::string uid;  // the MySQL it is about (a recreated database starts afresh)
  HealthFacts facts;
};

class HealthChecker {
 public:
  HealthChecker(const runtime::ObjectCache& mysqls, const runtime::ObjectCache& secrets,
                const runtime::ObjectCache& statefulSets, std::function<void(const std::string& key)> onChange,
                HealthCheckerOptions opts = {}, core::Logger log = core::Logger::root());
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  void stop();
  // Check this database soon (deduplicated).
  void trigger(const std::string& key);
  // The latest verdict for a MySQL of this uid, if any.
  std::optional<HealthFacts> verdict(const std::string& key, const std::string& uid) const;
  void forget(const std::string& key);

  // What a check of this MySQL would dial (exposed for tests); an error when it cannot be built
  // (auth Secret or server CA missing).
  core::Result<ProbeTarget> target(const runtime::Json& mysql) const;

 private:
  void ticker(std::stop_token stop);
  void worker(std::stop_token stop);
  void check(const std::string& key);

  const runtime::ObjectCache& mysqls_;
  const runtime::ObjectCache& secrets_;
  const runtime::ObjectCache& statefulSets_;
  std::function<void(const std::string&)> onChange_;
  HealthCheckerOptions opts_;
  core::Logger log_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::set<std::string> pending_;           // guarded by mu_
  std::vector<std::string> order_;          // FIFO of pending keys; guarded by mu_
  std::set<std::string> inFlight_;          // guarded by mu_
  std::map<std::string, Verdict> verdicts_;  // guarded by mu_
  std::vector<std::jthread> threads_;
};

}  // namespace mysqlop::community
