#include "e2e/sandbox/apiserver/managed_fields.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox {
namespace {

Json J(const char* s) { return Json::parse(s); }

const Json kCrSchema = J(R"({"type": "object", "properties": {"spec": {"type": "object", "properties": {
    "size": {"type": "integer"}, "color": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}},
    "status": {"type": "object", "properties": {"conditions": {"type": "array", "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"], "items": {"type": "object"}}}}}})");

ApplyInput apply(const Json* live, const char* config, const char* manager, bool force = false) {
  ApplyInput in;
  in.live = live;
  in.config = J(config);
  in.who = {manager, "Apply", ""};
  in.force = force;
  in.apiVersion = "example.com/v1";
  in.now = "2026-11-28T12:00:00Z";
  in.ctx = {&kCrSchema, "Widget", false};
  return in;
}

TEST_CASE("field sets round-trip through FieldsV1, keyed lists by their keys", "[sandbox][ssa]") {
  Json obj = J(R"({"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "labels": {"app": "x"}},
                  "spec": {"size": 1, "tags": ["a"]},
                  "status": {"conditions": [{"type": "Ready", "status": "True"}]}})");
  FieldSet s = fieldSetOf(obj, {&kCrSchema, "Widget", false});
  Json v1 = toFieldsV1(s);
  CHECK(v1 == J(R"({"f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:size": {}, "f:tags": {}},
                    "f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}, "f:type": {}}}}})"));
  CHECK(fromFieldsV1(v1) == s);
}

TEST_CASE("apply: create, update, conflicts, shared ownership, force, removal", "[sandbox][ssa]") {
  auto created = serverSideApply(apply(nullptr, R"({"metadata": {"name": "w"}, "spec": {"size": 1, "color": "red"}})", "a"));
  REQUIRE(created);
  CHECK((*created)["metadata"]["managedFields"][0]["manager"] == "a");

  // Same value from another manager: shared, no conflict.
  auto shared = serverSideApply(apply(&*created, R"({"metadata": {"name": "w"}, "spec": {"size": 1}})", "b"));
  REQUIRE(shared);
  // Different value: a conflict naming manager and field.
  auto conflict = serverSideApply(apply(&*shared, R"({"metadata": {"name": "w"}, "spec": {"size": 2}})", "b"));
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == 409);
  CHECK(conflict.error().message == "Apply failed with 1 conflict: conflict with \"a\" using example.com/v1: .spec.size");
  CHECK(conflict.error().details["causes"][0]["reason"] == "FieldManagerConflict");
  CHECK(conflict.error().details["causes"][0]["field"] == ".spec.size");
  // Forced: b takes size; a keeps color.
  auto forced = serverSideApply(apply(&*shared, R"({"metadata": {"name": "w"}, "spec": {"size": 2}})", "b", true));
  REQUIRE(forced);
  CHECK((*forced)["spec"]["size"] == 2);
  // a stops applying color: it is removed because nobody else owns it.
  auto dropped = serverSideApply(apply(&*forced, R"({"metadata": {"name": "w"}, "spec": {}})", "a"));
  REQUIRE(dropped);
  CHECK_FALSE((*dropped)["spec"].contains("color"));
  CHECK((*dropped)["spec"]["size"] == 2);
}

TEST_CASE("updates move the changed fields to the updater", "[sandbox][ssa]") {
  auto created = serverSideApply(apply(nullptr, R"({"metadata": {"name": "w"}, "spec": {"size": 1, "color": "red"}})", "a"));
  REQUIRE(created);
  Json next = *created;
  next["spec"]["size"] = 5;
  recordUpdate(&*created, next, {"kubectl-edit", "Update", ""}, "example.com/v1", "2026-11-28T12:00:01Z",
               {&kCrSchema, "Widget", false});
  const Json& mf = next["metadata"]["managedFields"];
  REQUIRE(mf.size() == 2);
  CHECK(mf[0]["fieldsV1"] == J(R"({"f:spec": {"f:color": {}}})"));
  CHECK(mf[1]["manager"] == "kubectl-edit");
  CHECK(mf[1]["fieldsV1"] == J(R"({"f:spec": {"f:size": {}}})"));
  // Now a re-apply of size by "a" conflicts with the editor.
  auto again = serverSideApply(apply(&next, R"({"metadata": {"name": "w"}, "spec": {"size": 1, "color": "red"}})", "a"));
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Catch::Contains("conflict with \"kubectl-edit\""));
}

}  // namespace
}  // namespace mysqlop::sandbox
