#pragma once
// Test-only PKI: a CA and leaf certificates made in memory at test time, so no key is ever
// committed — a thin layer over common/pki with test defaults: P-256 keys (fast to generate),
// validity in days around now, PEM output (keys in PKCS#8).
//
//   TestPki pki;                                    // a fresh CA
//   auto server = pki.issue({.commonName = "localhost", .dnsNames = {"localhost"},
//                            .ipAddresses = {"127.0.0.1"}, .serverAuth = true});
//   auto client = pki.issue({.commonName = "admin", .clientAuth = true});

#include <string>
#include <vector>

namespace mysqlop::testing {

struct CertRequest {
  std::string commonName;
  std::vector<std::string> organizations;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
  bool serverAuth = false;
  bool clientAuth = false;
  int validDays = 1;
  int validFromDaysAgo = 0;  // negative = starts in the future
};

struct KeyPair {
  std::string certPem;
  std::string keyPem;  // PKCS#8
};

class TestPki {
 public:
  explicit TestPki(std::string caCommonName = "mysqlop-test-ca");
  // A PKI over an existing CA (PEM certificate and key), e.g. one kept on disk.
  static TestPki fromPem(std::string caCertPem, std::string caKeyPem);

  const KeyPair& ca() const { return ca_; }
  KeyPair issue(const CertRequest& req) const;

 private:
  TestPki(KeyPair ca) : ca_(std::move(ca)) {}
  KeyPair ca_;
};

}  // namespace mysqlop::testing
