#include "enterprise-operator/controller/mappers.h"

#include <set>

#include "common/api/naming.h"
#include "common/kube/object.h"

namespace mysqlop::enterprise {

using runtime::Json;

namespace {
constexpr const char* kIndexAuth = "auth";
}  // namespace

runtime::Indexers mysqlIndexers() {
  return {{kIndexAuth,
           [](const Json& db) {
             const Json* authName = kube::find(db, {"spec", "authSecret", "name"});
             const std::string auth =
                 authName && authName->is_string() ? authName->get<std::string>() : api::authSecretName(kube::name(db));
             return std::vector<std::string>{runtime::objectKey(kube::namespaceOf(db), auth)};
           }},
          {runtime::kIndexUid, runtime::indexByUid()}};
}

std::vector<runtime::Request> mysqlsForSecret(const runtime::ObjectCache& mysqls, const Json& secret) {
  const std::string ns = kube::namespaceOf(secret), name = kube::name(secret);
  std::set<std::string> keys = runtime::ownersIn(mysqls, secret);
  for (auto& k : mysqls.keysByIndex(kIndexAuth, runtime::objectKey(ns, name))) keys.insert(std::move(k));
  if (auto db = kube::label(secret, api::kLabelInstance); db && !db->empty()) {
    if (const std::string k = runtime::objectKey(ns, *db); mysqls.contains(k)) keys.insert(k);
  }
  return runtime::requestsFor(keys);
}

std::vector<runtime::Request> mysqlsForIssuer(const runtime::ObjectCache& mysqls, const Json& issuer, std::string_view kind) {
  std::vector<runtime::Request> out;
  const std::string ns = kind == "Issuer" ? kube::namespaceOf(issuer) : "";
  for (const auto& db : mysqls.list(ns)) {
    const Json* name = kube::find(*db, {"spec", "tls", "issuerRef", "name"});
    const Json* k = kube::find(*db, {"spec", "tls", "issuerRef", "kind"});
    const std::string refKind = k && k->is_string() ? k->get<std::string>() : "Issuer";
    if (name && name->is_string() && name->get<std::string>() == kube::name(issuer) && refKind == kind) {
      out.push_back({kube::namespaceOf(*db), kube::name(*db)});
    }
  }
  return out;
}

}  // namespace mysqlop::enterprise
