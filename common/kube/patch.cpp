#include "common/kube/patch.h"

#include <fmt/format.h>

namespace mysqlop::kube {

Json applyMergePatch(const Json& target, const Json& patch) {
  Json out = target;
  out.merge_patch(patch);
  return out;
}

Json createMergePatch(const Json& from, const Json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  Json patch = Json::object();
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (!to.contains(it.key())) patch[it.key()] = nullptr;
  }
  for (auto it = to.begin(); it != to.end(); ++it) {
    auto old = from.find(it.key());
    if (old == from.end()) {
      patch[it.key()] = it.value();
    } else if (*old != it.value()) {
      if (old->is_object() && it.value().is_object()) {
        patch[it.key()] = createMergePatch(*old, it.value());
      } else {
        patch[it.key()] = it.value();
      }
    }
  }
  return patch;
}

core::Result<Json> applyJsonPatch(const Json& target, const Json& patch) {
  if (!patch.is_array()) return core::invalid("JSON patch must be an array of operations");
  for (size_t i = 0; i < patch.size(); ++i) {
    const Json& op = patch[i];
    if (!op.is_object() || !op.contains("op") || !op["op"].is_string() || !op.contains("path") ||
        !op["path"].is_string()) {
      return core::invalid(fmt::format("JSON patch operation {} must have string \"op\" and \"path\"", i));
    }
  }
  try {
    return target.patch(patch);
  } catch (const Json::exception& e) {
    // nlohmann stops at the first failing operation and leaves `target` untouched.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return core::invalid("JSON patch failed: " + what);
  }
}

Json createJsonPatch(const Json& from, const Json& to) { return Json::diff(from, to); }

}  // namespace mysqlop::kube
