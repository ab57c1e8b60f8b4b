#include "e2e/sandbox/apiserver/request_info.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox {
namespace {

TEST_CASE("request paths split like kube-apiserver's RequestInfoFactory", "[sandbox][requestinfo]") {
  struct Row {
    const char* method; const char* path; bool watch;
    bool resource; const char* verb; const char* group; const char* ns; const char* res; const char* name; const char* sub;
  };
  const Row rows[] = {
      {"GET", "/api", false, false, "get", "", "", "", "", ""},
      {"GET", "/apis/apps/v1", false, false, "get", "apps", "", "", "", ""},
      {"GET", "/api/v1/namespaces", false, true, "list", "", "", "namespaces", "", ""},
      {"GET", "/api/v1/namespaces/demo", false, true, "get", "", "demo", "namespaces", "demo", ""},
      {"PUT", "/api/v1/namespaces/demo/finalize", false, true, "update", "", "demo", "namespaces", "demo", "finalize"},
      {"PATCH", "/api/v1/namespaces/demo/status", false, true, "patch", "", "demo", "namespaces", "demo", "status"},
      {"GET", "/api/v1/namespaces/demo/secrets", true, true, "watch", "", "demo", "secrets", "", ""},
      {"GET", "/api/v1/secrets", false, true, "list", "", "", "secrets", "", ""},
      {"POST", "/api/v1/namespaces/demo/serviceaccounts/op/token", false, true, "create", "", "demo", "serviceaccounts", "op", "token"},
      {"PUT", "/apis/kubedb.com/v1/namespaces/demo/mysqls/my/status", false, true, "update", "kubedb.com", "demo", "mysqls", "my", "status"},
      {"DELETE", "/apis/kubedb.com/v1/namespaces/demo/mysqls", false, true, "deletecollection", "kubedb.com", "demo", "mysqls", "", ""},
      {"DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/mysqls.kubedb.com", false, true, "delete", "apiextensions.k8s.io", "", "customresourcedefinitions", "mysqls.kubedb.com", ""},
  };
  for (const auto& r : rows) {
    INFO(r.method << " " << r.path);
    auto ri = parseRequestInfo(r.method, r.path, r.watch);
    CHECK(ri.isResource == r.resource);
    CHECK(ri.verb == r.verb);
    CHECK(ri.group == r.group);
    CHECK(ri.namespace_ == r.ns);
    CHECK(ri.resource == r.res);
    CHECK(ri.name == r.name);
    CHECK(ri.subresource == r.sub);
  }
}

}  // namespace
}  // namespace mysqlop::sandbox

namespace mysqlop::sandbox {
TEST_CASE("boolean query parameters read as Go's strconv.ParseBool reads them", "[sandbox][request]") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(parseBoolParam(t) == true);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) CHECK(parseBoolParam(f) == false);
  for (const char* x : {"", "yes", "tRUE", "2"}) CHECK_FALSE(parseBoolParam(x));
}
}  // namespace mysqlop::sandbox
