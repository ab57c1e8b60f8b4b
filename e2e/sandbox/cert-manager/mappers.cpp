#include "e2e/sandbox/cert-manager/mappers.h"

#include "common/kube/object.h"
#include "e2e/sandbox/cert-manager/issuer.h"

namespace mysqlop::sandbox::certmanager {

using runtime::Json;

std::vector<runtime::Request> certificatesForSecret(const runtime::ObjectCache& certificates, const Json& secret) {
  std::vector<runtime::Request> out;
  const std::string ns = kube::namespaceOf(secret);
  for (const auto& c : certificates.list(ns)) {
    if (c->value("spec", Json::object()).value("secretName", "") == kube::name(secret)) out.push_back({ns, kube::name(*c)});
  }
  return out;
}

std::vector<runtime::Request> certificatesForIssuer(const runtime::ObjectCache& certificates, const Json& issuer,
                                                    std::string_view kind) {
  std::vector<runtime::Request> out;
  const std::string ns = kind == "Issuer" ? kube::namespaceOf(issuer) : "";
  for (const auto& c : certificates.list(ns)) {
    const Json ref = c->value("spec", Json::object()).value("issuerRef", Json::object());
    if (ref.value("name", "") == kube::name(issuer) && ref.value("kind", "Issuer") == kind) {
      out.push_back({kube::namespaceOf(*c), kube::name(*c)});
    }
  }
  return out;
}

std::vector<runtime::Request> issuersForSecret(const runtime::ObjectCache& issuers, const Json& secret) {
  std::vector<runtime::Request> out;
  for (const auto& i : issuers.list(kube::namespaceOf(secret))) {
    if (caSecretName(*i) == kube::name(secret)) out.push_back({kube::namespaceOf(*i), kube::name(*i)});
  }
  return out;
}

std::vector<runtime::Request> clusterIssuersForSecret(const runtime::ObjectCache& clusterIssuers, const Json& secret,
                                                      const std::string& clusterResourceNamespace) {
  std::vector<runtime::Request> out;
  if (kube::namespaceOf(secret) != clusterResourceNamespace) return out;
  for (const auto& i : clusterIssuers.list()) {
    if (caSecretName(*i) == kube::name(secret)) out.push_back({"", kube::name(*i)});
  }
  return out;
}

}  // namespace mysqlop::sandbox::certmanager
