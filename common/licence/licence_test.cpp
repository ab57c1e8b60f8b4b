#include "common/licence/licence.h"

#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/core/time_format.h"
#include "common/pki/pki.h"

namespace mysqlop::licence {
namespace {

using namespace std::chrono_literals;
const core::WallTime kNow = *core::parseTime("2027-03-01T12:00:00Z");
const std::string kCluster = "0f3c6f57-1d2e-4a7b-9c1d-5e6f7a8b9c0d";

struct Ca {
  pki::PrivateKey key = *pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256});
  pki::Certificate cert = *pki::issueCertificate({.subject = {.commonName = "licence CA", .organizations = {"mysqlop"}},
                                                  .isCA = true, .keyUsages = {"cert sign"}, .notBefore = kNow - 1000h,
                                                  .notAfter = kNow + 100000h},
                                                 key, std::nullopt);
  std::string issue(std::vector<std::string> clusters, std::vector<std::string> features, core::WallTime from,
                    core::WallTime to, const std::string& licensee = "Acme") const {
    auto k = pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256});
    return pki::issueCertificate({.subject = {.commonName = licensee, .organizations = features}, .dnsNames = clusters,
                                  .notBefore = from, .notAfter = to},
                                 *k, pki::Signer{cert, key})
        ->toPem();
  }
};

// The licence with one byte of its signed part changed (the licensee's name).
std::string tamper(const std::string& pem) {
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  unsigned char* der = nullptr;
  int n = i2d_X509(x, &der);
  X509_free(x);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  bytes[bytes.find("Acme") + 3] = 'f';
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
  X509* t = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()));
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, t);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string result(data, static_cast<size_t>(len));
  BIO_free(out);
  X509_free(t);
  return result;
}

}  // namespace

TEST_CASE("licence: every verdict with its own message", "[licence]") {
  Ca ca, other;
  const std::string caPem = ca.cert.toPem();
  const std::vector<std::string> feat = {kEnterpriseFeature};
  const std::string good = ca.issue({kCluster}, feat, kNow - 24h, kNow + 24h * 365);

  auto ok = verifyLicence(good, caPem, kCluster, kNow);
  REQUIRE(ok);
  CHECK(ok->licensee == "Acme");
  CHECK(ok->clusterIds == std::vector<std::string>{kCluster});
  CHECK(ok->features == feat);

  struct Row { std::string pem; std::string message; };
  const Row rows[] = {
      {ca.issue({kCluster}, feat, *core::parseTime("2026-01-01T00:00:00Z"), *core::parseTime("2027-01-31T00:00:00Z")),
       "expired on 2027-01-31T00:00:00Z"},
      {ca.issue({kCluster}, feat, *core::parseTime("2027-06-01T00:00:00Z"), *core::parseTime("2028-06-01T00:00:00Z")),
       "not yet valid: valid from 2027-06-01T00:00:00Z"},
      {ca.issue({"11111111-2222-3333-4444-555555555555"}, feat, kNow - 24h, kNow + 24h),
       "issued for cluster 11111111-2222-3333-4444-555555555555 but this is cluster " + kCluster},
      {other.issue({kCluster}, feat, kNow - 24h, kNow + 24h), "not signed by the licence CA (issuer \"CN=licence CA,O=mysqlop\")"},
      {tamper(good), "not signed by the licence CA (issuer \"CN=licence CA,O=mysqlop\")"},
      {ca.issue({kCluster}, {"mysqlop-community"}, kNow - 24h, kNow + 24h),
       "feature \"mysqlop-enterprise\" missing (the licence grants: \"mysqlop-community\")"},
      {"this is not a licence\n", "not a PEM certificate"},
      {"-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n", "not a PEM certificate"},
      {ca.cert.toPem(), "not signed by the licence CA (issuer \"CN=licence CA,O=mysqlop\")"},  // the CA itself
  };
  for (const auto& r : rows) {
    auto v = verifyLicence(r.pem, caPem, kCluster, kNow);
    INFO(r.message);
    REQUIRE_FALSE(v);
    CHECK(v.error().message == r.message);
  }
  // The boundaries are inclusive.
  auto l = *readLicence(good);
  CHECK(verifyLicence(good, caPem, kCluster, l.notAfter));
  CHECK(verifyLicence(good, caPem, kCluster, l.notBefore));
  CHECK_FALSE(verifyLicence(good, caPem, kCluster, l.notAfter + 1s));
}

TEST_CASE("licence: a build carries a licence CA", "[licence]") {
  auto ca = pki::parseCertificate(embeddedCaPem());
  REQUIRE(ca);
  CHECK(pki::inspect(*ca).isCA);
}

TEST_CASE("licence: a development build knows its licence CA is its own", "[licence]") {
  // This tree is configured without MYSQLOP_LICENCE_CA_CERT (tests issue licences with the
  // generated CA's key), so the binary says so.
  CHECK(embeddedCaIsDevelopment());
}

}  // namespace mysqlop::licence
