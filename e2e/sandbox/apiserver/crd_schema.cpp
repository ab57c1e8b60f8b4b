#include "e2e/sandbox/apiserver/crd_schema.h"

#include <fmt/format.h>

#include <regex>

namespace mysqlop::sandbox {
namespace {

bool preserves(const Json& s) { return s.value("x-kubernetes-preserve-unknown-fields", false); }

std::string join(const std::string& path, const std::string& field) {
  return path.empty() ? field : path + "." + field;
}

void pruneValue(const Json& s, Json& v, const std::string& path, std::vector<std::string>& unknown,
                bool root, bool defaults) {
  if (!s.is_object()) return;
  if (v.is_object()) {
    const Json* props = s.contains("properties") ? &s["properties"] : nullptr;
    // Defaults first, so that defaulted values are pruned and defaulted recursively too.
    if (props && defaults) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        if (!it.value().is_object() || !it.value().contains("default")) continue;
        auto cur = v.find(it.key());
        bool nullable = it.value().value("nullable", false);
        if (cur == v.end() || (cur->is_null() && !nullable)) v[it.key()] = it.value()["default"];
      }
    }
    const Json* additional = nullptr;
    if (auto a = s.find("additionalProperties"); a != s.end() && a->is_object()) additional = &*a;
    bool keepUnknown = preserves(s) || (s.contains("additionalProperties") && !additional &&
                                        s["additionalProperties"] == true);
    bool embedded = s.value("x-kubernetes-embedded-resource", false);
    for (auto it = v.begin(); it != v.end();) {
      const std::string& k = it.key();
      std::string childPath = join(path, k);
      if ((root || embedded) && (k == "apiVersion" || k == "kind" || k == "metadata")) {
        ++it;
        continue;
      }
      if (props && props->contains(k)) {
        pruneValue((*props)[k], it.value(), childPath, unknown, false, defaults);
        ++it;
      } else if (additional) {
        pruneValue(*additional, it.value(), childPath, unknown, false, defaults);
        ++it;
      } else if (keepUnknown || (!props && s.value("type", "") != "object")) {
        ++it;
      } else {
        unknown.push_back("." + childPath);
        it = v.erase(it);
      }
    }
  } else if (v.is_array()) {
    if (auto items = s.find("items"); items != s.end() && items->is_object()) {
      for (size_t i = 0; i < v.size(); ++i) {
        pruneValue(*items, v[i], fmt::format("{}[{}]", path, i), unknown, false, defaults);
      }
    }
  }
}

std::string typeOf(const Json& v) {
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "boolean";
  return "null";
}

