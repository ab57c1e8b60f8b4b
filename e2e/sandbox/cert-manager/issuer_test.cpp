#include "e2e/sandbox/cert-manager/issuer.h"

#include <catch2/catch.hpp>

#include "common/kube/base64.h"

namespace mysqlop::sandbox::certmanager {
namespace {

using Json = nlohmann::json;
const core::WallTime kNow = core::WallTime(std::chrono::seconds(1800000000));

Json caIssuer() { return Json::parse(R"({"metadata":{"name":"ca","namespace":"demo"},"spec":{"ca":{"secretName":"ca-key-pair"}}})"); }

Json keyPairSecret(const pki::Certificate& c, const pki::PrivateKey& k) {
  return {{"data", {{"tls.crt", kube::base64Encode(c.toPem())}, {"tls.key", kube::base64Encode(*k.toPem(pki::KeyEncoding::kPkcs8))}}}};
}

}  // namespace

TEST_CASE("issuers: selfSigned is ready at once, other kinds are not implemented", "[cert-manager]") {
  auto v = evaluateIssuer(Json::parse(R"({"spec":{"selfSigned":{}}})"), nullptr);
  CHECK(v.ready);
  CHECK(v.reason == "IsReady");
  CHECK(v.message.empty());
  auto acme = evaluateIssuer(Json::parse(R"({"spec":{"acme":{"server":"x"}}})"), nullptr);
  CHECK_FALSE(acme.ready);
  CHECK(acme.message.find("acme issuer is not implemented") != std::string::npos);
  CHECK_FALSE(evaluateIssuer(Json::parse(R"({"spec":{}})"), nullptr).ready);
}

TEST_CASE("issuers: a ca issuer verifies its key pair as upstream does", "[cert-manager]") {
  CHECK(caSecretName(caIssuer()) == "ca-key-pair");
  auto missing = evaluateIssuer(caIssuer(), nullptr);
  CHECK(missing.reason == "ErrGetKeyPair");
  CHECK(missing.message == "Error getting keypair for CA issuer: secrets \"ca-key-pair\" not found");

  auto key = pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256});
  auto ca = pki::issueCertificate({.subject = {.commonName = "root"}, .isCA = true, .keyUsages = {"cert sign"},
                                   .notBefore = kNow, .notAfter = kNow + std::chrono::hours(24)},
                                  *key, std::nullopt);
  Json good = keyPairSecret(*ca, *key);
  auto v = evaluateIssuer(caIssuer(), &good);
  CHECK(v.ready);
  CHECK(v.reason == "KeyPairVerified");
  CHECK(v.message == "Signing CA verified");
  REQUIRE(v.signer);
  CHECK(v.chain.size() == 1);

  Json mismatched = keyPairSecret(*ca, *pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256}));
  auto bad = evaluateIssuer(caIssuer(), &mismatched);
  CHECK(bad.reason == "ErrInvalidKeyPair");
  CHECK(bad.message == "Error getting keypair for CA issuer: tls.key does not match the public key in tls.crt");

  auto leaf = pki::issueCertificate({.subject = {.commonName = "leaf"}, .notBefore = kNow, .notAfter = kNow + std::chrono::hours(1)},
                                    *key, std::nullopt);
  Json notCa = keyPairSecret(*leaf, *key);
  CHECK(evaluateIssuer(caIssuer(), &notCa).message == "Error getting keypair for CA issuer: certificate is not a CA");
  Json garbage = {{"data", {{"tls.crt", kube::base64Encode("junk")}, {"tls.key", kube::base64Encode("junk")}}}};
  CHECK(evaluateIssuer(caIssuer(), &garbage).reason == "ErrInvalidKeyPair");
}

}  // namespace mysqlop::sandbox::certmanager
