#include "common/api/catalog.h"

#include "common/api/naming.h"

namespace mysqlop::api {
namespace {

// A string field that must be present and non-empty.
std::string required(FieldReader& r, const Json& o, const char* key, const std::string& path, FieldErrors& errors) {
  const size_t before = errors.size();
  std::string v = r.str(o, key, path);
  if (v.empty() && errors.size() == before) errors.push_back({path + "." + key, "Required value"});
  return v;
}

}  // namespace

core::Result<MySQLVersion, FieldErrors> parseMySQLVersion(const Json& obj) {
  FieldErrors errors;
  MySQLVersion v;
  if (!obj.is_object()) return FieldErrors{{"", "not an object"}};
  FieldReader r(errors);
  const Json none = Json::object();
  const Json* meta = r.object(obj, "metadata", "");
  const Json* spec = r.object(obj, "spec", "");
  const Json& s = spec ? *spec : none;
  const Json* db = r.object(s, "db", "spec");
  const Json* exporter = r.object(s, "exporter", "spec");
  v.name = required(r, meta ? *meta : none, "name", "metadata", errors);
  v.version = required(r, s, "version", "spec", errors);
  v.dbImage = required(r, db ? *db : none, "image", "spec.db", errors);
  v.exporterImage = r.str(exporter ? *exporter : none, "image", "spec.exporter");
  v.deprecated = r.boolean(s, "deprecated", "spec");
  if (!errors.empty()) return errors;
  return v;
}

const kube::ResourceType& serviceMonitorResource() {
  static const kube::ResourceType kType{{"monitoring.coreos.com", "v1", "servicemonitors"}, "ServiceMonitor", true};
  return kType;
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
