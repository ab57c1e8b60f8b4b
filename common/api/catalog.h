#pragma once
// The MySQLVersion catalog (catalog.kubedb.com/v1alpha1, cluster-scoped): which images run a
// MySQL version, and the resource types of the kinds both operators read.
//
//   auto v = parseMySQLVersion(obj);   // errors name the field: "spec.db.image: Required value"
//
// Pure; any thread.

#include <string>

#include <nlohmann/json.hpp>

#include "common/api/mysql.h"
#include "common/core/result.h"
#include "common/kube/resource.h"

namespace mysqlop::api {

struct MySQLVersion {
  std::string name;
  std::string version;
  std::string dbImage;
  std::string exporterImage;  // "" when the catalog entry has none
  bool deprecated = false;
};

core::Result<MySQLVersion, FieldErrors> parseMySQLVersion(const Json& obj);

// kubedb.com/v1 mysqls, catalog.kubedb.com/v1alpha1 mysqlversions.
const kube::ResourceType& mysqlResource();
const kube::ResourceType& mysqlVersionResource();
// The Prometheus Operator's monitoring.coreos.com/v1 servicemonitors (spec.monitor.agent
// prometheus.io/operator); served only where its CRDs are installed.
const kube::ResourceType& serviceMonitorResource();
inline constexpr std::string_view kAgentPrometheusOperator = "prometheus.io/operator";

}  // namespace mysqlop::api
