#include "community-operator/builders/rbac_builder.h"

#include "common/api/naming.h"

namespace mysqlop::community {

Json buildServiceAccount(const api::MySQL& my) {
  return {{"apiVersion", "v1"}, {"kind", "ServiceAccount"},
          {"metadata", api::objectMeta(my, api::serviceAccountName(my.name))}};
}

Json buildRole(const api::MySQL& my) {
  const std::string authSecret = my.effectiveAuthSecretName();
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", api::objectMeta(my, api::serviceAccountName(my.name))},
          {"rules", Json::array({{{"apiGroups", {std::string(api::kGroup)}},
                                  {"resources", {std::string(api::kPlural)}},
                                  {"resourceNames", {my.name}},
                                  {"verbs", {"get"}}},
                                 {{"apiGroups", {""}},
                                  {"resources", {"secrets"}},
                                  {"resourceNames", {authSecret}},
                                  {"verbs", {"get"}}}})}};
}

Json buildRoleBinding(const api::MySQL& my) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", api::objectMeta(my, api::serviceAccountName(my.name))},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", api::serviceAccountName(my.name)}}},
          {"subjects", Json::array({{{"kind", "ServiceAccount"},
                                     {"name", api::serviceAccountName(my.name)},
                                     {"namespace", my.namespace_}}})}};
}

}  // namespace mysqlop::community
