// Which MySQLs a watch event on a Secret or an issuer brings back to the enterprise reconciler.
#include "enterprise-operator/controller/mappers.h"

#include <catch2/catch.hpp>

namespace mysqlop::enterprise {
namespace {

using runtime::Json;

runtime::ObjectPtr ptr(const std::string& text) { return std::make_shared<const Json>(Json::parse(text)); }

std::vector<std::string> keys(const std::vector<runtime::Request>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.key());
  std::sort(out.begin(), out.end());
  return out;
}

void fill(runtime::ObjectCache& c) {
  c.upsert(ptr(R"({"metadata":{"name":"a","namespace":"demo","uid":"ua"},
      "spec":{"tls":{"issuerRef":{"name":"ca"}}}})"));
  c.upsert(ptr(R"({"metadata":{"name":"b","namespace":"demo","uid":"ub"},"spec":{"authSecret":{"name":"shared"},
      "tls":{"issuerRef":{"kind":"ClusterIssuer","name":"ca"}}}})"));
  c.upsert(ptr(R"({"metadata":{"name":"c","namespace":"other","uid":"uc"},
      "spec":{"tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}}})"));
  c.upsert(ptr(R"({"metadata":{"name":"d","namespace":"other","uid":"ud"},"spec":{}})"));
}

}  // namespace

TEST_CASE("enterprise mappers: Secrets by our labels, an owner or the auth Secret's name", "[enterprise][mappers]") {
  const bool compact = GENERATE(false, true);
  runtime::ObjectCache c(compact, mysqlIndexers());
  fill(c);
  CHECK(keys(mysqlsForSecret(c, Json::parse(R"({"metadata":{"name":"a-auth","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/a"});
  CHECK(keys(mysqlsForSecret(c, Json::parse(R"({"metadata":{"name":"shared","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/b"});
  CHECK(keys(mysqlsForSecret(c, Json::parse(R"({"metadata":{"name":"x","namespace":"demo",
      "labels":{"app.kubernetes.io/instance":"b"}}})"))) == std::vector<std::string>{"demo/b"});
  CHECK(keys(mysqlsForSecret(c, Json::parse(R"({"metadata":{"name":"x","namespace":"other",
      "ownerReferences":[{"apiVersion":"kubedb.com/v1","kind":"MySQL","name":"c","uid":"uc"}]}})"))) ==
        std::vector<std::string>{"other/c"});
  CHECK(mysqlsForSecret(c, Json::parse(R"({"metadata":{"name":"b-auth","namespace":"demo"}})")).empty());
}

TEST_CASE("enterprise mappers: an Issuer in its namespace, a ClusterIssuer everywhere, by kind", "[enterprise][mappers]") {
  runtime::ObjectCache c;
  fill(c);
  CHECK(keys(mysqlsForIssuer(c, Json::parse(R"({"metadata":{"name":"ca","namespace":"demo"}})"), "Issuer")) ==
        std::vector<std::string>{"demo/a"});  // kind defaults to Issuer
  CHECK(keys(mysqlsForIssuer(c, Json::parse(R"({"metadata":{"name":"ca","namespace":"other"}})"), "Issuer")) ==
        std::vector<std::string>{"other/c"});
  CHECK(keys(mysqlsForIssuer(c, Json::parse(R"({"metadata":{"name":"ca"}})"), "ClusterIssuer")) ==
        std::vector<std::string>{"demo/b"});
  CHECK(mysqlsForIssuer(c, Json::parse(R"({"metadata":{"name":"other"}})"), "ClusterIssuer").empty());
  c.upsert(ptr(R"({"metadata":{"name":"bad","namespace":"demo","uid":"ux"},"spec":{"tls":{"issuerRef":{"name":7,"kind":1}}}})"));
  CHECK(keys(mysqlsForIssuer(c, Json::parse(R"({"metadata":{"name":"ca","namespace":"demo"}})"), "Issuer")) ==
        std::vector<std::string>{"demo/a"});  // a malformed reference neither matches nor throws
}

}  // namespace mysqlop::enterprise
