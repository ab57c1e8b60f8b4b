// Which MySQLs a watch event on another kind brings back to the community reconciler.
#include "community-operator/controller/mappers.h"

#include <catch2/catch.hpp>

namespace mysqlop::community {
namespace {

using runtime::Json;

runtime::ObjectPtr ptr(const std::string& text) { return std::make_shared<const Json>(Json::parse(text)); }

std::vector<std::string> keys(const std::vector<runtime::Request>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.key());
  std::sort(out.begin(), out.end());
  return out;
}

struct Fixture {
  runtime::ObjectCache mysqls;
  explicit Fixture(bool compact = false) : mysqls(compact, mysqlIndexers()) {
    mysqls.upsert(ptr(R"({"metadata":{"name":"a","namespace":"demo","uid":"ua"},"spec":{"version":"8.4.3"}})"));
    mysqls.upsert(ptr(R"({"metadata":{"name":"b","namespace":"demo","uid":"ub"},"spec":{"version":"8.0.35",
        "authSecret":{"name":"shared"},"tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}}})"));
    mysqls.upsert(ptr(R"({"metadata":{"name":"c","namespace":"other","uid":"uc"},"spec":{"version":"8.4.3",
        "authSecret":{"name":"shared"}}})"));
  }
};

}  // namespace

TEST_CASE("mappers: a Secret brings back the MySQLs that own, label or name it, in its namespace only",
          "[community][mappers]") {
  const bool compact = GENERATE(false, true);
  Fixture f(compact);
  CHECK(keys(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"shared","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/b"});
  CHECK(keys(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"a-auth","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/a"});
  CHECK(keys(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"b-server-cert","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/b"});
  CHECK(keys(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"x","namespace":"demo",
      "ownerReferences":[{"apiVersion":"kubedb.com/v1","kind":"MySQL","name":"a","uid":"ua"}]}})"))) ==
        std::vector<std::string>{"demo/a"});
  CHECK(keys(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"y","namespace":"demo",
      "labels":{"app.kubernetes.io/instance":"a","app.kubernetes.io/managed-by":"kubedb.com"}}})"))) ==
        std::vector<std::string>{"demo/a"});
  // The instance label alone (someone else's tool) does not make it ours.
  CHECK(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"y","namespace":"demo",
      "labels":{"app.kubernetes.io/instance":"a"}}})")).empty());
  CHECK(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"unrelated","namespace":"demo"}})")).empty());
  // A MySQL that changes what it names is found by the new name only.
  f.mysqls.upsert(ptr(R"({"metadata":{"name":"a","namespace":"demo","uid":"ua"},"spec":{"version":"8.4.3",
      "authSecret":{"name":"mine"}}})"));
  CHECK(keys(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"mine","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/a"});
  CHECK(mysqlsForSecret(f.mysqls, Json::parse(R"({"metadata":{"name":"a-auth","namespace":"demo"}})")).empty());
}

TEST_CASE("mappers: a MySQLVersion brings back every MySQL of that version, in every namespace", "[community][mappers]") {
  Fixture f;
  CHECK(keys(mysqlsForVersion(f.mysqls, Json::parse(R"({"metadata":{"name":"8.4.3"}})"))) ==
        std::vector<std::string>{"demo/a", "other/c"});
  CHECK(mysqlsForVersion(f.mysqls, Json::parse(R"({"metadata":{"name":"5.7"}})")).empty());
  // A malformed MySQL (the CRD schema forbids it; an older server might not) neither matches nor throws.
  f.mysqls.upsert(ptr(R"({"metadata":{"name":"bad","namespace":"demo","uid":"ux"},"spec":{"version":8}})"));
  CHECK(keys(mysqlsForVersion(f.mysqls, Json::parse(R"({"metadata":{"name":"8.4.3"}})"))) ==
        std::vector<std::string>{"demo/a", "other/c"});
}

TEST_CASE("mappers: pods and StatefulSets name their database by the instance label", "[community][mappers]") {
  CHECK(instanceKey(Json::parse(R"({"metadata":{"name":"a-0","namespace":"demo",
      "labels":{"app.kubernetes.io/instance":"a"}}})")) == "demo/a");
  CHECK_FALSE(instanceKey(Json::parse(R"({"metadata":{"name":"x","namespace":"demo"}})")));
  CHECK(ownedSelector() == "app.kubernetes.io/managed-by=kubedb.com,app.kubernetes.io/name=mysqls.kubedb.com");
}

}  // namespace mysqlop::community
