#include "community-operator/controller/trust_bundle.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/meta.h"
#include "common/api/naming.h"
#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/duration.h"
#include "common/kube/object.h"

namespace mysqlop::community {
namespace {

// cert-manager's defaults: a Certificate lasts 90 days and renews with a third of it left.
constexpr std::chrono::seconds kDefaultDuration = std::chrono::hours(24 * 90);

std::optional<std::chrono::seconds> seconds(const std::string& goDuration) {
  if (goDuration.empty()) return std::nullopt;
  auto ns = kube::parseGoDuration(goDuration);
  if (!ns || *ns <= 0) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::nanoseconds(*ns));
}

}  // namespace

TrustDecision decideTrust(const TrustInputs& in, core::WallTime now) {
  std::map<std::string, std::vector<std::string>> used;
  for (const auto& u : in.uses) {
    if (u.sha256.empty()) continue;
    auto& by = used[u.sha256];
    if (std::find(by.begin(), by.end(), u.by) == by.end()) by.push_back(u.by);
  }
  TrustDecision d;
  auto retiring = [&](core::WallTime since) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(since + in.grace - now);
    d.nextChange = d.nextChange ? std::min(*d.nextChange, left) : left;
  };
  for (const auto& prev : in.previous) {
    if (auto it = used.find(prev.sha256); it != used.end()) {
      d.cas.push_back({prev.sha256, std::nullopt, it->second});
    } else if (!in.servedKnown) {
      // A pod not seen may serve it: it neither starts its grace nor leaves.
      d.cas.push_back({prev.sha256, prev.unusedSince, {}});
    } else {
      const core::WallTime since = prev.unusedSince.value_or(now);
      if (now >= since + in.grace) continue;  // unused for the whole grace: it leaves
      d.cas.push_back({prev.sha256, since, {}});
      retiring(since);
    }
  }
  for (const auto& u : in.uses) {
    if (u.sha256.empty()) continue;
    if (std::any_of(d.cas.begin(), d.cas.end(), [&](const TrustedCa& c) { return c.sha256 == u.sha256; })) continue;
    d.cas.push_back({u.sha256, std::nullopt, used[u.sha256]});
  }
  return d;
}

std::chrono::seconds retentionOf(const api::MySQL& my, std::chrono::seconds configured) {
  if (configured.count() > 0) return configured;
  std::chrono::seconds longest{0};
  for (const auto& alias : api::tlsAliases()) {
    const api::CertificateSpec* c = my.tls ? my.tls->certificate(alias) : nullptr;
    std::optional<std::chrono::seconds> renewBefore = c ? seconds(c->renewBefore) : std::nullopt;
    if (!renewBefore) renewBefore = (c ? seconds(c->duration) : std::nullopt).value_or(kDefaultDuration) / 3;
    longest = std::max(longest, *renewBefore);
  }
  return longest;
}

core::Result<Json> buildTrustBundle(const api::MySQL& my, const std::vector<TrustedCa>& cas,
                                    const std::map<std::string, std::string>& pems) {
  std::string bundle;
  Json state = Json::array();
  for (const auto& ca : cas) {
    auto it = pems.find(ca.sha256);
    if (it == pems.end() || it->second.empty()) {
      return core::notFound(fmt::format("the CA certificate sha256:{} is not at hand", ca.sha256));
    }
    bundle += it->second;
    if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
    Json entry = {{"sha256", ca.sha256}};
    if (ca.unusedSince) entry["unusedSince"] = core::formatTime(*ca.unusedSince);
    state.push_back(std::move(entry));
  }
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", api::objectMeta(my, api::trustBundleSecretName(my.name))},
                 {"type", "Opaque"},
                 {"data", {{"ca.crt", kube::base64Encode(bundle)}}}};
  secret["metadata"]["annotations"] = {{kTrustStateAnnotation, state.dump()}};
  return secret;
}

std::vector<TrustedCa> trustedCasOf(const Json& bundle) {
  const auto text = kube::annotation(bundle, kTrustStateAnnotation);
  if (!text || text->empty()) return {};
  const Json state = Json::parse(*text, nullptr, false);
  if (!state.is_array()) return {};
  std::vector<TrustedCa> out;
  for (const auto& e : state) {
    if (!e.is_object() || !e.contains("sha256") || !e["sha256"].is_string()) continue;
    TrustedCa ca{e["sha256"].get<std::string>(), std::nullopt, {}};
    if (auto it = e.find("unusedSince"); it != e.end() && it->is_string()) {
      if (auto t = core::parseTime(it->get<std::string>())) ca.unusedSince = *t;
    }
    out.push_back(std::move(ca));
  }
  return out;
}

}  // namespace mysqlop::community
