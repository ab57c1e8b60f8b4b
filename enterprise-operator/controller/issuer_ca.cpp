#include "enterprise-operator/controller/issuer_ca.h"

#include <fmt/format.h>

#include <set>

#include "common/kube/object.h"
#include "common/kube/resource.h"
#include "common/pki/pki.h"

namespace mysqlop::enterprise {

std::optional<std::pair<std::string, std::string>> caSecretOf(const Json& issuer, const std::string& kind,
                                                              const std::string& clusterResourceNamespace) {
  const Json* name = kube::find(issuer, {"spec", "ca", "secretName"});
  if (!name || !name->is_string() || name->get<std::string>().empty()) return std::nullopt;
  const std::string ns = kind == "ClusterIssuer" ? clusterResourceNamespace : kube::namespaceOf(issuer);
  return std::make_pair(ns, name->get<std::string>());
}

std::optional<std::string> trustAnchorOf(const Json& caSecret) {
  auto pems = [](const std::optional<std::string>& text) -> std::vector<pki::Certificate> {
    if (!text || text->empty()) return {};
    auto chain = pki::parseCertificateChain(*text);
    return chain ? *chain : std::vector<pki::Certificate>{};
  };
  auto ca = pems(kube::secretValue(caSecret, "ca.crt"));
  if (!ca.empty()) {
    std::string out;
    for (const auto& c : ca) out += c.toPem();
    return out;
  }
  auto chain = pems(kube::secretValue(caSecret, "tls.crt"));
  if (chain.empty()) return std::nullopt;
  return chain.back().toPem();
}

IssuerCas::IssuerCas(client::RestClient& cli, const runtime::ObjectCache& issuers, const runtime::ObjectCache& clusterIssuers,
                     IssuerCasOptions opts, std::function<void(const std::string&, const std::string&)> changed, core::Logger log)
    : cli_(cli),
      issuers_(issuers),
      clusterIssuers_(clusterIssuers),
      opts_(std::move(opts)),
      changed_(std::move(changed)),
      log_(log.with("component", "issuer-cas")) {}

IssuerCas::~IssuerCas() { stop(); }

void IssuerCas::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) {
    std::mutex m;
    std::unique_lock l(m);
    while (!st.stop_requested()) {
      cv_.wait_for(l, st, opts_.poll, [] { return false; });
      if (st.stop_requested()) return;
      pollOnce();
    }
  });
}

void IssuerCas::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

core::Result<std::optional<std::string>> IssuerCas::read(const std::string& ns, const std::string& name) {
  // The whole Secret comes back, key included: only the certificates are taken from it.
  auto secret = cli_.get(kube::kSecrets, ns, name);
  if (!secret && secret.error().is(core::ErrorCode::kNotFound)) return std::optional<std::string>{};
  if (!secret) {
    log_.warn("cannot read a CA issuer's Secret", {{"namespace", ns}, {"name", name}, {"error", secret.error().message}});
    return secret.error();
  }
  return trustAnchorOf(*secret);
}

IssuerCa IssuerCas::caOf(const Json& issuer, const std::string& kind) {
  auto where = caSecretOf(issuer, kind, opts_.clusterResourceNamespace);
  if (!where) return {true, ""};  // not a `ca` issuer: no CA of its own to publish
  {
    std::lock_guard l(mu_);
    if (auto it = anchors_.find(*where); it != anchors_.end()) return {true, it->second.value_or("")};
  }
  auto anchor = read(where->first, where->second);
  if (!anchor) return {false, ""};  // not known now: what was published stays
  std::lock_guard l(mu_);
  return {true, anchors_.emplace(*where, *anchor).first->second.value_or("")};
}

void IssuerCas::pollOnce() {
  std::set<std::pair<std::string, std::string>> secrets;
  for (const auto& i : issuers_.list()) {
    if (auto w = caSecretOf(*i, "Issuer", opts_.clusterResourceNamespace)) secrets.insert(*w);
  }
  for (const auto& i : clusterIssuers_.list()) {
    if (auto w = caSecretOf(*i, "ClusterIssuer", opts_.clusterResourceNamespace)) secrets.insert(*w);
  }
  for (const auto& [ns, name] : secrets) {
    auto anchor = read(ns, name);
    if (!anchor) continue;  // not known now: nothing changes
    bool differs = false;
    {
      std::lock_guard l(mu_);
      auto& known = anchors_[{ns, name}];
      differs = known != *anchor;
      known = *anchor;
    }
    if (differs) {
      log_.info("a CA issuer's CA changed: its databases trust the new one before it signs their certificates",
                {{"namespace", ns}, {"name", name}});
      changed_(ns, name);
    }
  }
  // Secrets no issuer names any more are not read again.
  std::lock_guard l(mu_);
  for (auto it = anchors_.begin(); it != anchors_.end();) {
    it = secrets.count(it->first) ? std::next(it) : anchors_.erase(it);
  }
}

}  // namespace mysqlop::enterprise
