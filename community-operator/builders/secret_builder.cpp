#include "community-operator/builders/secret_builder.h"

#include "common/api/naming.h"
#include "common/kube/base64.h"

namespace mysqlop::community {

Json buildAuthSecret(const api::MySQL& my, const std::string& password) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", api::objectMeta(my, api::authSecretName(my.name), /*owned=*/false)},
          {"type", "kubernetes.io/basic-auth"},
          {"data", {{"username", kube::base64Encode("root")}, {"password", kube::base64Encode(password)}}}};
}

}  // namespace mysqlop::community
