#pragma once
// The community operator's health checker (issue 5, KubeDB reference §2.8): for every MySQL
// with a StatefulSet it connects to `<db>.<ns>.svc:3306` with the MySQL protocol — TLS with the
// server Secret's ca.crt when spec.tls is set, host name verified when requireSSL — and keeps
// the latest verdict per database. With TLS it also looks at what each pod presents (issue 15):
// a pod that does not serve its server Secret's certificate is asked to reload (FLUSH SSL /
// ALTER INSTANCE RELOAD TLS by the server's version) and checked again; the verdict carries
// each pod's served certificate, and the expiry gauges and reload counter are kept here. When a
// verdict changes it calls `onChange` (the reconciler's enqueue), so status is written by the
// reconciler alone and a steady verdict costs no write.
//
// Checks run on the checker's own threads, never on the controller's workers: at once when
// `trigger(key)` is called (pods or the StatefulSet changed, the reconciler wrote the
// StatefulSet), then every `interval` (measured on the injected clock) while the database has a
// StatefulSet and is not halted. Keys wait in a runtime::WorkQueue, so a key is never checked by
// two threads at once and a trigger while it is queued or being checked is not lost.
//
// A MySQL with spec.healthChecker (KubeDB's) is checked as it says: every periodSeconds, each
// connection bounded by timeoutSeconds, failing only after failureThreshold failed checks in a
// row (the verdict before stands until then), and — unless disableWriteCheck — with a write
// (dbclient::writeCheckStatements) after the query. KubeDB's defaults fill what it leaves out.
// Without it: the operator's interval and timeout, a query, no write.
//
// start()/stop() from one thread; trigger() and verdict() from any.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/core/result.h"
#include "common/runtime/cache.h"
#include "common/runtime/work_queue.h"
#include "common/api/mysql.h"

namespace prometheus {
class Registry;
}
#include "community-operator/controller/group.h"
#include "community-operator/controller/secret_summary.h"
#include "community-operator/controller/status.h"
#include "common/mysql/mysql_probe.h"
#include "common/mysql/served_certificate.h"

