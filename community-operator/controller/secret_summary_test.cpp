#include "community-operator/controller/secret_summary.h"

#include <catch2/catch.hpp>

#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/pki/pki.h"
#include "common/testing/test_pki.h"

namespace mysqlop::community {
namespace {

Json tlsSecret(const std::string& ca, const std::string& crt, const std::string& key) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "my-server-cert"}, {"namespace", "demo"}, {"managedFields", Json::array({{{"manager", "x"}}})}}},
          {"type", "kubernetes.io/tls"},
          {"data", {{"ca.crt", kube::base64Encode(ca)}, {"tls.crt", kube::base64Encode(crt)}, {"tls.key", kube::base64Encode(key)}}}};
}

TEST_CASE("secret summary: the cache keeps which certificate and until when, no PEM, each CA once", "[community][secrets]") {
  testing::TestPki pki;
  auto leaf = pki.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30});
  auto pool = std::make_shared<CaPool>();
  auto transform = summarizingSecretTransform({"username", "password"}, pool);
  const Json raw = tlsSecret(pki.ca().certPem, leaf.certPem, leaf.keyPem);

  Json s = raw;
  transform(s);
  CHECK(s["data"].empty());  // tls.key never kept; tls.crt and ca.crt summarized
  CHECK_FALSE(s["metadata"].contains("managedFields"));
  const auto facts = pki::inspect(*pki::parseCertificate(leaf.certPem));
  auto c = certificateOf(s);
  REQUIRE(c);
  CHECK(c->serialHex == facts.serialHex);
  CHECK(core::formatTime(c->notAfter) == core::formatTime(facts.notAfter));
  CHECK(core::formatTime(c->notBefore) == core::formatTime(facts.notBefore));
  CHECK(c->sha256 == certificateDigest(leaf.certPem));
  CHECK(certificateOf(raw)->sha256 == c->sha256);  // an untransformed Secret reads the same
  CHECK(caOf(s, *pool) == pki.ca().certPem);
  CHECK(hasCa(s));

  Json again = raw;  // a thousand Secrets of one issuer: one CA in the pool
  transform(again);
  CHECK(pool->size() == 1);

  auto renewed = pki.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30});
  Json r = tlsSecret(pki.ca().certPem, renewed.certPem, renewed.keyPem);
  transform(r);
  CHECK(certificateOf(r)->sha256 != c->sha256);
  CHECK(certificateOf(r)->serialHex != c->serialHex);

  Json noCert = {{"metadata", {{"name", "x"}}}, {"data", {{"tls.crt", kube::base64Encode("not a certificate")}}}};
  transform(noCert);
  CHECK_FALSE(certificateOf(noCert));
  CHECK_FALSE(hasCa(noCert));
  CHECK_FALSE(caOf(noCert, *pool));
}

TEST_CASE("secret summary: the CA pool holds at most its capacity, the oldest going first", "[community][secrets]") {
  testing::TestPki a, b, c;
  CaPool pool(2);
  const auto da = pool.put(a.ca().certPem), db = pool.put(b.ca().certPem);
  CHECK(pool.put(a.ca().certPem) == da);  // known: nothing added
  CHECK(pool.size() == 2);
  pool.put(c.ca().certPem);
  CHECK(pool.size() == 2);
  CHECK_FALSE(pool.get(da));
  CHECK(pool.get(db) == b.ca().certPem);
  CHECK(pool.put("not a certificate").empty());
}

}  // namespace
}  // namespace mysqlop::community
