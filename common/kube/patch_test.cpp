#include "common/kube/patch.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {
namespace {

Json J(const char* s) { return Json::parse(s); }

// RFC 7386 Appendix A, every row.
TEST_CASE("merge patch follows RFC 7386 appendix A", "[kube][patch]") {
  struct Row { const char* target; const char* patch; const char* result; };
  const Row rows[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& r : rows) {
    INFO(r.target << " + " << r.patch);
    CHECK(applyMergePatch(J(r.target), J(r.patch)) == J(r.result));
  }
}

TEST_CASE("createMergePatch produces the minimal patch from old to new", "[kube][patch]") {
  Json from = J(R"({"metadata":{"labels":{"a":"1","b":"2"},"name":"x"},"spec":{"n":1,"l":[1,2]}})");
  Json to = J(R"({"metadata":{"labels":{"a":"1","c":"3"},"name":"x"},"spec":{"n":1,"l":[1]}})");
  Json p = createMergePatch(from, to);
  CHECK(p == J(R"({"metadata":{"labels":{"b":null,"c":"3"}},"spec":{"l":[1]}})"));
  CHECK(applyMergePatch(from, p) == to);
  CHECK(createMergePatch(to, to) == Json::object());
}

TEST_CASE("JSON patch follows RFC 6902 appendix A", "[kube][patch]") {
  struct Row { const char* section; const char* doc; const char* patch; const char* result; };
  const Row ok[] = {
      {"A.1", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
       R"({"baz":"qux","foo":"bar"})"},
      {"A.2", R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])",
       R"({"foo":["bar","qux","baz"]})"},
      {"A.3", R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])",
       R"({"foo":"bar"})"},
      {"A.4", R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])",
       R"({"foo":["bar","baz"]})"},
      {"A.5", R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])",
       R"({"baz":"boo","foo":"bar"})"},
      {"A.6", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
       R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
      {"A.7", R"({"foo":["all","grass","cows","eat"]})",
       R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])", R"({"foo":["all","cows","eat","grass"]})"},
      {"A.8", R"({"baz":"qux","foo":["a",2,"c"]})",
       R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
       R"({"baz":"qux","foo":["a",2,"c"]})"},
      {"A.10", R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
       R"({"foo":"bar","child":{"grandchild":{}}})"},
      {"A.11", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
       R"({"foo":"bar","baz":"qux"})"},
      {"A.14", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
       R"({"/":9,"~1":10})"},
      {"A.16", R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
       R"({"foo":["bar",["abc","def"]]})"},
      {"copy", R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])",
       R"({"a":{"b":1},"c":{"b":1}})"},
      {"~1", R"({"metadata":{"labels":{}}})",
       R"([{"op":"add","path":"/metadata/labels/app.kubernetes.io~1name","value":"mysqls.kubedb.com"}])",
       R"({"metadata":{"labels":{"app.kubernetes.io/name":"mysqls.kubedb.com"}}})"},
  };
  for (const auto& r : ok) {
    INFO(r.section);
    auto out = applyJsonPatch(J(r.doc), J(r.patch));
    REQUIRE(out);
    CHECK(*out == J(r.result));
  }
}

TEST_CASE("failing JSON patches are Invalid and change nothing", "[kube][patch]") {
  struct Row { const char* section; const char* doc; const char* patch; };
  const Row bad[] = {
      {"A.9 test fails", R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])"},
      {"A.12 missing parent", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])"},
      {"A.15 string vs number", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])"},
      {"remove missing", R"({"a":1})", R"([{"op":"remove","path":"/b"}])"},
      {"replace missing", R"({"a":1})", R"([{"op":"replace","path":"/b","value":2}])"},
      {"index out of range", R"({"a":[1]})", R"([{"op":"add","path":"/a/5","value":2}])"},
      {"unknown op", R"({"a":1})", R"([{"op":"frobnicate","path":"/a"}])"},
      {"no path", R"({"a":1})", R"([{"op":"add","value":1}])"},
      {"not an array", R"({"a":1})", R"({"op":"add","path":"/a","value":1})"},
  };
  for (const auto& r : bad) {
    INFO(r.section);
    Json doc = J(r.doc);
    Json before = doc;
    auto out = applyJsonPatch(doc, J(r.patch));
    REQUIRE_FALSE(out);
    CHECK(out.error().code == core::ErrorCode::kInvalid);
    CHECK(doc == before);
  }
}

TEST_CASE("a test op failing after earlier ops leaves the document as it was", "[kube][patch]") {
  Json doc = J(R"({"spec":{"replicas":1},"metadata":{"resourceVersion":"7"}})");
  auto out = applyJsonPatch(doc, J(R"([
      {"op":"replace","path":"/spec/replicas","value":3},
      {"op":"test","path":"/metadata/resourceVersion","value":"6"}])"));
  REQUIRE_FALSE(out);
  CHECK(out.error().message.find("test") != std::string::npos);
  CHECK(doc["spec"]["replicas"] == 1);
}

TEST_CASE("createJsonPatch round-trips", "[kube][patch]") {
  Json a = J(R"({"a":[1,2,3],"b":{"c":"d"},"e/f":1})");
  Json b = J(R"({"a":[1,3],"b":{"c":"x","n":null},"g~h":2})");
  auto out = applyJsonPatch(a, createJsonPatch(a, b));
  REQUIRE(out);
  CHECK(*out == b);
}

}  // namespace
}  // namespace mysqlop::kube