namespace mysqlop::community {

using dbclient::fetchServedCertificate;
using dbclient::probeMySQL;
using dbclient::ProbeResult;
using dbclient::ProbeTarget;
using dbclient::ProbeTls;
using dbclient::runStatement;
using dbclient::tlsReloadStatement;

using ProbeFn = std::function<core::Result<ProbeResult>(const ProbeTarget&)>;
using FetchServedFn = std::function<core::Result<std::string>(const std::string& host, int port, std::chrono::seconds)>;
using StatementFn = std::function<core::Status(const ProbeTarget&, const std::string& sql)>;
using StatementsFn = std::function<core::Status(const ProbeTarget&, const std::vector<std::string>& statements)>;

struct HealthCheckerOptions {
  std::chrono::milliseconds interval{10000};
  // Checks at once: a healthy database takes a few milliseconds (two TLS handshakes), so eight
  // keep a round of 1,000 within the interval; a hung one holds its worker for the timeouts.
  int workers = 8;
  std::chrono::seconds probeTimeout{5};
  ProbeFn probe = probeMySQL;
  // With TLS (issue 15): what each pod presents, and the reload statement's runner.
  FetchServedFn fetchServed = fetchServedCertificate;
  StatementFn runStatement = dbclient::runStatement;
  // spec.healthChecker's write check (unless disableWriteCheck): KubeDB's statements, one connection.
  StatementsFn runStatements = dbclient::runStatements;
  // A group's members (spec.topology): asked and driven before the primary Service is probed.
  GroupClient group;
  // After a reload that did not bring the Secret's certificate yet (the pod's files lag), the
  // next check comes after this, doubling up to `interval`.
  std::chrono::milliseconds reloadRetry{1000};
  // A group whose members are not all ONLINE (bootstrapping, joining, after a failover) is
  // checked again after this (when sooner than the interval), so that the roles and the
  // Services follow the group within seconds.
  std::chrono::milliseconds groupRetry{2000};
  // While the rest of a group's check runs (a probe can wait seconds on a member that has just
  // gone), the members are asked again this often and what they say is told at once.
  std::chrono::milliseconds groupWatch{500};
  // After the trust bundle changes, each pod is asked to reload at every check (at least every
  // trustRetry) for this long: the kubelet refreshes a pod's files within about a minute (its
  // sync period), and mysqld reads ssl_ca only when it reloads.
  std::chrono::milliseconds trustPropagation{120000};
  std::chrono::milliseconds trustRetry{5000};
  // A served certificate this close to its notAfter is reported as expiring soon.
  std::chrono::seconds expiryWarning{std::chrono::hours(24 * 7)};
  prometheus::Registry* metrics = nullptr;  // the expiry gauges and reload counter; optional
  // A Secret not in the (label-selected) cache: a user's auth Secret. Optional.
  std::function<runtime::ObjectPtr(const std::string& ns, const std::string& name)> namedSecret;
  // Where the Secret cache's transform put the CAs (secret_summary.h); and a read of a Secret
  // through that transform, for a CA the pool no longer holds. Optional: without them a Secret
  // must hold its ca.crt.
  std::shared_ptr<const CaPool> caPool;
  std::function<runtime::ObjectPtr(const std::string& ns, const std::string& name)> rereadSecret;
  // Whether to check now (say: this replica leads and its caches have synced). While it says
  // no, a key waits `inactiveRetry` and is asked about again: a check against caches still
  // filling would report a Secret "missing" that exists. Empty: always.
  std::function<bool()> active;
  std::chrono::milliseconds inactiveRetry{500};
};

struct Verdict {
  std::string uid;  // the MySQL it is about (a recreated database starts afresh)
  HealthFacts facts;
};

class GroupWatch;

class HealthChecker {
 public:
  HealthChecker(const runtime::ObjectCache& mysqls, const runtime::ObjectCache& secrets,
                const runtime::ObjectCache& statefulSets, std::function<void(const std::string& key)> onChange,
                HealthCheckerOptions opts = {}, const core::Clock& clock = core::systemClock(),
                core::Logger log = core::Logger::root());
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  // Stops checking: queued checks are dropped, checks in flight get `grace` to end (a probe is
  // bounded by probeTimeout per step, but a name lookup is not interruptible). Returns whether
  // every worker ended; when one did not, its thread is detached and the checker must outlive
  // it — the process exits (std::_Exit) rather than destroy it.
  bool stop(std::chrono::milliseconds grace = std::chrono::milliseconds::max());
  // Check this database soon (deduplicated).
  void trigger(const std::string& key);
  // The latest verdict for a MySQL of this uid, if any.
  std::optional<HealthFacts> verdict(const std::string& key, const std::string& uid) const;
  void forget(const std::string& key);

  // What a check of this MySQL would dial (exposed for tests); an error when it cannot be built
  // (auth Secret or server CA missing).
  core::Result<ProbeTarget> target(const runtime::Json& mysql) const;
  // One check of a database, on the calling thread (the workers' step, exposed for tests):
  // probes it when it has a StatefulSet and is not halted, records the verdict, calls onChange
  // when the verdict changed. Returns whether it probed (and so schedules the next check).
  bool check(const std::string& key);

