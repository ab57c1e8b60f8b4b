#pragma once
// Bringing the chart's CRDs into the cluster after `helm upgrade` (issue 20). Helm installs a
// chart's crds/ on the first install only; the community chart also ships them in a ConfigMap
// mounted at --crds-dir, and each replica, as it starts (before it reports Ready, so that a
// rollout is complete only then), updates each CRD that lacks what the chart's has — unless the
// served one came from a newer chart (a rollback keeps the newer schema, so no field a user
// already set is pruned, and an old replica starting beside a new one changes nothing).
// docs/install.md.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/client/rest_client.h"
#include "common/core/log.h"
#include "common/core/result.h"

namespace mysqlop::community {

// The annotation an updated CRD carries: the chart version it came from.
inline constexpr std::string_view kCrdChartVersionAnnotation = "mysqlop.io/chart-version";

// Semantic versions compared: <0, 0, >0. major.minor.patch numerically (missing parts are 0), a
// pre-release ("-rc.1") before its release, pre-release identifiers numeric or by text; "+build"
// ignored; a leading "v" allowed. Nullopt when either is not a version.
std::optional<int> compareVersions(std::string_view a, std::string_view b);

// Whether every field of `want` is in `have` with the same value (objects: a subset of keys;
// arrays: the same length, element by element). What the API server adds (defaults, status) or a
// newer chart added does not count as a difference.
bool covers(const nlohmann::json& have, const nlohmann::json& want);

// kNotOurs: the served CRD was not installed by mysqlop (KubeDB's own, say: the names are
// KubeDB's) — it is never touched, and the replica stays not ready saying so.
enum class CrdStep { kNone, kUpdate, kKeepNewer, kNotOurs };
struct CrdDecision {
  CrdStep step = CrdStep::kNone;
  std::string why;
};
// What to do with the served CRD given the chart's (`shipped`) of `chartVersion`. Ours: it carries
// the chart's app.kubernetes.io/name label (Helm installs crds/ with it) or the chart-version
// annotation this operator writes.
CrdDecision decideCrd(const nlohmann::json& served, const nlohmann::json& shipped, const std::string& chartVersion);

struct ShippedCrds {
  std::string chartVersion;
  std::vector<nlohmann::json> crds;
};
// Reads a --crds-dir: the file chartVersion and every *.json (a CRD each).
core::Result<ShippedCrds> readShippedCrds(const std::string& dir);

// Brings each shipped CRD in (a conflict, or an API server that is not answering, is retried a
// few times with a fresh read). Returns how many were updated; every failure is logged and
// reported in the error, the rest still go.
core::Result<int> upgradeCrds(client::RestClient& cli, const ShippedCrds& shipped, const core::Logger& log);

// The upgrade as a readiness condition: the first attempt on the caller's thread; while it fails,
// again every `retry` on a thread of its own, and notReady() says why — a replica whose CRDs are
// not yet the chart's is not ready, so a rollout (`helm upgrade --wait`) does not complete on it.
// Stops retrying when destroyed.
class CrdUpgradeLoop {
 public:
  using UpgradeFn = std::function<core::Result<int>()>;
  CrdUpgradeLoop(UpgradeFn upgrade, std::string chartVersion, std::chrono::milliseconds retry, core::Logger log);
  ~CrdUpgradeLoop();
  CrdUpgradeLoop(const CrdUpgradeLoop&) = delete;
  CrdUpgradeLoop& operator=(const CrdUpgradeLoop&) = delete;
  void start();
  void stop();  // no more retries (waits for one in flight)
  std::optional<std::string> notReady() const;

 private:
  bool attempt();  // true once the CRDs are the chart's
  UpgradeFn upgrade_;
  std::string chartVersion_;
  std::chrono::milliseconds retry_;
  core::Logger log_;
  mutable std::mutex mu_;
  std::optional<std::string> failure_;  // guarded by mu_
  std::jthread thread_;
};

}  // namespace mysqlop::community
