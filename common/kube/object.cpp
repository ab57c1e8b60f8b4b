#include "common/kube/object.h"

#include "common/kube/base64.h"

#include <algorithm>

namespace mysqlop::kube {
namespace {

std::string stringAt(const Json& obj, std::string_view field) {
  const Json* v = find(obj, {"metadata", field});
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

std::map<std::string, std::string> stringMap(const Json& obj, std::string_view field) {
  std::map<std::string, std::string> out;
  const Json* m = find(obj, {"metadata", field});
  if (m && m->is_object()) {
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (it.value().is_string()) out.emplace(it.key(), it.value().get<std::string>());
    }
  }
  return out;
}

std::optional<std::string> stringMapEntry(const Json& obj, std::string_view field,
                                          std::string_view key) {
  const Json* m = find(obj, {"metadata", field});
  if (!m || !m->is_object()) return std::nullopt;
  auto it = m->find(std::string(key));
  if (it == m->end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool setStringMapEntry(Json& obj, std::string_view field, std::string_view key,
                       std::string_view value) {
  Json& m = metadata(obj)[std::string(field)];
  if (!m.is_object()) m = Json::object();
  Json& slot = m[std::string(key)];
  if (slot.is_string() && slot.get_ref<const std::string&>() == value) return false;
  slot = std::string(value);
  return true;
}

bool eraseStringMapEntry(Json& obj, std::string_view field, std::string_view key) {
  auto mit = obj.find("metadata");
  if (mit == obj.end() || !mit->is_object()) return false;
  auto fit = mit->find(std::string(field));
  if (fit == mit->end() || !fit->is_object()) return false;
  return fit->erase(std::string(key)) > 0;
}

}  // namespace

const Json* find(const Json& obj, std::initializer_list<std::string_view> path) {
  const Json* cur = &obj;
  for (auto seg : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(std::string(seg));
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string name(const Json& obj) { return stringAt(obj, "name"); }
std::string namespaceOf(const Json& obj) { return stringAt(obj, "namespace"); }
std::string uid(const Json& obj) { return stringAt(obj, "uid"); }
std::string resourceVersion(const Json& obj) { return stringAt(obj, "resourceVersion"); }

int64_t generation(const Json& obj) {
  const Json* g = find(obj, {"metadata", "generation"});
  return g && g->is_number_integer() ? g->get<int64_t>() : 0;
}

std::string apiVersion(const Json& obj) {
  auto it = obj.find("apiVersion");
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string kind(const Json& obj) {
  auto it = obj.find("kind");
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool isBeingDeleted(const Json& obj) {
  const Json* t = find(obj, {"metadata", "deletionTimestamp"});
  return t && !t->is_null();
}

Json& metadata(Json& obj) {
  if (!obj.is_object()) obj = Json::object();
  Json& m = obj["metadata"];
  if (!m.is_object()) m = Json::object();
  return m;
}

std::map<std::string, std::string> labels(const Json& obj) { return stringMap(obj, "labels"); }
std::map<std::string, std::string> annotations(const Json& obj) {
  return stringMap(obj, "annotations");
}
std::optional<std::string> label(const Json& obj, std::string_view key) {
  return stringMapEntry(obj, "labels", key);
}
std::optional<std::string> annotation(const Json& obj, std::string_view key) {
  return stringMapEntry(obj, "annotations", key);
}
bool setLabel(Json& obj, std::string_view key, std::string_view value) {
  return setStringMapEntry(obj, "labels", key, value);
}
bool setAnnotation(Json& obj, std::string_view key, std::string_view value) {
  return setStringMapEntry(obj, "annotations", key, value);
}
bool removeLabel(Json& obj, std::string_view key) {
  return eraseStringMapEntry(obj, "labels", key);
}
bool removeAnnotation(Json& obj, std::string_view key) {
  return eraseStringMapEntry(obj, "annotations", key);
}

bool hasFinalizer(const Json& obj, std::string_view f) {
  const Json* fs = find(obj, {"metadata", "finalizers"});
  if (!fs || !fs->is_array()) return false;
  return std::any_of(fs->begin(), fs->end(),
                     [&](const Json& v) { return v.is_string() && v.get_ref<const std::string&>() == f; });
}

bool addFinalizer(Json& obj, std::string_view f) {
  if (hasFinalizer(obj, f)) return false;
  Json& fs = metadata(obj)["finalizers"];
  if (!fs.is_array()) fs = Json::array();
  fs.push_back(std::string(f));
  return true;
}

bool removeFinalizer(Json& obj, std::string_view f) {
  if (!hasFinalizer(obj, f)) return false;
  Json& fs = metadata(obj)["finalizers"];
  Json kept = Json::array();
  for (auto& v : fs) {
    if (!(v.is_string() && v.get_ref<const std::string&>() == f)) kept.push_back(v);
  }
  if (kept.empty()) {
    metadata(obj).erase("finalizers");
  } else {
    fs = std::move(kept);
  }
  return true;
}

Json OwnerReference::toJson() const {
  Json j = {{"apiVersion", apiVersion}, {"kind", kind}, {"name", name}, {"uid", uid}};
  if (controller) j["controller"] = true;
  if (blockOwnerDeletion) j["blockOwnerDeletion"] = true;
  return j;
}

core::Result<OwnerReference> OwnerReference::fromJson(const Json& j) {
  if (!j.is_object()) return core::invalid("ownerReference is not an object");
  OwnerReference r;
  for (auto [field, out] : {std::pair{"apiVersion", &r.apiVersion}, std::pair{"kind", &r.kind},
                            std::pair{"name", &r.name}, std::pair{"uid", &r.uid}}) {
    auto it = j.find(field);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return core::invalid(std::string("ownerReference.") + field + ": Required value");
    }
    *out = it->get<std::string>();
  }
  r.controller = j.value("controller", false);
  r.blockOwnerDeletion = j.value("blockOwnerDeletion", false);
  return r;
}

OwnerReference makeOwnerReference(const Json& owner, bool controller, bool blockOwnerDeletion) {
  return OwnerReference{apiVersion(owner), kind(owner), name(owner), uid(owner), controller,
                        blockOwnerDeletion};
}

std::vector<OwnerReference> ownerReferences(const Json& obj) {
  std::vector<OwnerReference> out;
  const Json* refs = find(obj, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return out;
  for (const auto& r : *refs) {
    if (auto ref = OwnerReference::fromJson(r)) out.push_back(std::move(*ref));
  }
  return out;
}

std::optional<OwnerReference> controllerOf(const Json& obj) {
  for (auto& r : ownerReferences(obj)) {
    if (r.controller) return r;
  }
  return std::nullopt;
}

bool isOwnedBy(const Json& obj, std::string_view ownerUid) {
  auto refs = ownerReferences(obj);
  return std::any_of(refs.begin(), refs.end(), [&](auto& r) { return r.uid == ownerUid; });
}

core::Result<bool> addOwnerReference(Json& obj, const OwnerReference& ref) {
  if (ref.controller) {
    auto current = controllerOf(obj);
    if (current && current->uid != ref.uid) {
      return core::Error(core::ErrorCode::kConflict,
                         "object " + name(obj) + " is already controlled by " + current->kind +
                             " " + current->name);
    }
  }
  Json& refs = metadata(obj)["ownerReferences"];
  if (!refs.is_array()) refs = Json::array();
  Json want = ref.toJson();
  for (auto& r : refs) {
    if (r.is_object() && r.value("uid", "") == ref.uid) {
      if (r == want) return false;
      r = std::move(want);
      return true;
    }
  }
  refs.push_back(std::move(want));
  return true;
}

bool removeOwnerReference(Json& obj, std::string_view ownerUid) {
  auto mit = obj.find("metadata");
  if (mit == obj.end() || !mit->contains("ownerReferences")) return false;
  Json& refs = (*mit)["ownerReferences"];
  if (!refs.is_array()) return false;
  Json kept = Json::array();
  for (auto& r : refs) {
    if (!(r.is_object() && r.value("uid", "") == ownerUid)) kept.push_back(r);
  }
  if (kept.size() == refs.size()) return false;
  if (kept.empty()) {
    mit->erase("ownerReferences");
  } else {
    refs = std::move(kept);
  }
  return true;
}

std::optional<std::string> secretValue(const Json& secret, std::string_view key) {
  const Json* v = find(secret, {"data", key});
  if (!v || !v->is_string()) return std::nullopt;
  auto decoded = base64Decode(v->get<std::string>());
  if (!decoded) return std::nullopt;
  return std::move(*decoded);
}

}  // namespace mysqlop::kube
