// Which Certificates and issuers a watch event brings back to the sandbox cert-manager.
#include "e2e/sandbox/cert-manager/mappers.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox::certmanager {
namespace {

using runtime::Json;

void add(runtime::ObjectCache& c, const std::string& text) { c.upsert(std::make_shared<const Json>(Json::parse(text))); }

std::vector<std::string> keys(const std::vector<runtime::Request>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.key());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("cert-manager mappers: Certificates by their Secret and their issuer's kind", "[cert-manager][mappers]") {
  runtime::ObjectCache certs;
  add(certs, R"({"metadata":{"name":"a","namespace":"demo"},"spec":{"secretName":"a-tls","issuerRef":{"name":"ca"}}})");
  add(certs, R"({"metadata":{"name":"b","namespace":"demo"},"spec":{"secretName":"b-tls",
      "issuerRef":{"name":"ca","kind":"ClusterIssuer"}}})");
  add(certs, R"({"metadata":{"name":"c","namespace":"other"},"spec":{"secretName":"a-tls","issuerRef":{"name":"ca","kind":"Issuer"}}})");
  CHECK(keys(certificatesForSecret(certs, Json::parse(R"({"metadata":{"name":"a-tls","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/a"});
  CHECK(keys(certificatesForIssuer(certs, Json::parse(R"({"metadata":{"name":"ca","namespace":"demo"}})"), "Issuer")) ==
        std::vector<std::string>{"demo/a"});
  CHECK(keys(certificatesForIssuer(certs, Json::parse(R"({"metadata":{"name":"ca"}})"), "ClusterIssuer")) ==
        std::vector<std::string>{"demo/b"});
}

TEST_CASE("cert-manager mappers: issuers by the CA Secret they read", "[cert-manager][mappers]") {
  runtime::ObjectCache issuers, clusterIssuers;
  add(issuers, R"({"metadata":{"name":"ca","namespace":"demo"},"spec":{"ca":{"secretName":"root"}}})");
  add(issuers, R"({"metadata":{"name":"self","namespace":"demo"},"spec":{"selfSigned":{}}})");
  add(clusterIssuers, R"({"metadata":{"name":"cluster-ca"},"spec":{"ca":{"secretName":"root"}}})");
  CHECK(keys(issuersForSecret(issuers, Json::parse(R"({"metadata":{"name":"root","namespace":"demo"}})"))) ==
        std::vector<std::string>{"demo/ca"});
  CHECK(issuersForSecret(issuers, Json::parse(R"({"metadata":{"name":"root","namespace":"other"}})")).empty());
  CHECK(keys(clusterIssuersForSecret(clusterIssuers, Json::parse(R"({"metadata":{"name":"root","namespace":"cert-manager"}})"),
                                     "cert-manager")) == std::vector<std::string>{"cluster-ca"});
  CHECK(clusterIssuersForSecret(clusterIssuers, Json::parse(R"({"metadata":{"name":"root","namespace":"demo"}})"),
                                "cert-manager")
            .empty());
}

}  // namespace mysqlop::sandbox::certmanager
