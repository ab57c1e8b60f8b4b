#include "common/kube/field_reader.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {

TEST_CASE("field reader: absent and null fields read as empty without an error", "[kube][fields]") {
  FieldErrors errors;
  FieldReader r(errors);
  const Json o = Json::parse(R"({"a": null})");
  CHECK(r.str(o, "a", "spec").empty());
  CHECK(r.str(o, "missing", "spec").empty());
  CHECK_FALSE(r.boolean(o, "a", "spec"));
  CHECK(r.integer(o, "a", "spec") == 0);
  CHECK(r.strings(o, "a", "spec").empty());
  CHECK(r.stringMap(o, "a", "spec").empty());
  CHECK(r.object(o, "a", "spec") == nullptr);
  CHECK(r.str(Json("not an object"), "a", "spec").empty());
  CHECK(errors.empty());
}

TEST_CASE("field reader: well-typed fields are read", "[kube][fields]") {
  FieldErrors errors;
  FieldReader r(errors);
  const Json o = Json::parse(R"({"s": "x", "b": true, "i": 42, "l": ["p", "q"], "m": {"k": "v"}, "o": {"z": 1}})");
  CHECK(r.str(o, "s", "spec") == "x");
  CHECK(r.boolean(o, "b", "spec"));
  CHECK(r.integer(o, "i", "spec") == 42);
  CHECK(r.strings(o, "l", "spec") == std::vector<std::string>{"p", "q"});
  CHECK(r.stringMap(o, "m", "spec") == std::map<std::string, std::string>{{"k", "v"}});
  REQUIRE(r.object(o, "o", "spec") != nullptr);
  CHECK(r.object(o, "o", "spec")->at("z") == 1);
  CHECK(errors.empty());
}

TEST_CASE("field reader: each malformed field is named with the API server's words", "[kube][fields]") {
  FieldErrors errors;
  FieldReader r(errors);
  const Json o = Json::parse(R"({"s": 8, "b": "yes", "i": 1.5, "l": ["ok", 3], "m": {"k": false}, "o": [], "n": "x"})");
  r.str(o, "s", "spec");
  r.boolean(o, "b", "spec");
  r.integer(o, "i", "spec");
  CHECK(r.strings(o, "l", "spec.tls") == std::vector<std::string>{"ok"});
  CHECK(r.stringMap(o, "m", "spec.secretTemplate").empty());
  r.object(o, "o", "spec");
  r.strings(o, "n", "spec");
  r.str(o, "s", "");
  const FieldErrors want = {
      {"spec.s", "Invalid value: 8: must be a string"},
      {"spec.b", "Invalid value: \"yes\": must be a boolean"},
      {"spec.i", "Invalid value: 1.5: must be an integer"},
      {"spec.tls.l[1]", "Invalid value: 3: must be a string"},
      {"spec.secretTemplate.m[k]", "Invalid value: false: must be a string"},
      {"spec.o", "Invalid value: []: must be an object"},
      {"spec.n", "Invalid value: \"x\": must be a list of strings"},
      {"s", "Invalid value: 8: must be a string"},
  };
  CHECK(errors == want);
  CHECK(errors[0].toString() == "spec.s: Invalid value: 8: must be a string");
}

TEST_CASE("field reader: a long value is shortened in the message", "[kube][fields]") {
  FieldErrors errors;
  FieldReader r(errors);
  r.integer(Json{{"i", std::string(200, 'a')}}, "i", "spec");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "Invalid value: \"" + std::string(56, 'a') + "...: must be an integer");
}

}  // namespace mysqlop::kube
