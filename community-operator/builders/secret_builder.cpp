#include "community-operator/builders/secret_builder.h"

#include "common/api/naming.h"
#include "common/kube/base64.h"

namespace mysqlop::community {

Json buildAuthSecret(const api::MySQL& my, const std::string& password) {
  Json meta = api::objectMeta(my, api::authSecretName(my.name), /*owned=*/false);
  meta["annotations"][std::string(api::kAnnotationAuthSecretFor)] = my.name;
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", std::move(meta)},
          {"type", "kubernetes.io/basic-auth"},
          {"data", {{"username", kube::base64Encode("root")}, {"password", kube::base64Encode(password)}}}};
}

}  // namespace mysqlop::community
