#include "common/kube/field_reader.h"

#include <fmt/format.h>

namespace mysqlop::kube {
namespace {

// The field's value when present and not null.
const Json* present(const Json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

}  // namespace

std::string FieldReader::str(const Json& o, const char* key, const std::string& path) {
  const Json* v = present(o, key);
  if (!v) return "";
  if (!v->is_string()) {
    bad(join(path, key), *v, "must be a string");
    return "";
  }
  return v->get<std::string>();
}

bool FieldReader::boolean(const Json& o, const char* key, const std::string& path) {
  const Json* v = present(o, key);
  if (!v) return false;
  if (!v->is_boolean()) {
    bad(join(path, key), *v, "must be a boolean");
    return false;
  }
  return v->get<bool>();
}

int64_t FieldReader::integer(const Json& o, const char* key, const std::string& path) {
  const Json* v = present(o, key);
  if (!v) return 0;
  if (!v->is_number_integer()) {
    bad(join(path, key), *v, "must be an integer");
    return 0;
  }
  return v->get<int64_t>();
}

std::vector<std::string> FieldReader::strings(const Json& o, const char* key, const std::string& path) {
  std::vector<std::string> out;
  const Json* v = present(o, key);
  if (!v) return out;
  if (!v->is_array()) {
    bad(join(path, key), *v, "must be a list of strings");
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      bad(fmt::format("{}[{}]", join(path, key), i), (*v)[i], "must be a string");
      continue;
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> FieldReader::stringMap(const Json& o, const char* key, const std::string& path) {
  std::map<std::string, std::string> out;
  const Json* v = present(o, key);
  if (!v) return out;
  if (!v->is_object()) {
    bad(join(path, key), *v, "must be a map of strings");
    return out;
  }
  for (const auto& [k, item] : v->items()) {
    if (!item.is_string()) {
      bad(fmt::format("{}[{}]", join(path, key), k), item, "must be a string");
      continue;
    }
    out[k] = item.get<std::string>();
  }
  return out;
}

const Json* FieldReader::object(const Json& o, const char* key, const std::string& path) {
  const Json* v = present(o, key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    bad(join(path, key), *v, "must be an object");
    return nullptr;
  }
  return v;
}

void FieldReader::bad(const std::string& field, const Json& value, const std::string& why) {
  std::string v = value.is_string() ? fmt::format("{:?}", value.get<std::string>()) : value.dump();
  if (v.size() > 60) v = v.substr(0, 57) + "...";
  errors_.push_back({field, fmt::format("Invalid value: {}: {}", v, why)});
}

}  // namespace mysqlop::kube