void validateValue(const Json& s, const Json& v, const std::string& path, std::vector<Cause>& out) {
  if (!s.is_object()) return;
  std::string where = path.empty() ? "<root>" : path;
  if (v.is_null()) {
    if (!s.value("nullable", false) && s.contains("type")) {
      out.push_back({"FieldValueTypeInvalid",
                     fmt::format("Invalid value: \"null\": {} in body must be of type {}: \"null\"",
                                 where, s["type"].get<std::string>()),
                     path});
    }
    return;
  }
  if (s.value("x-kubernetes-int-or-string", false)) {
    if (!v.is_number_integer() && !v.is_string()) {
      out.push_back({"FieldValueTypeInvalid",
                     fmt::format("Invalid value: \"{}\": {} in body must be of type integer or string", typeOf(v), where),
                     path});
    }
    return;
  }
  std::string want = s.value("type", "");
  if (!want.empty()) {
    std::string have = typeOf(v);
    bool ok = have == want || (want == "number" && have == "integer");
    if (!ok) {
      out.push_back({"FieldValueTypeInvalid",
                     fmt::format("Invalid value: \"{}\": {} in body must be of type {}: \"{}\"", have,
                                 where, want, have),
                     path});
      return;
    }
  }
  if (auto e = s.find("enum"); e != s.end() && e->is_array()) {
    bool found = false;
    for (const auto& x : *e) found = found || x == v;
    if (!found) {
      std::vector<std::string> allowed;
      for (const auto& x : *e) allowed.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      out.push_back(errors::notSupported(path, v, allowed));
    }
  }
  if (v.is_string()) {
    auto len = static_cast<int64_t>(v.get_ref<const std::string&>().size());
    if (s.contains("maxLength") && len > s["maxLength"].get<int64_t>()) {
      out.push_back({"FieldValueTooLong",
                     fmt::format("Too long: may not be longer than {}", s["maxLength"].get<int64_t>()),
                     path});
    }
    if (s.contains("minLength") && len < s["minLength"].get<int64_t>()) {
      out.push_back(errors::invalidValue(
          path, v, fmt::format("{} in body should be at least {} chars long", where,
                               s["minLength"].get<int64_t>())));
    }
    if (auto p = s.find("pattern"); p != s.end() && p->is_string()) {
      try {
        if (!std::regex_search(v.get<std::string>(), std::regex(p->get<std::string>()))) {
          out.push_back(errors::invalidValue(
              path, v, fmt::format("{} in body should match '{}'", where, p->get<std::string>())));
        }
      } catch (const std::regex_error&) {
        // An ECMAScript-incompatible pattern is not enforced rather than rejecting every write.
      }
    }
  }
  if (v.is_number()) {
    double x = v.get<double>();
    if (s.contains("minimum")) {
      double m = s["minimum"].get<double>();
      bool excl = s.value("exclusiveMinimum", false);
      if (excl ? x <= m : x < m) {
        out.push_back(errors::invalidValue(
            path, v, fmt::format("{} in body should be greater than {}{}", where,
                                 excl ? "" : "or equal to ", s["minimum"].dump())));
      }
    }
    if (s.contains("maximum")) {
      double m = s["maximum"].get<double>();
      bool excl = s.value("exclusiveMaximum", false);
      if (excl ? x >= m : x > m) {
        out.push_back(errors::invalidValue(
            path, v, fmt::format("{} in body should be less than {}{}", where,
                                 excl ? "" : "or equal to ", s["maximum"].dump())));
      }
    }
  }
  if (v.is_array()) {
    auto n = static_cast<int64_t>(v.size());
    if (s.contains("maxItems") && n > s["maxItems"].get<int64_t>()) {
      out.push_back({"FieldValueTooMany",
                     fmt::format("Too many: {}: must have at most {} items", n, s["maxItems"].get<int64_t>()),
                     path});
    }
    if (s.contains("minItems") && n < s["minItems"].get<int64_t>()) {
      out.push_back(errors::invalidValue(path, v, fmt::format("{} in body should have at least {} items",
                                                              where, s["minItems"].get<int64_t>())));
    }
    if (auto items = s.find("items"); items != s.end()) {
      for (size_t i = 0; i < v.size(); ++i) {
        validateValue(*items, v[i], fmt::format("{}[{}]", path, i), out);
      }
    }
  }
  if (v.is_object()) {
    for (const auto& r : s.value("required", Json::array())) {
      if (r.is_string() && !v.contains(r.get<std::string>())) {
        out.push_back(errors::required(join(path, r.get<std::string>())));
      }
    }
    if (auto props = s.find("properties"); props != s.end()) {
      for (auto it = props->begin(); it != props->end(); ++it) {
        if (path.empty() && it.key() == "metadata") continue;  // the server validates metadata
        if (auto child = v.find(it.key()); child != v.end()) {
          validateValue(it.value(), *child, join(path, it.key()), out);
        }
      }
    }
    if (auto a = s.find("additionalProperties"); a != s.end() && a->is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        validateValue(*a, it.value(), join(path, it.key()), out);
      }
    }
  }
  for (const auto& sub : s.value("allOf", Json::array())) validateValue(sub, v, path, out);
}

}  // namespace

void pruneAndDefault(const Json& schema, Json& obj, std::vector<std::string>& unknown,
                     bool applyDefaults) {
  pruneValue(schema, obj, "", unknown, /*root=*/true, applyDefaults);
}

std::vector<Cause> validateAgainstSchema(const Json& schema, const Json& obj) {
  std::vector<Cause> out;
  validateValue(schema, obj, "", out);
  return out;
}

}  // namespace mysqlop::sandbox
