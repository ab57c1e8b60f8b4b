#include "e2e/sandbox/cert-manager/mappers.h"

#include "common/kube/object.h"
#include "e2e/sandbox/cert-manager/issuer.h"

namespace mysqlop::sandbox::certmanager {

using runtime::Json;

namespace {

// A string field, or "" when absent or not a string (mappers run on the informers' threads and
// must not throw on a malformed object).
std::string stringAt(const Json& obj, std::initializer_list<std::string_view> path) {
  const Json* v = kube::find(obj, path);
  return v && v->is_string() ? v->get<std::string>() : "";
}

}  // namespace

std::vector<runtime::Request> certificatesForSecret(const runtime::ObjectCache& certificates, const Json& secret) {
  std::vector<runtime::Request> out;
  const std::string ns = kube::namespaceOf(secret);
  for (const auto& c : certificates.list(ns)) {
    if (stringAt(*c, {"spec", "secretName"}) == kube::name(secret)) out.push_back({ns, kube::name(*c)});
  }
  return out;
}

std::vector<runtime::Request> certificatesForIssuer(const runtime::ObjectCache& certificates, const Json& issuer,
                                                    std::string_view kind) {
  std::vector<runtime::Request> out;
  const std::string ns = kind == "Issuer" ? kube::namespaceOf(issuer) : "";
  for (const auto& c : certificates.list(ns)) {
    const std::string refKind = stringAt(*c, {"spec", "issuerRef", "kind"});
    if (stringAt(*c, {"spec", "issuerRef", "name"}) == kube::name(issuer) && (refKind.empty() ? "Issuer" : refKind) == kind) {
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
