#include "community-operator/controller/crd_upgrade.h"

#include <condition_variable>

#include <charconv>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/core/file.h"
#include "common/kube/object.h"
#include "common/kube/resource.h"

namespace mysqlop::community {

using Json = nlohmann::json;

namespace {

struct Version {
  std::vector<uint64_t> core;       // major, minor, patch
  std::vector<std::string> pre;     // pre-release identifiers; empty: a release
};

bool numeric(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<uint64_t> number(std::string_view s) {
  if (!numeric(s)) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::optional<Version> parseVersion(std::string_view s) {
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  if (auto plus = s.find('+'); plus != std::string_view::npos) s = s.substr(0, plus);
  Version v;
  std::string_view core = s;
  if (auto dash = s.find('-'); dash != std::string_view::npos) {
    core = s.substr(0, dash);
    for (auto id : split(s.substr(dash + 1), '.')) {
      if (id.empty()) return std::nullopt;
      v.pre.emplace_back(id);
    }
  }
  auto parts = split(core, '.');
  if (parts.empty() || parts.size() > 3) return std::nullopt;
  for (auto p : parts) {
    auto n = number(p);
    if (!n) return std::nullopt;
    v.core.push_back(*n);
  }
  v.core.resize(3, 0);
  return v;
}

}  // namespace

std::optional<int> compareVersions(std::string_view a, std::string_view b) {
  auto va = parseVersion(a), vb = parseVersion(b);
  if (!va || !vb) return std::nullopt;
  for (size_t i = 0; i < 3; ++i) {
    if (va->core[i] != vb->core[i]) return va->core[i] < vb->core[i] ? -1 : 1;
  }
  if (va->pre.empty() || vb->pre.empty()) {
    if (va->pre.empty() && vb->pre.empty()) return 0;
    return va->pre.empty() ? 1 : -1;  // a release comes after its pre-releases
  }
  for (size_t i = 0; i < std::min(va->pre.size(), vb->pre.size()); ++i) {
    const auto& x = va->pre[i];
    const auto& y = vb->pre[i];
    auto nx = number(x), ny = number(y);
    if (nx && ny) {
      if (*nx != *ny) return *nx < *ny ? -1 : 1;
    } else if (nx || ny) {
      return nx ? -1 : 1;  // numeric identifiers come first
    } else if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  if (va->pre.size() == vb->pre.size()) return 0;
  return va->pre.size() < vb->pre.size() ? -1 : 1;
}

bool covers(const Json& have, const Json& want) {
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (const auto& [k, v] : want.items()) {
      auto it = have.find(k);
      if (it == have.end() || !covers(*it, v)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!covers(have[i], want[i])) return false;
    }
    return true;
  }
  if (want.is_number() && have.is_number()) return want.get<double>() == have.get<double>();  // 1 and 1.0
  return have == want;
}

CrdDecision decideCrd(const Json& served, const Json& shipped, const std::string& chartVersion) {
  constexpr std::string_view kNameLabel = "app.kubernetes.io/name";
  const auto servedLabels = kube::labels(served), shippedLabels = kube::labels(shipped);
  const auto mine = shippedLabels.find(std::string(kNameLabel));
  const auto theirs = servedLabels.find(std::string(kNameLabel));
  const bool labelled = mine != shippedLabels.end() && theirs != servedLabels.end() && theirs->second == mine->second;
  if (!labelled && !kube::annotations(served).count(std::string(kCrdChartVersionAnnotation))) {
    return {CrdStep::kNotOurs,
            fmt::format("CRD {} was not installed by mysqlop (its {} label is \"{}\"): mysqlop does not touch it. KubeDB "
                        "and mysqlop must not run side by side; to move from KubeDB, see docs/install.md, \"Coming from KubeDB\"",
                        kube::name(served), kNameLabel, theirs == servedLabels.end() ? "" : theirs->second)};
  }
  const Json& want = shipped.value("spec", Json::object());
  if (covers(served.value("spec", Json::object()), want)) return {CrdStep::kNone, "up to date"};
  auto annotations = kube::annotations(served);
  auto from = annotations.find(std::string(kCrdChartVersionAnnotation));
  if (from == annotations.end()) {
    // Installed by Helm from a chart's crds/ (never updated since): ours is at least as new.
    return {CrdStep::kUpdate, fmt::format("installed from a chart's crds/; chart {} has a newer schema", chartVersion)};
  }
  auto cmp = compareVersions(chartVersion, from->second);
  if (cmp && *cmp < 0) {
    return {CrdStep::kKeepNewer,
            fmt::format("it comes from chart {}, newer than this chart ({}): kept", from->second, chartVersion)};
  }
  return {CrdStep::kUpdate, fmt::format("from chart {} to chart {}", from->second, chartVersion)};
}

core::Result<ShippedCrds> readShippedCrds(const std::string& dir) {
  namespace fs = std::filesystem;
  ShippedCrds out;
  auto version = core::readFile((fs::path(dir) / "chartVersion").string());
  if (!version) return core::invalid(fmt::format("--crds-dir {}: no chartVersion file", dir));
  out.chartVersion = *version;
  while (!out.chartVersion.empty() && isspace(static_cast<unsigned char>(out.chartVersion.back()))) out.chartVersion.pop_back();
  if (!compareVersions(out.chartVersion, out.chartVersion)) {
    return core::invalid(fmt::format("--crds-dir {}: chartVersion \"{}\" is not a version", dir, out.chartVersion));
  }
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    // A mounted ConfigMap also holds the kubelet's "..data" and "..<timestamp>" entries.
    if (name.rfind("..", 0) == 0 || e.path().extension() != ".json") continue;
    files.push_back(e.path());
  }
  if (ec) return core::invalid(fmt::format("--crds-dir {}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = core::readFile(f.string());
    Json crd = text ? Json::parse(*text, nullptr, false) : Json();
    if (!crd.is_object() || crd.value("kind", "") != "CustomResourceDefinition" || kube::name(crd).empty()) {
      return core::invalid(fmt::format("--crds-dir {}: {} is not a CustomResourceDefinition", dir, f.filename().string()));
    }
    // Whoever may edit the ConfigMap must not get more than the chart's CRDs out of this
    // operator's rights: only the three names, and no conversion webhook (it would receive every
    // MySQL of the cluster).
    static const std::set<std::string> kOurs = {"mysqls.kubedb.com", "mysqlversions.catalog.kubedb.com",
                                                "mysqlopsrequests.ops.kubedb.com"};
    if (!kOurs.count(kube::name(crd))) {
      return core::invalid(fmt::format("--crds-dir {}: {} is CRD {}, not one of mysqlop's", dir, f.filename().string(), kube::name(crd)));
    }
    const Json* conversion = kube::find(crd, {"spec", "conversion", "strategy"});
    if (conversion && !(conversion->is_string() && conversion->get<std::string>() == "None")) {
      return core::invalid(fmt::format("--crds-dir {}: {} asks for a conversion other than None ({}): refused", dir,
                                       f.filename().string(), conversion->dump()));
    }
    out.crds.push_back(std::move(crd));
  }
  if (out.crds.empty()) return core::invalid(fmt::format("--crds-dir {}: no CRD (*.json)", dir));
  return out;
}

namespace {
// An API server that is starting, overloaded or briefly unreachable: worth another try.
bool retryable(const core::Error& e) {
  return e.is(core::ErrorCode::kUnavailable) || e.is(core::ErrorCode::kTimeout) ||
         e.is(core::ErrorCode::kTooManyRequests) || e.is(core::ErrorCode::kInternal);
}


// One CRD: true when it was updated. Conflicts and a briefly unavailable API server are retried.
core::Result<bool> upgradeCrd(client::RestClient& cli, const Json& crd, const std::string& chartVersion,
                              const core::Logger& log) {
  const std::string name = kube::name(crd);
  core::Error last = core::unavailable("no attempt");
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500 * attempt));
    auto served = cli.get(kube::kCustomResourceDefinitions, "", name);
    if (!served) {
      // Helm installs crds/ on the first install; a CRD missing now was removed on purpose.
      if (!retryable(served.error())) return served.error();
      last = served.error();
      continue;
    }
    CrdDecision d = decideCrd(*served, crd, chartVersion);
    if (d.step == CrdStep::kNotOurs) return core::invalid(d.why);
    if (d.step == CrdStep::kNone) return false;
    if (d.step == CrdStep::kKeepNewer) {
      log.info("the served CRD is newer than this chart's; kept", {{"why", d.why}});
      return false;
    }
    Json next = *served;
    next["spec"] = crd.value("spec", Json::object());
    for (const auto& [k, v] : kube::labels(crd)) next["metadata"]["labels"][k] = v;
    next["metadata"]["annotations"][std::string(kCrdChartVersionAnnotation)] = chartVersion;
    auto written = cli.update(kube::kCustomResourceDefinitions, next);
    if (written) {
      log.info("updated the CRD to this chart's", {{"why", d.why}});
      return true;
    }
    if (!written.error().is(core::ErrorCode::kConflict) && !retryable(written.error())) return written.error();
    last = written.error();
  }
  return last;
}

}  // namespace

