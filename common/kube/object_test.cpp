#include "common/kube/object.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {
namespace {

Json mysql() {
  return Json::parse(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL",
      "metadata":{"name":"my","namespace":"demo","uid":"u-1","resourceVersion":"42","generation":3}})");
}

TEST_CASE("metadata accessors read what is there and zero values otherwise", "[kube][object]") {
  Json m = mysql();
  CHECK(name(m) == "my");
  CHECK(namespaceOf(m) == "demo");
  CHECK(uid(m) == "u-1");
  CHECK(resourceVersion(m) == "42");
  CHECK(generation(m) == 3);
  CHECK(apiVersion(m) == "kubedb.com/v1");
  CHECK(kind(m) == "MySQL");
  CHECK_FALSE(isBeingDeleted(m));
  Json empty = Json::object();
  CHECK(name(empty).empty());
  CHECK(generation(empty) == 0);
  CHECK(labels(empty).empty());
  m["metadata"]["deletionTimestamp"] = "2026-11-28T12:00:00Z";
  CHECK(isBeingDeleted(m));
}

TEST_CASE("labels and annotations report whether they changed", "[kube][object]") {
  Json s = Json::object();
  CHECK(setLabel(s, "app.kubernetes.io/instance", "my"));
  CHECK_FALSE(setLabel(s, "app.kubernetes.io/instance", "my"));
  CHECK(setLabel(s, "app.kubernetes.io/instance", "other"));
  CHECK(label(s, "app.kubernetes.io/instance") == "other");
  CHECK_FALSE(label(s, "missing"));
  CHECK(setAnnotation(s, "a", "1"));
  CHECK(annotations(s) == std::map<std::string, std::string>{{"a", "1"}});
  CHECK(removeLabel(s, "app.kubernetes.io/instance"));
  CHECK_FALSE(removeLabel(s, "app.kubernetes.io/instance"));
  CHECK(removeAnnotation(s, "a"));
}

TEST_CASE("finalizers behave as a set", "[kube][object]") {
  Json m = mysql();
  CHECK(addFinalizer(m, "kubedb.com"));
  CHECK_FALSE(addFinalizer(m, "kubedb.com"));
  CHECK(addFinalizer(m, "other"));
  CHECK(m["metadata"]["finalizers"] == Json::array({"kubedb.com", "other"}));
  CHECK(removeFinalizer(m, "kubedb.com"));
  CHECK_FALSE(hasFinalizer(m, "kubedb.com"));
  CHECK(removeFinalizer(m, "other"));
  CHECK_FALSE(m["metadata"].contains("finalizers"));
  CHECK_FALSE(removeFinalizer(m, "other"));
}

TEST_CASE("owner references: add, find the controller, match by uid", "[kube][object]") {
  Json secret = Json::object();
  auto ref = makeOwnerReference(mysql(), /*controller=*/true);
  CHECK(ref.apiVersion == "kubedb.com/v1");
  CHECK(ref.uid == "u-1");
  CHECK(ref.blockOwnerDeletion);

  auto added = addOwnerReference(secret, ref);
  REQUIRE(added);
  CHECK(*added);
  CHECK(secret["metadata"]["ownerReferences"][0] ==
        Json::parse(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","name":"my","uid":"u-1",
                        "controller":true,"blockOwnerDeletion":true})"));
  auto again = addOwnerReference(secret, ref);
  REQUIRE(again);
  CHECK_FALSE(*again);  // idempotent: converged objects cost no writes
  CHECK(isOwnedBy(secret, "u-1"));
  CHECK_FALSE(isOwnedBy(secret, "u-2"));
  REQUIRE(controllerOf(secret));
  CHECK(controllerOf(secret)->name == "my");

  // A second, non-controller owner is fine; a second controller is a conflict.
  OwnerReference other{"v1", "ConfigMap", "cm", "u-2", false, false};
  CHECK(*addOwnerReference(secret, other));
  CHECK(ownerReferences(secret).size() == 2);
  other.controller = true;
  auto conflict = addOwnerReference(secret, other);
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == core::ErrorCode::kConflict);
  CHECK_THAT(conflict.error().message, Catch::Contains("already controlled by MySQL my"));

  CHECK(removeOwnerReference(secret, "u-2"));
  CHECK(removeOwnerReference(secret, "u-1"));
  CHECK_FALSE(secret["metadata"].contains("ownerReferences"));
}

TEST_CASE("malformed owner references are skipped, not trusted", "[kube][object]") {
  Json obj = Json::parse(R"({"metadata":{"ownerReferences":[{"kind":"MySQL","name":"x"},
      {"apiVersion":"v1","kind":"Pod","name":"p","uid":"u","controller":true}]}})");
  auto refs = ownerReferences(obj);
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].kind == "Pod");
  auto bad = OwnerReference::fromJson(Json::parse(R"({"kind":"MySQL","name":"x"})"));
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("apiVersion"));
}

TEST_CASE("a Secret's data values are read decoded, absent or malformed ones are nothing", "[kube][object]") {
  const Json secret = Json::parse(R"({"data":{"password":"czNjcjN0","bad":"***","num":3}})");
  CHECK(secretValue(secret, "password") == "s3cr3t");
  CHECK_FALSE(secretValue(secret, "missing"));
  CHECK_FALSE(secretValue(secret, "bad"));
  CHECK_FALSE(secretValue(secret, "num"));
  CHECK_FALSE(secretValue(Json::object(), "password"));
}

}  // namespace
}  // namespace mysqlop::kube
