#include "enterprise-operator/controller/mappers.h"

#include "common/api/naming.h"
#include "common/kube/object.h"

namespace mysqlop::enterprise {

using runtime::Json;

std::vector<runtime::Request> mysqlsForSecret(const runtime::ObjectCache& mysqls, const Json& secret) {
  std::vector<runtime::Request> out;
  const std::string ns = kube::namespaceOf(secret), name = kube::name(secret);
  for (const auto& db : mysqls.list(ns)) {
    const std::string dbName = kube::name(*db);
    const Json* authName = kube::find(*db, {"spec", "authSecret", "name"});
    const std::string auth = authName && authName->is_string() ? authName->get<std::string>() : api::authSecretName(dbName);
    const bool labelled = kube::label(secret, api::kLabelInstance) == dbName;
    if (labelled || auth == name || kube::isOwnedBy(secret, kube::uid(*db))) out.push_back({ns, dbName});
  }
  return out;
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
