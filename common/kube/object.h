#pragma once
// Helpers over Kubernetes objects held as nlohmann::json: metadata accessors, labels and
// annotations, finalizers, ownerReferences. Pure functions; the caller owns the json and
// its thread-safety.
//
//   json secret = {{"apiVersion","v1"},{"kind","Secret"},{"metadata",{{"name","my-auth"}}}};
//   setLabel(secret, "app.kubernetes.io/instance", "my");
//   addOwnerReference(secret, makeOwnerReference(mysql, /*controller=*/true));

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::kube {

using Json = nlohmann::json;

// --- metadata ---------------------------------------------------------------------------------
// Read accessors return "" / 0 when the field is absent (the API's zero values).
std::string name(const Json& obj);
std::string namespaceOf(const Json& obj);
std::string uid(const Json& obj);
std::string resourceVersion(const Json& obj);
int64_t generation(const Json& obj);
std::string apiVersion(const Json& obj);
std::string kind(const Json& obj);
bool isBeingDeleted(const Json& obj);  // metadata.deletionTimestamp is set

// Mutable access to `metadata`, created as an object when missing.
Json& metadata(Json& obj);

// --- labels / annotations ---------------------------------------------------------------------
// A string map (metadata.labels or .annotations) as a plain map; absent → empty.
std::map<std::string, std::string> labels(const Json& obj);
std::map<std::string, std::string> annotations(const Json& obj);
std::optional<std::string> label(const Json& obj, std::string_view key);
std::optional<std::string> annotation(const Json& obj, std::string_view key);
// Setters return true when the object changed.
bool setLabel(Json& obj, std::string_view key, std::string_view value);
bool setAnnotation(Json& obj, std::string_view key, std::string_view value);
bool removeLabel(Json& obj, std::string_view key);
bool removeAnnotation(Json& obj, std::string_view key);

// --- finalizers -------------------------------------------------------------------------------
bool hasFinalizer(const Json& obj, std::string_view f);
bool addFinalizer(Json& obj, std::string_view f);     // true when added
bool removeFinalizer(Json& obj, std::string_view f);  // true when removed

// --- ownerReferences --------------------------------------------------------------------------
struct OwnerReference {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
  bool blockOwnerDeletion = false;

  Json toJson() const;
  static core::Result<OwnerReference> fromJson(const Json& j);
  bool operator==(const OwnerReference&) const = default;
};

// A reference to `owner` (which must carry apiVersion, kind, name and uid).
OwnerReference makeOwnerReference(const Json& owner, bool controller,
                                  bool blockOwnerDeletion = true);
std::vector<OwnerReference> ownerReferences(const Json& obj);
// The reference with controller: true, if any.
std::optional<OwnerReference> controllerOf(const Json& obj);
bool isOwnedBy(const Json& obj, std::string_view ownerUid);
// Adds `ref`, or replaces the reference with the same uid. An object has at most one
// controller: adding a controller reference when another owner already controls the object
// is a Conflict (the API server would reject it as Invalid). Returns whether anything changed.
core::Result<bool> addOwnerReference(Json& obj, const OwnerReference& ref);
bool removeOwnerReference(Json& obj, std::string_view ownerUid);

// --- Secrets ----------------------------------------------------------------------------------
// A key of a Secret's `data`, base64-decoded; nullopt when absent, not a string or not base64.
std::optional<std::string> secretValue(const Json& secret, std::string_view key);

// Reads a nested value by JSON path segments, nullptr when any step is missing.
const Json* find(const Json& obj, std::initializer_list<std::string_view> path);

}  // namespace mysqlop::kube