 private:
  struct Metrics;
  void worker();
  // What each pod presents; a pod that does not serve the Secret's certificate is asked to
  // reload (and checked again). `previous` carries the last reload times.
  std::vector<ServedCertificate> checkServed(const api::MySQL& my, const ProbeTarget& t, const std::string& serverVersion,
                                             const std::optional<HealthFacts>& previous);
  // What the server Secret holds, for comparing with what a pod serves.
  struct ServedWant {
    std::string secretName;
    std::optional<CertificateSummary> cert;
    std::string holds;  // its serial, or "none"
  };
  // A pod that does not serve the Secret's certificate: asked to reload, checked again; `s` says how it went.
  void askReload(ServedCertificate& s, const api::MySQL& my, const ProbeTarget& pod,
                 const ServedWant& w, const std::string& serverVersion);
  // Whether the pods should reload for a change of the database's trust (see trustPropagation).
  bool trustSpreading(const api::MySQL& my, const std::string& trust);
  // The digests of the CAs every pod has reloaded through a whole trustPropagation.
  std::vector<std::string> loadedCas(const std::string& key) const;
  void reloadTrust(const api::MySQL& my, const std::string& podName, const ProbeTarget& pod, const std::string& serverVersion);
  void noteReloaded(const api::MySQL& my, const std::string& pod);
  // Expired / expires soon, and the served-expiry gauge.
  void noteExpiry(ServedCertificate& s, const api::MySQL& my);
  // The PEMs the database's servers are verified with: its server Secret's CA and its own trust
  // bundle's CAs (never another database's).
  core::Result<std::string> trustOf(const runtime::Json& server, const std::string& serverSecret, const api::MySQL& my) const;
  // Keeps the verdict and tells onChange when it changed.
  void record(const std::string& key, const std::string& uid, const HealthFacts& facts, const std::string& ns,
              const std::string& name);
  void recordSecretExpiries(const api::MySQL& my);
  // A group's round (group.h): its members observed and driven; nullopt when it cannot be dialled
  // yet. `watch` then keeps asking them until the check ends (GroupWatch, health_checker.cpp).
  std::optional<GroupFacts> checkGroup(const api::MySQL& my, const Json& obj, std::unique_ptr<GroupWatch>& watch);

  const runtime::ObjectCache& mysqls_;
  const runtime::ObjectCache& secrets_;
  const runtime::ObjectCache& statefulSets_;
  std::function<void(const std::string&)> onChange_;
  HealthCheckerOptions opts_;
  core::Logger log_;
  const core::Clock& clock_;
  std::unique_ptr<Metrics> metrics_;
  runtime::WorkQueue queue_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::map<std::string, Verdict> verdicts_;  // guarded by mu_
  std::map<std::string, int> reloadRetries_;  // checks in a row with an outdated pod; guarded by mu_
  std::map<std::string, int64_t> failures_;   // failed checks in a row (spec.healthChecker); guarded by mu_
  std::set<std::string> unsettledGroups_;      // groups not all ONLINE at the last check; guarded by mu_
  struct TrustReloads {
    std::string trust;  // the PEMs last seen
    core::WallTime changedAt{};
    std::chrono::milliseconds window{0};
    std::string loaded;  // the PEMs every pod has reloaded (late in the window)
    std::vector<std::string> loadedCas;  // their fingerprints
    void settle();  // what is trusted now is loaded
    std::map<std::string, core::WallTime> reloadedAt;  // by pod: its last successful reload since the change
  };
  std::map<std::string, TrustReloads> trust_;  // guarded by mu_
  // The pause after a check of this MySQL: spec.healthChecker.periodSeconds, else `interval`.
  std::chrono::milliseconds intervalOf(const std::string& key) const;
  // spec.healthChecker's failureThreshold: whether a failed check is reported now, or the
  // verdict before it stands (counted in failures_).
  bool failureReported(const std::string& key, const std::string& uid, const api::MySQL* my, const HealthFacts& facts);
  // spec.healthChecker's write: nothing without it or with disableWriteCheck.
  core::Status writeCheck(const api::MySQL* my, const ProbeTarget& t) const;
  std::vector<std::thread> threads_;         // start()/stop() only
  std::mutex runningMu_;
  std::condition_variable runningCv_;
  int running_ = 0;  // workers not yet returned; guarded by runningMu_
};

}  // namespace mysqlop::community
