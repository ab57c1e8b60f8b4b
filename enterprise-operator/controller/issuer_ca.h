#pragma once
// The CA a `ca` issuer signs with now (issue 32). cert-manager's CA issuer signs every new
// certificate with the key pair in its Secret (spec.ca.secretName: in the Issuer's namespace, or
// for a ClusterIssuer in cert-manager's cluster resource namespace). When that CA changes — it is
// itself a Certificate re-keyed on renewal (rotationPolicy: Always), or someone replaced the
// Secret — the next leaf comes from the new CA. The enterprise operator reads that Secret (never
// keeping or logging its key), and publishes the CA for each database as `<db>-issuer-ca`
// (`ca.crt`), from which the community operator puts it into the database's trust bundle before
// any leaf of it exists.
//
//   IssuerCas cas(client, issuers, clusterIssuers, {.clusterResourceNamespace = "cert-manager"},
//                 [&](const std::string& ns, const std::string& secret) { enqueue MySQLs using it });
//   cas.start();                       // re-reads every CA issuer's Secret every `poll`
//   IssuerCa ca = cas.caOf(issuer, kind); // the trust anchor as last read (read now when never read)

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "common/client/rest_client.h"
#include "common/core/log.h"
#include "common/core/result.h"
#include "common/runtime/cache.h"

namespace mysqlop::enterprise {

using runtime::Json;

// The Secret holding a `ca` issuer's key pair: {namespace, name}; nullopt for another kind of
// issuer. `kind` is "Issuer" or "ClusterIssuer".
std::optional<std::pair<std::string, std::string>> caSecretOf(const Json& issuer, const std::string& kind,
                                                              const std::string& clusterResourceNamespace);
// What a client must trust for the leaves such a CA signs: the Secret's ca.crt when it holds
// certificates, else the last certificate of its tls.crt (a self-signed CA is its own). PEM
// (one or more certificates); nullopt when the Secret holds none.
std::optional<std::string> trustAnchorOf(const Json& caSecret);

// What the operator knows of an issuer's CA: `known` false when its Secret could not be read now
// (what was published stays); `pem` empty for an issuer that is not a `ca` one (or whose Secret
// is gone).
struct IssuerCa {
  bool known = false;
  std::string pem;
  bool operator==(const IssuerCa&) const = default;
};

struct IssuerCasOptions {
  std::string clusterResourceNamespace = "cert-manager";
  std::chrono::milliseconds poll{30000};
};

class IssuerCas {
 public:
  // `changed` is called (on the poller's thread) with a CA Secret whose anchor differs from the
  // one read before.
  IssuerCas(client::RestClient& cli, const runtime::ObjectCache& issuers, const runtime::ObjectCache& clusterIssuers,
            IssuerCasOptions opts, std::function<void(const std::string& ns, const std::string& name)> changed,
            core::Logger log = core::Logger::root());
  ~IssuerCas();
  IssuerCas(const IssuerCas&) = delete;
  IssuerCas& operator=(const IssuerCas&) = delete;

  void start();
  void stop();
  // The anchor of this issuer's CA as last read (read now when never read).
  IssuerCa caOf(const Json& issuer, const std::string& kind);
  // Reads every `ca` issuer's Secret once (the poller's step; exposed for tests).
  void pollOnce();

 private:
  // The anchor in a CA Secret (none: gone or holds no certificate); an error when it cannot be read.
  core::Result<std::optional<std::string>> read(const std::string& ns, const std::string& name);

  client::RestClient& cli_;
  const runtime::ObjectCache& issuers_;
  const runtime::ObjectCache& clusterIssuers_;
  IssuerCasOptions opts_;
  std::function<void(const std::string&, const std::string&)> changed_;
  core::Logger log_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> anchors_;  // guarded by mu_
  std::condition_variable_any cv_;
  std::jthread thread_;
};

}  // namespace mysqlop::enterprise
