#include "e2e/sandbox/apiserver/strategic_merge.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox {
namespace {

Json J(const char* s) { return Json::parse(s); }

TEST_CASE("strategic merge merges keyed lists element-wise and replaces the rest", "[sandbox][smp]") {
  Json sts = J(R"({"spec": {"template": {"spec": {
      "containers": [{"name": "mysql", "image": "mysql:8", "env": [{"name": "A", "value": "1"}]},
                     {"name": "exporter", "image": "exp:1"}],
      "tolerations": [{"key": "a"}]}}},
      "metadata": {"finalizers": ["kubedb.com"], "labels": {"x": "1"}}})");
  auto out = applyStrategicMerge(sts, J(R"({"spec": {"template": {"spec": {
      "containers": [{"name": "mysql", "env": [{"name": "B", "value": "2"}]}],
      "tolerations": [{"key": "b"}]}}},
      "metadata": {"finalizers": ["other"], "labels": {"x": null, "y": "2"}}})"), "StatefulSet");
  REQUIRE(out);
  const Json& cs = (*out)["spec"]["template"]["spec"]["containers"];
  REQUIRE(cs.size() == 2);
  CHECK(cs[0]["image"] == "mysql:8");
  CHECK(cs[0]["env"] == J(R"([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])"));
  CHECK((*out)["spec"]["template"]["spec"]["tolerations"] == J(R"([{"key": "b"}])"));
  CHECK((*out)["metadata"]["finalizers"] == J(R"(["kubedb.com", "other"])"));
  CHECK((*out)["metadata"]["labels"] == J(R"({"y": "2"})"));
}

TEST_CASE("strategic merge directives are applied and never stored", "[sandbox][smp]") {
  Json svc = J(R"({"spec": {"ports": [{"port": 3306, "name": "db"}, {"port": 9104, "name": "m"}],
                            "selector": {"a": "1", "b": "2"}}, "metadata": {"finalizers": ["x", "y", "z"]}})");
  auto out = applyStrategicMerge(svc, J(R"({
      "spec": {"ports": [{"port": 9104, "$patch": "delete"}, {"port": 3307, "name": "new"}],
               "$setElementOrder/ports": [{"port": 3307}, {"port": 3306}],
               "selector": {"$patch": "replace", "c": "3"}},
      "metadata": {"$deleteFromPrimitiveList/finalizers": ["y"]}})"), "Service");
  REQUIRE(out);
  CHECK((*out)["spec"]["ports"] == J(R"([{"port": 3307, "name": "new"}, {"port": 3306, "name": "db"}])"));
  CHECK((*out)["spec"]["selector"] == J(R"({"c": "3"})"));
  CHECK((*out)["metadata"]["finalizers"] == J(R"(["x", "z"])"));
  CHECK(out->dump().find('$') == std::string::npos);

  auto retain = applyStrategicMerge(J(R"({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}})"),
                                    J(R"({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})"), "Deployment");
  REQUIRE(retain);
  CHECK((*retain)["spec"]["strategy"] == J(R"({"type": "Recreate"})"));
  auto replaceList = applyStrategicMerge(svc, J(R"({"spec": {"ports": [{"$patch": "replace"}, {"port": 1}]}})"), "Service");
  REQUIRE(replaceList);
  CHECK((*replaceList)["spec"]["ports"] == J(R"([{"port": 1}])"));
  auto missingKey = applyStrategicMerge(svc, J(R"({"spec": {"ports": [{"name": "nokey"}]}})"), "Service");
  REQUIRE_FALSE(missingKey);
}

}  // namespace
}  // namespace mysqlop::sandbox
