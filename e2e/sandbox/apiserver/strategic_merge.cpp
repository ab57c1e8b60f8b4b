#include "e2e/sandbox/apiserver/strategic_merge.h"

#include <fmt/format.h>

#include <algorithm>

namespace mysqlop::sandbox {
namespace {

constexpr std::string_view kSetOrder = "$setElementOrder/";
constexpr std::string_view kDeletePrimitive = "$deleteFromPrimitiveList/";

}  // namespace

std::string strategicMergeKey(const std::string& kind, const std::string& parentPath,
                              const std::string& field) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "env" || field == "volumes" || field == "imagePullSecrets") {
    return "name";
  }
  if (field == "volumeMounts") return "mountPath";
  if (field == "volumeDevices") return "devicePath";
  if (field == "ownerReferences") return "uid";
  if (field == "conditions") return "type";
  if (field == "ports") return kind == "Service" && parentPath == ".spec" ? "port" : "containerPort";
  return "";
}

namespace {

std::string mergeKey(const std::string& kind, const std::string& parentPath, const std::string& field) {
  return strategicMergeKey(kind, parentPath, field);
}

bool isSetList(const std::string& field) { return field == "finalizers"; }

core::Result<Json> mergeMap(const Json& original, const Json& patch, const std::string& kind,
                            const std::string& path);

core::Result<Json> mergeList(const Json& original, const Json& patch, const std::string& kind,
                             const std::string& path, const std::string& field) {
  std::string key = mergeKey(kind, path, field);
  // {"$patch": "replace"} inside a list replaces it with the remaining items.
  bool replace = false;
  Json items = Json::array();
  for (const auto& p : patch) {
    if (p.is_object() && p.size() == 1 && p.value("$patch", "") == "replace") {
      replace = true;
    } else {
      items.push_back(p);
    }
  }
  if (replace) return items;
  if (isSetList(field)) {
    Json out = original.is_array() ? original : Json::array();
    for (const auto& p : items) {
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
    return out;
  }
  if (key.empty()) return items;
  Json out = original.is_array() ? original : Json::array();
  for (const auto& p : items) {
    if (!p.is_object() || !p.contains(key)) {
      return core::invalid(fmt::format("{}.{}: map item is missing the merge key \"{}\"", path, field, key));
    }
    auto match = std::find_if(out.begin(), out.end(), [&](const Json& o) {
      return o.is_object() && o.contains(key) && o[key] == p[key];
    });
    if (p.value("$patch", "") == "delete") {
      if (match != out.end()) out.erase(match);
      continue;
    }
    if (match != out.end()) {
      auto merged = mergeMap(*match, p, kind, path + "." + field + "[]");
      if (!merged) return merged;
      *match = std::move(*merged);
    } else {
      auto fresh = mergeMap(Json::object(), p, kind, path + "." + field + "[]");
      if (!fresh) return fresh;
      out.push_back(std::move(*fresh));
    }
  }
  return out;
}

core::Result<Json> mergeMap(const Json& original, const Json& patch, const std::string& kind,
                            const std::string& path) {
  if (!patch.is_object()) return patch;
  std::string directive = patch.value("$patch", "");
  if (directive == "delete") return Json(nullptr);
  Json out = original.is_object() && directive != "replace" ? original : Json::object();
  if (auto rk = patch.find("$retainKeys"); rk != patch.end() && rk->is_array()) {
    for (auto it = out.begin(); it != out.end();) {
      if (std::find(rk->begin(), rk->end(), it.key()) == rk->end()) {
        it = out.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    if (k == "$patch" || k == "$retainKeys") continue;
    if (k.rfind(kSetOrder, 0) == 0) continue;  // ordering hint, applied below
    if (k.rfind(kDeletePrimitive, 0) == 0) {
      std::string field = k.substr(kDeletePrimitive.size());
      if (out.contains(field) && out[field].is_array() && it.value().is_array()) {
        Json kept = Json::array();
        for (const auto& v : out[field]) {
          if (std::find(it.value().begin(), it.value().end(), v) == it.value().end()) kept.push_back(v);
        }
        out[field] = std::move(kept);
      }
      continue;
    }
    const Json& pv = it.value();
    if (pv.is_null()) {
      out.erase(k);
      continue;
    }
    const Json orig = out.contains(k) ? out[k] : Json(nullptr);
    if (pv.is_object()) {
      auto merged = mergeMap(orig, pv, kind, path + "." + k);
      if (!merged) return merged;
      if (merged->is_null()) {
        out.erase(k);
      } else {
        out[k] = std::move(*merged);
      }
    } else if (pv.is_array()) {
      auto merged = mergeList(orig, pv, kind, path, k);
      if (!merged) return merged;
      out[k] = std::move(*merged);
    } else {
      out[k] = pv;
    }
  }
  // $setElementOrder/<field>: the patch author's order for a merged list.
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.key().rfind(kSetOrder, 0) != 0 || !it.value().is_array()) continue;
    std::string field = it.key().substr(kSetOrder.size());
    if (!out.contains(field) || !out[field].is_array()) continue;
    std::string key = mergeKey(kind, path, field);
    auto rank = [&](const Json& item) -> size_t {
      for (size_t i = 0; i < it.value().size(); ++i) {
        const Json& o = it.value()[i];
        if (key.empty() ? o == item : (item.is_object() && o.is_object() && o.contains(key) &&
                                       item.contains(key) && o[key] == item[key])) {
          return i;
        }
      }
      return it.value().size();
    };
    Json& list = out[field];
    std::stable_sort(list.begin(), list.end(),
                     [&](const Json& a, const Json& b) { return rank(a) < rank(b); });
  }
  return out;
}

}  // namespace

core::Result<Json> applyStrategicMerge(const Json& original, const Json& patch,
                                       const std::string& kind) {
  if (!patch.is_object()) return core::invalid("a strategic merge patch must be a JSON object");
  auto out = mergeMap(original, patch, kind, "");
  if (!out) return out;
  if (out->is_null()) return core::invalid("a strategic merge patch may not delete the whole object");
  return out;
}

}  // namespace mysqlop::sandbox
