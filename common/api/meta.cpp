#include "common/api/meta.h"

#include "common/api/naming.h"

namespace mysqlop::api {

Json ownerReference(const MySQL& my, bool controller) {
  Json ref = {{"apiVersion", std::string(kGroup) + "/" + std::string(kStorageVersion)},
              {"kind", std::string(kKind)},
              {"name", my.name},
              {"uid", my.uid}};
  if (controller) {
    ref["controller"] = true;
    ref["blockOwnerDeletion"] = true;
  }
  return ref;
}

Json objectMeta(const MySQL& my, const std::string& name, bool owned) {
  Json labels = Json::object();
  for (const auto& [k, v] : offshootLabels(my.name)) labels[k] = v;
  Json md = {{"name", name}, {"namespace", my.namespace_}, {"labels", labels}};
  if (owned) md["ownerReferences"] = Json::array({ownerReference(my)});
  return md;
}

}  // namespace mysqlop::api
