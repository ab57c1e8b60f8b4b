#include "community-operator/controller/mappers.h"

#include <set>

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

namespace {
constexpr const char* kIndexSecret = "secret";
}  // namespace

runtime::Indexers mysqlIndexers() {
  return {{kIndexSecret,
           [](const runtime::Json& db) {
             std::vector<std::string> out;
             for (const auto& s : referencedSecrets(db)) out.push_back(runtime::objectKey(kube::namespaceOf(db), s));
             return out;
           }},
          {runtime::kIndexUid, runtime::indexByUid()}};
}

std::vector<runtime::Request> mysqlsForSecret(const runtime::ObjectCache& mysqls, const runtime::Json& secret) {
  const std::string ns = kube::namespaceOf(secret), name = kube::name(secret);
  // Owned by one; named by one.
  std::set<std::string> keys = runtime::ownersIn(mysqls, secret);
  for (auto& k : mysqls.keysByIndex(kIndexSecret, runtime::objectKey(ns, name))) keys.insert(std::move(k));
  // Labelled as one's own.
  if (auto db = kube::label(secret, api::kLabelInstance);
      db && kube::label(secret, api::kLabelManagedBy) == std::string(api::kLabelManagedByValue)) {
    if (const std::string k = runtime::objectKey(ns, *db); mysqls.contains(k)) keys.insert(k);
  }
  return runtime::requestsFor(keys);
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
