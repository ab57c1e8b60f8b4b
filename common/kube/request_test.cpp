#include "common/kube/request.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {
namespace {

const ResourceType kMySQLs{{"kubedb.com", "v1", "mysqls"}, "MySQL", true};
const ResourceType kMySQLVersions{{"catalog.kubedb.com", "v1alpha1", "mysqlversions"},
                                  "MySQLVersion", false};

TEST_CASE("REST paths: core vs groups, namespaced vs cluster, subresources", "[kube][path]") {
  CHECK(resourcePath(kSecrets, "demo") == "/api/v1/namespaces/demo/secrets");
  CHECK(resourcePath(kSecrets, "demo", "my-auth") == "/api/v1/namespaces/demo/secrets/my-auth");
  CHECK(resourcePath(kSecrets, "") == "/api/v1/secrets");
  CHECK(resourcePath(kNamespaces, "ignored", "kube-system") == "/api/v1/namespaces/kube-system");
  CHECK(resourcePath(kStatefulSets, "demo", "my", "status") ==
        "/apis/apps/v1/namespaces/demo/statefulsets/my/status");
  CHECK(resourcePath(kMySQLs, "demo", "my", "status") ==
        "/apis/kubedb.com/v1/namespaces/demo/mysqls/my/status");
  CHECK(resourcePath(kMySQLVersions, "", "8.0.35") ==
        "/apis/catalog.kubedb.com/v1alpha1/mysqlversions/8.0.35");
  CHECK(resourcePath(kLeases, "kube-system", "mysqlop") ==
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/mysqlop");
  CHECK(resourcePath(kCustomResourceDefinitions, "", "mysqls.kubedb.com") ==
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/mysqls.kubedb.com");
  CHECK(resourcePath(kSecrets, "demo", "a b/c") == "/api/v1/namespaces/demo/secrets/a%20b%2Fc");
  CHECK(kStatefulSets.qualifiedResource() == "statefulsets.apps");
  CHECK(kSecrets.qualifiedResource() == "secrets");
  CHECK(kMySQLs.apiVersion() == "kubedb.com/v1");
  CHECK(GroupVersion::parse("v1") == GroupVersion{"", "v1"});
  CHECK(GroupVersion::parse("cert-manager.io/v1") == GroupVersion{"cert-manager.io", "v1"});
}

TEST_CASE("list and watch requests carry their options as an escaped query", "[kube][path]") {
  auto l = listRequest(kSecrets, "demo",
                       {.labelSelector = "app.kubernetes.io/instance=my,tier in (a,b)",
                        .limit = 500, .continueToken = "abc=="});
  CHECK(l.method == "GET");
  CHECK(l.verb == "list");
  CHECK(l.path ==
        "/api/v1/namespaces/demo/secrets?labelSelector=app.kubernetes.io%2Finstance%3Dmy%2Ctier%20in%20%28a%2Cb%29"
        "&limit=500&continue=abc%3D%3D");
  auto w = watchRequest(kMySQLs, "", {.limit = 500, .resourceVersion = "17", .timeoutSeconds = 300,
                                      .allowWatchBookmarks = true});
  CHECK(w.verb == "watch");
  CHECK(w.path == "/apis/kubedb.com/v1/mysqls?watch=true&resourceVersion=17&timeoutSeconds=300"
                  "&allowWatchBookmarks=true");
  CHECK(listRequest(kNamespaces, "", {}).path == "/api/v1/namespaces");
}

TEST_CASE("write requests: create, update status, patch types, delete options", "[kube][path]") {
  nlohmann::json obj = {{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"},
                        {"metadata", {{"name", "my"}, {"namespace", "demo"}}}};
  auto c = createRequest(kMySQLs, "demo", obj, {.fieldManager = "mysqlop"});
  CHECK(c.method == "POST");
  CHECK(c.path == "/apis/kubedb.com/v1/namespaces/demo/mysqls?fieldManager=mysqlop");
  CHECK(nlohmann::json::parse(c.body) == obj);
  CHECK(c.contentType == "application/json");

  auto u = updateRequest(kMySQLs, obj, "status");
  CHECK(u.method == "PUT");
  CHECK(u.path == "/apis/kubedb.com/v1/namespaces/demo/mysqls/my/status");

  auto a = patchRequest(kMySQLs, "demo", "my", PatchType::kApply, obj,
                        {.write = {.fieldManager = "mysqlop"}, .force = true});
  CHECK(a.method == "PATCH");
  CHECK(a.contentType == "application/apply-patch+yaml");
  CHECK(a.path == "/apis/kubedb.com/v1/namespaces/demo/mysqls/my?fieldManager=mysqlop&force=true");
  CHECK(patchRequest(kSecrets, "d", "s", PatchType::kJson, nlohmann::json::array()).contentType ==
        "application/json-patch+json");
  CHECK(patchRequest(kSecrets, "d", "s", PatchType::kMerge, {}, {.write = {.dryRun = true}}).path ==
        "/api/v1/namespaces/d/secrets/s?dryRun=All");

  auto d = deleteRequest(kSecrets, "demo", "my-auth",
                         {.propagationPolicy = "Foreground", .preconditionUid = "u-1"});
  CHECK(d.method == "DELETE");
  auto body = nlohmann::json::parse(d.body);
  CHECK(body["kind"] == "DeleteOptions");
  CHECK(body["propagationPolicy"] == "Foreground");
  CHECK(body["preconditions"]["uid"] == "u-1");
  CHECK_FALSE(body["preconditions"].contains("resourceVersion"));
}

}  // namespace
}  // namespace mysqlop::kube