core::Result<int> upgradeCrds(client::RestClient& cli, const ShippedCrds& shipped, const core::Logger& log) {
  int updated = 0;
  std::vector<std::string> failed;
  for (const auto& crd : shipped.crds) {
    const std::string name = kube::name(crd);
    auto done = upgradeCrd(cli, crd, shipped.chartVersion, log.with("crd", name));
    if (!done) {
      log.error("cannot bring the CRD up to this chart's", {{"crd", name}, {"error", done.error().toString()}});
      failed.push_back(name + ": " + done.error().toString());
    } else if (*done) {
      ++updated;
    }
  }
  if (!failed.empty()) return core::unavailable(fmt::format("{}", fmt::join(failed, "; ")));
  return updated;
}

CrdUpgradeLoop::CrdUpgradeLoop(UpgradeFn upgrade, std::string chartVersion, std::chrono::milliseconds retry, core::Logger log)
    : upgrade_(std::move(upgrade)), chartVersion_(std::move(chartVersion)), retry_(retry), log_(std::move(log)) {}

CrdUpgradeLoop::~CrdUpgradeLoop() { stop(); }

void CrdUpgradeLoop::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

bool CrdUpgradeLoop::attempt() {
  auto n = upgrade_();
  std::lock_guard lock(mu_);
  if (n) {
    if (*n > 0) log_.info("brought the CRDs up to this chart's", {{"chartVersion", chartVersion_}, {"updated", *n}});
    failure_.reset();
    return true;
  }
  failure_ = fmt::format("the CRDs are not yet this chart's ({}): {}; trying again every {}s", chartVersion_, n.error().message,
                         std::chrono::duration_cast<std::chrono::seconds>(retry_).count());
  return false;
}

void CrdUpgradeLoop::start() {
  if (attempt()) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      std::unique_lock lock(m);
      if (cv.wait_for(lock, stop, retry_, [] { return false; })) break;
      if (stop.stop_requested() || attempt()) break;
    }
  });
}

std::optional<std::string> CrdUpgradeLoop::notReady() const {
  std::lock_guard lock(mu_);
  return failure_;
}

}  // namespace mysqlop::community
