#pragma once
// What the community operator keeps of a TLS Secret (issue 18). Its cache holds a thousand
// databases' server, client and exporter Secrets; their certificates were two thirds of its
// memory, yet all it reads of a tls.crt is which certificate it is and when it is valid, and of a
// ca.crt, the PEM of the server's CA to verify the server with — the same few CAs for every
// database. So the Secret informer's transform replaces both keys by a summary, and keeps each
// distinct CA once in a `CaPool`:
//
//   auto pool = std::make_shared<CaPool>();
//   InformerOptions{.transform = summarizingSecretTransform({"username", "password"}, pool)}
//   certificateOf(secret)   // the summary (or, for a Secret not transformed, its tls.crt parsed)
//   caOf(secret, *pool)     // the CA PEM; nullopt when the pool no longer holds it: read the
//                           // Secret again (through the transform, which puts it back)

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.h"

namespace mysqlop::community {

using Json = nlohmann::json;

// Where the summary lives in a transformed Secret: a top-level field no API object has.
inline constexpr const char* kSecretSummaryField = "mysqlop.io/summary";

struct CertificateSummary {
  std::string sha256;     // of the certificate's DER: the same certificate, whatever its PEM spelling
  std::string serialHex;  // as pki::inspect spells it
  core::WallTime notBefore{}, notAfter{};
  std::string subject;    // X509_NAME_oneline's spelling (pki::CertFacts::subjectLine)
};

// Distinct CA certificates by digest, at most `capacity` (the oldest go first).
class CaPool {
 public:
  explicit CaPool(size_t capacity = 256) : capacity_(capacity) {}
  // Keeps `pem` under its digest; returns the digest.
  std::string put(const std::string& pem);
  std::optional<std::string> get(const std::string& sha256) const;
  // Every CA kept, newest first.
  std::vector<std::string> all() const;
  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> pems_;  // guarded by mu_
  std::deque<std::string> order_;            // insertion order; guarded by mu_
};

// The digest of a certificate (hex SHA-256 of its DER); nullopt when `pem` holds none.
std::optional<std::string> certificateDigest(const std::string& pem);

// runtime::secretTransform(keep) and then: data["tls.crt"] becomes its summary; data["ca.crt"]
// goes into `pool`, the summary keeping its digest. A tls.crt that does not parse is dropped
// (readers see a Secret without a certificate, which is what it is to them).
std::function<void(Json&)> summarizingSecretTransform(std::set<std::string> keep, std::shared_ptr<CaPool> pool);

// The Secret's certificate: from its summary, else its tls.crt parsed; nullopt when it has none.
std::optional<CertificateSummary> certificateOf(const Json& secret);
// The Secret's CA (PEM): its ca.crt, else the pooled one its summary names; nullopt when it has
// none, or the pool dropped it.
std::optional<std::string> caOf(const Json& secret, const CaPool& pool);
// The digests of every CA certificate the Secret's ca.crt holds (a trust bundle holds several),
// in order; empty when it holds none.
std::vector<std::string> caDigestsOf(const Json& secret);
// Their PEMs (the pool's, or parsed from the Secret); nullopt when it has none or the pool
// dropped one.
std::optional<std::vector<std::string>> casOf(const Json& secret, const CaPool& pool);
// Whether the Secret names a CA (in data or in its summary).
bool hasCa(const Json& secret);

}  // namespace mysqlop::community
