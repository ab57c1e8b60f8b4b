#include "common/kube/label_selector.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {
namespace {

using Labels = std::map<std::string, std::string>;

TEST_CASE("label selectors: valid syntax and what they match", "[kube][selector]") {
  const Labels db{{"app.kubernetes.io/instance", "my"}, {"tier", "db"}, {"replicas", "3"}};
  const Labels cache{{"app.kubernetes.io/instance", "other"}, {"tier", "cache"}};
  const Labels none{};
  struct Row { const char* sel; bool db, cache, none; const char* canonical; };
  const Row rows[] = {
      {"", true, true, true, ""},
      {"tier=db", true, false, false, "tier=db"},
      {"tier==db", true, false, false, "tier=db"},
      {"tier!=db", false, true, true, "tier!=db"},
      {"tier in (db,cache)", true, true, false, "tier in (cache,db)"},
      {"tier notin (cache)", true, false, true, "tier notin (cache)"},
      {"tier", true, true, false, "tier"},
      {"!tier", false, false, true, "!tier"},
      {"  tier = db , app.kubernetes.io/instance==my ", true, false, false,
       "app.kubernetes.io/instance=my,tier=db"},
      {"replicas>2", true, false, false, "replicas>2"},
      {"replicas<2", false, false, false, "replicas<2"},
      {"tier=", false, false, false, "tier="},
      {"tier in (db,)", true, false, false, "tier in (,db)"},
      {"x notin (a),!y,tier", true, true, false, "tier,x notin (a),!y"},
  };
  for (const auto& r : rows) {
    INFO("selector: '" << r.sel << "'");
    auto s = LabelSelector::parse(r.sel);
    REQUIRE(s);
    CHECK(s->matches(db) == r.db);
    CHECK(s->matches(cache) == r.cache);
    CHECK(s->matches(none) == r.none);
    CHECK(s->toString() == r.canonical);
    auto again = LabelSelector::parse(s->toString());
    REQUIRE(again);
    CHECK(again->requirements() == s->requirements());
  }
}

TEST_CASE("label selectors: malformed input is Invalid and names the position", "[kube][selector]") {
  struct Row { const char* sel; const char* needle; };
  const Row rows[] = {
      {"tier=db,", "position 8"},
      {",tier", "position 0"},
      {"tier in db", "position 8"},
      {"tier in (db", "position 11"},
      {"tier in ()", "must not be empty"},
      {"tier notin", "position 10"},
      {"tier db", "position 5"},
      {"tier=a=b", "position 6"},
      {"!", "position 1"},
      {"tier>x", "position 5"},
      {"-bad=x", "alphanumeric"},
      {"a/b/c=x", "at most one '/'"},
      {"UPPER.example/x=1", "DNS-1123"},
      {"tier=bad value", "position 9"},
      {"tier=-x", "alphanumeric"},
      {"k=01234567890123456789012345678901234567890123456789012345678901234", "63"},
  };
  for (const auto& r : rows) {
    INFO("selector: '" << r.sel << "'");
    auto s = LabelSelector::parse(r.sel);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == core::ErrorCode::kInvalid);
    CHECK_THAT(s.error().message, Catch::Contains(r.needle));
  }
}

TEST_CASE("label selectors from metav1.LabelSelector", "[kube][selector]") {
  auto s = LabelSelector::fromJson(nlohmann::json::parse(R"({
    "matchLabels": {"app.kubernetes.io/name": "mysqls.kubedb.com"},
    "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["cache"]},
                         {"key": "legacy", "operator": "DoesNotExist"}]})"));
  REQUIRE(s);
  CHECK(s->toString() == "app.kubernetes.io/name=mysqls.kubedb.com,!legacy,tier notin (cache)");
  CHECK(s->matches({{"app.kubernetes.io/name", "mysqls.kubedb.com"}}));
  CHECK_FALSE(s->matches({{"app.kubernetes.io/name", "mysqls.kubedb.com"}, {"legacy", "1"}}));

  auto bad = LabelSelector::fromJson(nlohmann::json::parse(
      R"({"matchExpressions": [{"key": "tier", "operator": "In"}]})"));
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("matchExpressions[0].values"));
  auto badOp = LabelSelector::fromJson(nlohmann::json::parse(
      R"({"matchExpressions": [{"key": "tier", "operator": "Near", "values": ["x"]}]})"));
  REQUIRE_FALSE(badOp);
  CHECK_THAT(badOp.error().message, Catch::Contains("operator"));
  CHECK(LabelSelector::fromJson(nullptr)->empty());
}

}  // namespace
}  // namespace mysqlop::kube
