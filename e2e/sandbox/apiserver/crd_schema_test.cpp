#include "e2e/sandbox/apiserver/crd_schema.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox {
namespace {

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "spec": {"type": "object", "required": ["version"], "properties": {
      "version": {"type": "string", "minLength": 1},
      "replicas": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1},
      "policy": {"type": "string", "enum": ["Delete", "WipeOut"], "default": "Delete"},
      "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}},
      "port": {"x-kubernetes-int-or-string": true},
      "tls": {"type": "object", "properties": {"issuer": {"type": "string"}, "certs": {"type": "array", "maxItems": 2,
              "items": {"type": "object", "properties": {"alias": {"type": "string", "default": "server"}}}}}},
      "podTemplate": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}})");

TEST_CASE("pruning drops undeclared fields and reports their paths", "[sandbox][schema]") {
  Json obj = Json::parse(R"({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "whatever": 1},
    "spec": {"version": "8", "bogus": true, "labels": {"any": "thing"}, "tls": {"certs": [{"alias": "client", "extra": 1}]},
             "podTemplate": {"spec": {"anything": ["goes"]}}},
    "junk": 1})");
  std::vector<std::string> unknown;
  pruneAndDefault(kSchema, obj, unknown);
  CHECK(unknown == std::vector<std::string>{".junk", ".spec.bogus", ".spec.tls.certs[0].extra"});
  CHECK(obj["metadata"]["whatever"] == 1);  // metadata is the server's business
  CHECK(obj["spec"]["labels"]["any"] == "thing");
  CHECK(obj["spec"]["podTemplate"]["spec"]["anything"][0] == "goes");
  CHECK_FALSE(obj.contains("junk"));
}

TEST_CASE("defaults fill absent fields, recursively, and never overwrite", "[sandbox][schema]") {
  Json obj = Json::parse(R"({"spec": {"version": "8", "policy": "WipeOut", "tls": {"certs": [{}, {"alias": "client"}]}}})");
  std::vector<std::string> unknown;
  pruneAndDefault(kSchema, obj, unknown);
  CHECK(obj["spec"]["replicas"] == 1);
  CHECK(obj["spec"]["policy"] == "WipeOut");
  CHECK(obj["spec"]["tls"]["certs"][0]["alias"] == "server");
  CHECK(obj["spec"]["tls"]["certs"][1]["alias"] == "client");
  Json noDefaults = Json::parse(R"({"spec": {"version": "8"}})");
  pruneAndDefault(kSchema, noDefaults, unknown, /*applyDefaults=*/false);
  CHECK_FALSE(noDefaults["spec"].contains("replicas"));
}

TEST_CASE("validation yields one cause per problem with the field path", "[sandbox][schema]") {
  Json obj = Json::parse(R"({"spec": {"replicas": 0, "policy": "Keep", "name": "ABCDEFG", "port": 1.5,
                                      "tls": {"certs": [{}, {}, {}]}, "labels": {"a": 1}}})");
  auto causes = validateAgainstSchema(kSchema, obj);
  std::vector<std::string> fields;
  for (const auto& c : causes) fields.push_back(c.field + " " + c.reason);
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.version FieldValueRequired")));
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.replicas FieldValueInvalid")));
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.policy FieldValueNotSupported")));
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.name FieldValueTooLong")));
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.name FieldValueInvalid")));  // pattern
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.port FieldValueTypeInvalid")));
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.tls.certs FieldValueTooMany")));
  CHECK_THAT(fields, Catch::VectorContains(std::string("spec.labels.a FieldValueTypeInvalid")));
  for (const auto& c : causes) {
    if (c.field == "spec.replicas") CHECK(c.message == "Invalid value: 0: spec.replicas in body should be greater than or equal to 1");
    if (c.field == "spec.policy") CHECK(c.message == "Unsupported value: \"Keep\": supported values: \"Delete\", \"WipeOut\"");
  }
  CHECK(validateAgainstSchema(kSchema, Json::parse(R"({"spec": {"version": "8", "port": "http"}})")).empty());
}

}  // namespace
}  // namespace mysqlop::sandbox
