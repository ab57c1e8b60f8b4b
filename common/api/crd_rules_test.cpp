// The CRD's CEL rules and the operator's own validation agree: every object that a rule of the
// CRD refuses (charts/tests/cel/cases.yaml, whose verdicts charts/tests/cel/cel.sh checks with a
// CEL implementation) is refused by parseMySQL/validate too, naming the field the rule's message
// names (every one when the object parses; an object that does not parse is refused for what
// parsing found first). A cluster whose API server does not run the rules still gets the refusal.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "common/api/mysql.h"
#include "common/api/ops_request.h"

namespace mysqlop::api {
namespace {

// YAML → JSON as the API server reads a manifest: plain scalars that look like integers or
// booleans are those, quoted ones stay strings.
Json toJson(const YAML::Node& n) {
  if (n.IsMap()) {
    Json o = Json::object();
    for (const auto& kv : n) o[kv.first.as<std::string>()] = toJson(kv.second);
    return o;
  }
  if (n.IsSequence()) {
    Json a = Json::array();
    for (const auto& x : n) a.push_back(toJson(x));
    return a;
  }
  if (n.IsNull()) return nullptr;
  const std::string s = n.as<std::string>();
  if (n.Tag() == "?") {
    if (s == "true" || s == "false") return s == "true";
    if (std::regex_match(s, std::regex("-?[0-9]+"))) return std::stoll(s);
  }
  return s;
}

TEST_CASE("CRD rules: what a CEL rule refuses, the operator refuses too, naming the same field", "[api][mysql][crd]") {
  const YAML::Node cases = YAML::LoadFile(std::string(MYSQLOP_SOURCE_DIR) + "/charts/tests/cel/cases.yaml");
  REQUIRE(cases.IsSequence());
  int refusedCases = 0;
  for (const auto& c : cases) {
    Json obj = toJson(c["object"]);
    obj["metadata"] = {{"name", "my"}, {"namespace", "demo"}, {"uid", "u"}};
    const Json refused = toJson(c["refused"]);
    if (refused.empty()) continue;
    ++refusedCases;
    INFO(c["name"].as<std::string>());
    std::set<std::string> fields;
    if (c["crd"].as<std::string>() == "mysqlopsrequests.ops.kubedb.com") {
      auto req = parseOpsRequest(obj);
      REQUIRE_FALSE(req);
      for (const auto& e : req.error()) fields.insert(e.field);
      for (const auto& m : refused) {
        std::smatch field;
        const std::string message = m.get<std::string>();
        REQUIRE(std::regex_search(message, field, std::regex("^spec(?:\\.[A-Za-z]+)+")));
        INFO(message);
        CHECK(fields.count(field.str()) > 0);
      }
      continue;
    }
    auto my = parseMySQL(obj);
    const bool parsed = static_cast<bool>(my);
    if (!parsed) {
      for (const auto& e : my.error()) fields.insert(e.field);
    } else {
      setDefaults(*my);
      for (const auto& e : validate(*my)) fields.insert(e.field);
    }
    REQUIRE_FALSE(fields.empty());  // refused
    int named = 0;
    for (const auto& m : refused) {
      std::smatch field;
      const std::string message = m.get<std::string>();
      REQUIRE(std::regex_search(message, field, std::regex("^spec(?:\\.[A-Za-z]+)+")));  // the rule names its field
      INFO(message);
      bool here = fields.count(field.str()) > 0;
      // The two synonyms: the operator may name either.
      if (field.str() == "spec.deletionPolicy") here = here || fields.count("spec.terminationPolicy") > 0;
      named += here;
      // A parsed object is validated whole: every rule's field is named. One that does not parse
      // (an unsupported field, two disagreeing policies) is refused for that first.
      if (parsed) CHECK(here);
    }
    CHECK(named > 0);
  }
  CHECK(refusedCases >= 4);
}

}  // namespace
}  // namespace mysqlop::api
