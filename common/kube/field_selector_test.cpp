#include "common/kube/field_selector.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {
namespace {

TEST_CASE("field selectors match dotted paths with =, == and !=", "[kube][selector]") {
  auto pod = nlohmann::json::parse(R"({"metadata":{"name":"my-0","namespace":"demo"},
      "spec":{"nodeName":"sandbox"},"status":{"phase":"Running","ready":true,"restarts":2}})");
  struct Row { const char* sel; bool match; };
  const Row rows[] = {
      {"", true},
      {"metadata.name=my-0", true},
      {"metadata.name==my-0", true},
      {"metadata.name!=my-0", false},
      {"metadata.namespace=demo,status.phase=Running", true},
      {"metadata.namespace=demo,status.phase!=Running", false},
      {"status.ready=true", true},
      {"status.restarts=2", true},
      {"spec.missing=", true},
      {"spec.missing!=x", true},
      {"metadata.name=my\\,0", false},
  };
  for (const auto& r : rows) {
    INFO(r.sel);
    auto s = FieldSelector::parse(r.sel);
    REQUIRE(s);
    CHECK(s->matches(pod) == r.match);
  }
}

TEST_CASE("field selector escapes round-trip and bad input is Invalid", "[kube][selector]") {
  auto s = FieldSelector::parse(R"(metadata.name=a\,b\=c\\d,type!=kubernetes.io/tls)");
  REQUIRE(s);
  REQUIRE(s->terms().size() == 2);
  CHECK(s->terms()[0].value == R"(a,b=c\d)");
  CHECK(s->terms()[1].negated);
  CHECK(s->toString() == R"(metadata.name=a\,b\=c\\d,type!=kubernetes.io/tls)");

  for (const char* bad : {"metadata.name", "=x", "a=b,", "a=b\\x", "a=b=c", "a=b\\", "a ! =b",
                          "status phase=x"}) {
    INFO(bad);
    auto r = FieldSelector::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::kInvalid);
    CHECK_THAT(r.error().message, Catch::Contains("position"));
  }
}

}  // namespace
}  // namespace mysqlop::kube
