#include "enterprise-operator/controller/issuer_ca.h"

#include <catch2/catch.hpp>

#include "common/kube/base64.h"
#include "common/pki/pki.h"
#include "common/testing/test_pki.h"

namespace mysqlop::enterprise {
namespace {

Json secretOf(std::map<std::string, std::string> data) {
  Json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "ca"}, {"namespace", "demo"}}}, {"data", Json::object()}};
  for (const auto& [k, v] : data) s["data"][k] = kube::base64Encode(v);
  return s;
}

}  // namespace

TEST_CASE("issuer CA: where a ca issuer keeps its key pair", "[enterprise][issuer-ca]") {
  const Json issuer = Json::parse(R"({"metadata":{"name":"mysql-ca","namespace":"demo"},"spec":{"ca":{"secretName":"ca-pair"}}})");
  CHECK(caSecretOf(issuer, "Issuer", "cert-manager") == std::make_pair(std::string("demo"), std::string("ca-pair")));
  // A ClusterIssuer's is in cert-manager's cluster resource namespace.
  CHECK(caSecretOf(issuer, "ClusterIssuer", "cm") == std::make_pair(std::string("cm"), std::string("ca-pair")));
  CHECK_FALSE(caSecretOf(Json::parse(R"({"metadata":{"name":"s","namespace":"demo"},"spec":{"selfSigned":{}}})"), "Issuer", "cm"));
  CHECK_FALSE(caSecretOf(Json::parse(R"({"metadata":{"name":"s","namespace":"demo"},"spec":{"ca":{}}})"), "Issuer", "cm"));
}

TEST_CASE("issuer CA: what its leaves' clients must trust, never its key", "[enterprise][issuer-ca]") {
  testing::TestPki root;
  // A self-signed CA (what a selfSigned issuer makes of an isCA Certificate): its own tls.crt.
  auto anchor = trustAnchorOf(secretOf({{"tls.crt", root.ca().certPem}, {"tls.key", "KEY"}}));
  REQUIRE(anchor);
  CHECK(*anchor == root.ca().certPem);
  CHECK(anchor->find("KEY") == std::string::npos);
  // An intermediate with its chain: ca.crt (the root) is what verifies the leaves it signs.
  auto inter = root.issue({.commonName = "intermediate", .validDays = 30});
  CHECK(trustAnchorOf(secretOf({{"tls.crt", inter.certPem + root.ca().certPem}, {"tls.key", inter.keyPem}, {"ca.crt", root.ca().certPem}})) ==
        root.ca().certPem);
  // Without ca.crt, the last of the chain.
  CHECK(trustAnchorOf(secretOf({{"tls.crt", inter.certPem + root.ca().certPem}})) == root.ca().certPem);
  CHECK_FALSE(trustAnchorOf(secretOf({{"tls.key", "KEY"}})));
  CHECK_FALSE(trustAnchorOf(secretOf({{"tls.crt", "not a certificate"}})));
}

}  // namespace mysqlop::enterprise
