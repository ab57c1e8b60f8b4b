#include "common/api/catalog.h"

#include <catch2/catch.hpp>

namespace mysqlop::api {

TEST_CASE("a MySQLVersion gives its images", "[api][catalog]") {
  auto v = parseMySQLVersion(Json::parse(R"({"apiVersion":"catalog.kubedb.com/v1alpha1","kind":"MySQLVersion",
    "metadata":{"name":"8.4.3"},"spec":{"version":"8.4.3","db":{"image":"mysql:8.4.3"},
    "exporter":{"image":"prom/mysqld-exporter:v0.15.1"},"deprecated":true}})"));
  REQUIRE(v);
  CHECK(v->name == "8.4.3");
  CHECK(v->version == "8.4.3");
  CHECK(v->dbImage == "mysql:8.4.3");
  CHECK(v->exporterImage == "prom/mysqld-exporter:v0.15.1");
  CHECK(v->deprecated);
}

TEST_CASE("a MySQLVersion without a db image or with wrong types names each field", "[api][catalog]") {
  auto v = parseMySQLVersion(Json::parse(R"({"metadata":{"name":"x"},"spec":{"version":8,"deprecated":"yes"}})"));
  REQUIRE_FALSE(v);
  std::vector<std::string> fields;
  for (const auto& e : v.error()) fields.push_back(e.field);
  CHECK(fields == std::vector<std::string>{"spec.version", "spec.db.image", "spec.deprecated"});
}

TEST_CASE("resource types address the MySQL and catalog APIs", "[api][catalog]") {
  CHECK(mysqlResource().apiVersion() == "kubedb.com/v1");
  CHECK(mysqlResource().namespaced);
  CHECK(mysqlVersionResource().apiVersion() == "catalog.kubedb.com/v1alpha1");
  CHECK_FALSE(mysqlVersionResource().namespaced);
}

}  // namespace mysqlop::api

namespace mysqlop::api {

TEST_CASE("a MySQLVersion whose spec is not an object is refused, naming spec", "[api][catalog]") {
  auto v = parseMySQLVersion(Json::parse(R"({"metadata":{"name":"x"},"spec":"8.4.3"})"));
  REQUIRE_FALSE(v);
  REQUIRE_FALSE(v.error().empty());
  CHECK(v.error()[0].toString() == "spec: Invalid value: \"8.4.3\": must be an object");
}

}  // namespace mysqlop::api
