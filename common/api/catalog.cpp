#include "common/api/catalog.h"

#include "common/api/naming.h"

namespace mysqlop::api {
namespace {

std::string stringAt(const Json& obj, const Json::json_pointer& ptr, const std::string& field, bool required,
                     FieldErrors& errors) {
  if (!obj.contains(ptr) || obj.at(ptr).is_null()) {
    if (required) errors.push_back({field, "Required value"});
    return "";
  }
  const Json& v = obj.at(ptr);
  if (!v.is_string()) {
    errors.push_back({field, "Invalid value: " + v.dump() + ": must be a string"});
    return "";
  }
  if (required && v.get<std::string>().empty()) errors.push_back({field, "Required value"});
  return v.get<std::string>();
}

}  // namespace

core::Result<MySQLVersion, FieldErrors> parseMySQLVersion(const Json& obj) {
  FieldErrors errors;
  MySQLVersion v;
  if (!obj.is_object()) return FieldErrors{{"", "not an object"}};
  v.name = stringAt(obj, "/metadata/name"_json_pointer, "metadata.name", true, errors);
  v.version = stringAt(obj, "/spec/version"_json_pointer, "spec.version", true, errors);
  v.dbImage = stringAt(obj, "/spec/db/image"_json_pointer, "spec.db.image", true, errors);
  v.exporterImage = stringAt(obj, "/spec/exporter/image"_json_pointer, "spec.exporter.image", false, errors);
  if (obj.contains("/spec/deprecated"_json_pointer)) {
    const Json& d = obj.at("/spec/deprecated"_json_pointer);
    if (d.is_boolean()) {
      v.deprecated = d.get<bool>();
    } else if (!d.is_null()) {
      errors.push_back({"spec.deprecated", "Invalid value: " + d.dump() + ": must be a boolean"});
    }
  }
  if (!errors.empty()) return errors;
  return v;
}

const kube::ResourceType& mysqlResource() {
  static const kube::ResourceType kType{{std::string(kGroup), std::string(kStorageVersion), std::string(kPlural)},
                                        std::string(kKind), true};
  return kType;
}

const kube::ResourceType& mysqlVersionResource() {
  static const kube::ResourceType kType{{std::string(kCatalogGroup), std::string(kCatalogVersion), "mysqlversions"},
                                        "MySQLVersion", false};
  return kType;
}

}  // namespace mysqlop::api
