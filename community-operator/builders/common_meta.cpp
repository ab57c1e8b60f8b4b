#include "community-operator/builders/common_meta.h"

#include "common/api/naming.h"

namespace mysqlop::community {

Json objectMeta(const api::MySQL& my, const std::string& name, bool owned) {
  Json labels = Json::object();
  for (const auto& [k, v] : api::offshootLabels(my.name)) labels[k] = v;
  Json md = {{"name", name}, {"namespace", my.namespace_}, {"labels", labels}};
  if (owned) {
    md["ownerReferences"] = Json::array({{{"apiVersion", std::string(api::kGroup) + "/" + std::string(api::kStorageVersion)},
                                          {"kind", std::string(api::kKind)},
                                          {"name", my.name},
                                          {"uid", my.uid},
                                          {"controller", true},
                                          {"blockOwnerDeletion", true}}});
  }
  return md;
}

}  // namespace mysqlop::community
