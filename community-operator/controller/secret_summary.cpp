#include "community-operator/controller/secret_summary.h"

#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/object.h"
#include "common/pki/pki.h"
#include "common/runtime/secrets.h"

namespace mysqlop::community {
namespace {

// The certificate's SHA-256 fingerprint; nullopt when it cannot be encoded.
std::optional<std::string> digestOf(const pki::Certificate& c) {
  auto fp = pki::fingerprint(c);
  if (fp.empty()) return std::nullopt;
  return fp;
}

std::optional<CertificateSummary> summarize(const std::string& pem) {
  auto c = pki::parseCertificate(pem);
  if (!c) return std::nullopt;
  auto digest = digestOf(*c);
  if (!digest) return std::nullopt;
  const auto facts = pki::inspect(*c);
  return CertificateSummary{*digest, facts.serialHex, facts.notBefore, facts.notAfter, facts.subjectLine};
}

const Json* summaryOf(const Json& secret) {
  auto it = secret.find(kSecretSummaryField);
  return it != secret.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace

std::string CaPool::put(const std::string& pem) {
  auto digest = certificateDigest(pem);
  if (!digest) return "";
  std::lock_guard lock(mu_);
  if (pems_.emplace(*digest, pem).second) {
    order_.push_back(*digest);
    while (order_.size() > capacity_) {
      pems_.erase(order_.front());
      order_.pop_front();
    }
  }
  return *digest;
}

std::optional<std::string> CaPool::get(const std::string& sha256) const {
  std::lock_guard lock(mu_);
  auto it = pems_.find(sha256);
  if (it == pems_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> CaPool::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    if (auto p = pems_.find(*it); p != pems_.end()) out.push_back(p->second);
  }
  return out;
}

size_t CaPool::size() const {
  std::lock_guard lock(mu_);
  return pems_.size();
}

std::optional<std::string> certificateDigest(const std::string& pem) {
  auto c = pki::parseCertificate(pem);
  if (!c) return std::nullopt;
  return digestOf(*c);
}

std::function<void(Json&)> summarizingSecretTransform(std::set<std::string> keep, std::shared_ptr<CaPool> pool) {
  keep.insert("tls.crt");
  keep.insert("ca.crt");
  return [trim = runtime::secretTransform(std::move(keep)), pool = std::move(pool)](Json& s) {
    trim(s);
    auto data = s.find("data");
    if (data == s.end() || !data->is_object()) return;
    Json summary = Json::object();
    if (auto crt = kube::secretValue(s, "tls.crt")) {
      if (auto c = summarize(*crt)) {
        summary["tls.crt"] = {{"sha256", c->sha256},
                              {"serial", c->serialHex},
                              {"notBefore", core::formatTime(c->notBefore)},
                              {"notAfter", core::formatTime(c->notAfter)},
                              {"subject", c->subject}};
      }
      data->erase("tls.crt");
    }
    if (auto ca = kube::secretValue(s, "ca.crt")) {
      // Each certificate on its own (a trust bundle holds several), in the pool's spelling.
      Json all = Json::array();
      if (auto chain = pki::parseCertificateChain(*ca)) {
        for (const auto& c : *chain) {
          if (auto digest = pool->put(c.toPem()); !digest.empty()) all.push_back(digest);
        }
      }
      if (!all.empty()) summary["ca.crt"] = {{"sha256", all[0]}, {"all", all}};
      data->erase("ca.crt");
    }
    if (!summary.empty()) s[kSecretSummaryField] = std::move(summary);
  };
}

std::optional<CertificateSummary> certificateOf(const Json& secret) {
  if (const Json* sum = summaryOf(secret)) {
    auto it = sum->find("tls.crt");
    if (it == sum->end() || !it->is_object()) return std::nullopt;
    auto notBefore = core::parseTime(it->value("notBefore", ""));
    auto notAfter = core::parseTime(it->value("notAfter", ""));
    if (!notBefore || !notAfter) return std::nullopt;
    return CertificateSummary{it->value("sha256", ""), it->value("serial", ""), *notBefore, *notAfter, it->value("subject", "")};
  }
  auto crt = kube::secretValue(secret, "tls.crt");
  if (!crt) return std::nullopt;
  return summarize(*crt);
}

std::optional<std::string> caOf(const Json& secret, const CaPool& pool) {
  if (auto ca = kube::secretValue(secret, "ca.crt"); ca && !ca->empty()) return ca;
  const Json* sum = summaryOf(secret);
  if (!sum) return std::nullopt;
  auto it = sum->find("ca.crt");
  if (it == sum->end() || !it->is_object()) return std::nullopt;
  return pool.get(it->value("sha256", ""));
}

std::vector<std::string> caDigestsOf(const Json& secret) {
  std::vector<std::string> out;
  if (const Json* sum = summaryOf(secret)) {
    auto it = sum->find("ca.crt");
    if (it == sum->end() || !it->is_object()) return out;
    for (const auto& d : it->value("all", Json::array())) {
      if (d.is_string()) out.push_back(d.get<std::string>());
    }
    if (out.empty() && it->contains("sha256") && (*it)["sha256"].is_string()) out.push_back((*it)["sha256"].get<std::string>());
    return out;
  }
  auto ca = kube::secretValue(secret, "ca.crt");
  if (!ca) return out;
  if (auto chain = pki::parseCertificateChain(*ca)) {
    for (const auto& c : *chain) {
      if (auto d = digestOf(c)) out.push_back(*d);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> casOf(const Json& secret, const CaPool& pool) {
  if (!summaryOf(secret)) {
    auto ca = kube::secretValue(secret, "ca.crt");
    if (!ca) return std::nullopt;
    auto chain = pki::parseCertificateChain(*ca);
    if (!chain) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& c : *chain) out.push_back(c.toPem());
    return out;
  }
  std::vector<std::string> out;
  for (const auto& d : caDigestsOf(secret)) {
    auto pem = pool.get(d);
    if (!pem) return std::nullopt;
    out.push_back(std::move(*pem));
  }
  return out;
}

bool hasCa(const Json& secret) {
  if (auto ca = kube::secretValue(secret, "ca.crt"); ca && !ca->empty()) return true;
  const Json* sum = summaryOf(secret);
  return sum && sum->contains("ca.crt");
}

}  // namespace mysqlop::community
