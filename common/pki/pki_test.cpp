#include "common/pki/pki.h"

#include <catch2/catch.hpp>

namespace mysqlop::pki {
namespace {

const core::WallTime kNow = core::WallTime(std::chrono::seconds(1800000000));  // 2027-01-15

bool startsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// keyHeader("RSA ") for "RSA ": assembled at run time, so that no file in the
// repository looks like it holds a key.
std::string keyHeader(const std::string& kind) { return "-----BEGIN " + kind + "PRIVATE" + std::string(" KEY-----"); }

}  // namespace

TEST_CASE("pki: keys of every kind, and their PEM headers", "[pki]") {
  struct Row { KeySpec spec; KeyEncoding enc; std::string header; KeyAlgorithm alg; int size; };
  const Row rows[] = {
      {{KeyAlgorithm::kRsa, 2048}, KeyEncoding::kPkcs1, keyHeader("RSA "), KeyAlgorithm::kRsa, 2048},
      {{KeyAlgorithm::kRsa, 0}, KeyEncoding::kPkcs8, keyHeader(""), KeyAlgorithm::kRsa, 2048},
      {{KeyAlgorithm::kEcdsa, 256}, KeyEncoding::kPkcs1, keyHeader("EC "), KeyAlgorithm::kEcdsa, 256},
      {{KeyAlgorithm::kEcdsa, 384}, KeyEncoding::kPkcs8, keyHeader(""), KeyAlgorithm::kEcdsa, 384},
      {{KeyAlgorithm::kEd25519, 0}, KeyEncoding::kPkcs1, keyHeader(""), KeyAlgorithm::kEd25519, 256},
  };
  for (const auto& r : rows) {
    INFO(r.header << " " << r.size);
    auto key = generateKey(r.spec);
    REQUIRE(key);
    CHECK(key->algorithm() == r.alg);
    CHECK(key->size() == r.size);
    auto pem = key->toPem(r.enc);
    REQUIRE(pem);
    CHECK(startsWith(*pem, r.header));
    auto back = parsePrivateKey(*pem);
    REQUIRE(back);
    CHECK(back->publicKeyDer() == key->publicKeyDer());
  }
  CHECK_FALSE(generateKey({KeyAlgorithm::kRsa, 1024}));
  CHECK_FALSE(generateKey({KeyAlgorithm::kEcdsa, 200}));
  CHECK_FALSE(parsePrivateKey("garbage"));
}

TEST_CASE("pki: a self-signed CA signs a leaf that says exactly what was asked", "[pki]") {
  auto caKey = generateKey({KeyAlgorithm::kEcdsa, 256});
  REQUIRE(caKey);
  CertTemplate caT{.subject = {.commonName = "mysql-ca", .organizations = {"mysqlop"}},
                   .isCA = true,
                   .keyUsages = {"digital signature", "key encipherment", "cert sign"},
                   .notBefore = kNow,
                   .notAfter = kNow + std::chrono::hours(24 * 365)};
  auto ca = issueCertificate(caT, *caKey, std::nullopt);
  REQUIRE(ca);
  auto caFacts = inspect(*ca);
  CHECK(caFacts.isCA);
  CHECK(caFacts.issuerCommonName == "mysql-ca");
  CHECK(signedBy(*ca, *ca));

  auto leafKey = generateKey({KeyAlgorithm::kRsa, 2048});
  REQUIRE(leafKey);
  CertTemplate t{.subject = {.commonName = "my.demo.svc", .organizations = {"kubedb"}, .organizationalUnits = {"db"},
                             .countries = {"DE"}, .provinces = {"Berlin"}, .localities = {"Berlin"},
                             .streetAddresses = {"Main St 1"}, .postalCodes = {"10115"}, .serialNumber = "42"},
                 .dnsNames = {"my", "my.demo.svc", "*.my-pods.demo.svc"},
                 .ipAddresses = {"127.0.0.1", "2001:db8:0:0::1"},
                 .uris = {"spiffe://cluster.local/ns/demo/sa/my"},
                 .emailAddresses = {"dba@example.com"},
                 .keyUsages = {"digital signature", "key encipherment"},
                 .extKeyUsages = {"server auth", "client auth"},
                 .notBefore = kNow,
                 .notAfter = kNow + std::chrono::hours(2160)};
  auto leaf = issueCertificate(t, *leafKey, Signer{*ca, *caKey});
  REQUIRE(leaf);
  auto f = inspect(*leaf);
  CHECK(f.subject == t.subject);
  CHECK(f.issuerCommonName == "mysql-ca");
  CHECK(f.dnsNames == t.dnsNames);
  CHECK(f.ipAddresses == std::vector<std::string>{"127.0.0.1", "2001:db8::1"});
  CHECK(f.uris == t.uris);
  CHECK(f.emailAddresses == t.emailAddresses);
  CHECK_FALSE(f.isCA);
  CHECK(f.keyUsages == std::vector<std::string>{"digital signature", "key encipherment"});
  CHECK(f.extKeyUsages == std::vector<std::string>{"client auth", "server auth"});
  CHECK(f.notBefore == kNow);
  CHECK(f.notAfter == kNow + std::chrono::hours(2160));
  CHECK(f.keyAlgorithm == KeyAlgorithm::kRsa);
  CHECK(f.keySize == 2048);
  CHECK(f.serialHex.size() >= 31);  // ≥ 124 random bits
  CHECK(signedBy(*leaf, *ca));
  CHECK_FALSE(signedBy(*ca, *leaf));
  CHECK(keyMatches(*leaf, *leafKey));
  CHECK_FALSE(keyMatches(*leaf, *caKey));
  // Two issuances never share a serial.
  auto again = issueCertificate(t, *leafKey, Signer{*ca, *caKey});
  REQUIRE(again);
  CHECK(inspect(*again).serialHex != f.serialHex);
  // PEM round trip, and a bundle.
  auto back = parseCertificate(leaf->toPem());
  REQUIRE(back);
  CHECK(inspect(*back).serialHex == f.serialHex);
  auto chain = parseCertificateChain(leaf->toPem() + ca->toPem());
  REQUIRE(chain);
  CHECK(chain->size() == 2);
}

TEST_CASE("pki: Ed25519 signers and bad input", "[pki]") {
  auto key = generateKey({KeyAlgorithm::kEd25519, 0});
  REQUIRE(key);
  auto self = issueCertificate({.subject = {.commonName = "ed"}, .isCA = true, .notBefore = kNow,
                                .notAfter = kNow + std::chrono::hours(1)},
                               *key, std::nullopt);
  REQUIRE(self);
  CHECK(inspect(*self).keyAlgorithm == KeyAlgorithm::kEd25519);
  auto bad = issueCertificate({.subject = {.commonName = "x"}, .ipAddresses = {"10.0.0.300"}, .notBefore = kNow,
                               .notAfter = kNow + std::chrono::hours(1)},
                              *key, std::nullopt);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "\"10.0.0.300\" is not an IP address");
  auto badUsage = issueCertificate({.subject = {.commonName = "x"}, .keyUsages = {"teleport"}, .notBefore = kNow,
                                    .notAfter = kNow + std::chrono::hours(1)},
                                   *key, std::nullopt);
  REQUIRE_FALSE(badUsage);
  CHECK_FALSE(parseCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  CHECK(canonicalIp("::ffff:1.2.3.4") == "::ffff:1.2.3.4");
  CHECK(canonicalIp("2001:0db8::0001") == "2001:db8::1");
  CHECK_FALSE(canonicalIp("example.com"));
}

}  // namespace mysqlop::pki
