#include "community-operator/controller/mappers.h"

#include "common/api/naming.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "community-operator/controller/plan.h"

namespace mysqlop::community {
namespace {

// A string field, or "" when absent or not a string (a malformed object never throws here: the
// mappers run on the informers' threads).
std::string stringAt(const runtime::Json& obj, std::initializer_list<std::string_view> path) {
  const runtime::Json* v = kube::find(obj, path);
  return v && v->is_string() ? v->get<std::string>() : "";
}

}  // namespace

std::vector<runtime::Request> mysqlsForSecret(const runtime::ObjectCache& mysqls, const runtime::Json& secret) {
  std::vector<runtime::Request> out;
  const std::string ns = kube::namespaceOf(secret), name = kube::name(secret);
  for (const auto& db : mysqls.list(ns)) {
    const bool owner = kube::isOwnedBy(secret, kube::uid(*db));
    const bool labelled = kube::label(secret, api::kLabelInstance) == kube::name(*db) &&
                          kube::label(secret, api::kLabelManagedBy) == std::string(api::kLabelManagedByValue);
    if (owner || labelled || referencedSecrets(*db).count(name)) out.push_back({ns, kube::name(*db)});
  }
  return out;
}

std::vector<runtime::Request> mysqlsForVersion(const runtime::ObjectCache& mysqls, const runtime::Json& version) {
  std::vector<runtime::Request> out;
  for (const auto& db : mysqls.list()) {
    if (stringAt(*db, {"spec", "version"}) == kube::name(version)) {
      out.push_back({kube::namespaceOf(*db), kube::name(*db)});
    }
  }
  return out;
}

std::optional<std::string> instanceKey(const runtime::Json& obj) {
  auto db = kube::label(obj, api::kLabelInstance);
  if (!db || db->empty()) return std::nullopt;
  return runtime::objectKey(kube::namespaceOf(obj), *db);
}

std::string ownedSelector() {
  return kube::LabelSelector::fromMap({{std::string(api::kLabelManagedBy), std::string(api::kLabelManagedByValue)},
                                       {std::string(api::kLabelName), std::string(api::kLabelNameValue)}})
      .toString();
}

}  // namespace mysqlop::community
