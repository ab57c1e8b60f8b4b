#pragma once
// X.509 with OpenSSL 3, as values: private keys (RSA, ECDSA, Ed25519; PEM in PKCS#1/SEC1 or
// PKCS#8), certificates built from a template and signed by an issuer or by themselves, and
// the facts of a certificate read back (subject, SANs, usages, validity, key). Used by the
// sandbox's cert-manager to issue what a Certificate asks for, and by the licence tooling.
//
//   auto key = generateKey({.algorithm = KeyAlgorithm::kEcdsa, .size = 256});
//   CertTemplate t{.subject = {.commonName = "my.demo.svc"}, .dnsNames = {"my.demo.svc"},
//                  .keyUsages = {"digital signature", "key encipherment"}, .extKeyUsages = {"server auth"},
//                  .notBefore = now, .notAfter = now + 90 days};
//   auto pem = issueCertificate(t, *key, Signer{caCert, caKey});   // or selfSigned(*key)
//
// Values own their OpenSSL objects; any thread (no shared state).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.h"
#include "common/core/result.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace mysqlop::pki {

enum class KeyAlgorithm { kRsa, kEcdsa, kEd25519 };
enum class KeyEncoding { kPkcs1, kPkcs8 };  // PKCS1: "RSA PRIVATE KEY" / "EC PRIVATE KEY"

struct KeySpec {
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  int size = 0;  // RSA bits (default 2048) or ECDSA curve bits (default 256); ignored for Ed25519
};

class PrivateKey {
 public:
  PrivateKey() = default;
  explicit PrivateKey(EVP_PKEY* owned);
  EVP_PKEY* get() const { return key_.get(); }
  explicit operator bool() const { return key_ != nullptr; }

  KeyAlgorithm algorithm() const;
  int size() const;  // RSA modulus bits, EC curve bits, 256 for Ed25519
  // Ed25519 has only a PKCS#8 form; asking for PKCS1 gives PKCS#8 (as cert-manager does).
  core::Result<std::string> toPem(KeyEncoding encoding) const;
  std::string publicKeyDer() const;  // SubjectPublicKeyInfo, for comparisons

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

core::Result<PrivateKey> generateKey(const KeySpec& spec);
core::Result<PrivateKey> parsePrivateKey(const std::string& pem);

struct Subject {
  std::string commonName;
  std::vector<std::string> organizations, organizationalUnits, countries, provinces, localities, streetAddresses,
      postalCodes;
  std::string serialNumber;
  bool operator==(const Subject&) const = default;
};

struct CertTemplate {
  Subject subject;
  std::vector<std::string> dnsNames, ipAddresses, uris, emailAddresses;
  bool isCA = false;
  // cert-manager's spellings: "digital signature", "key encipherment", "cert sign", ...;
  // extended: "server auth", "client auth", "code signing", ...
  std::vector<std::string> keyUsages, extKeyUsages;
  core::WallTime notBefore{};
  core::WallTime notAfter{};
};

class Certificate {
 public:
  Certificate() = default;
  explicit Certificate(X509* owned);
  X509* get() const { return cert_.get(); }
  explicit operator bool() const { return cert_ != nullptr; }
  std::string toPem() const;

 private:
  std::shared_ptr<X509> cert_;
};

core::Result<Certificate> parseCertificate(const std::string& pem);
// Every certificate in a PEM bundle, in order.
core::Result<std::vector<Certificate>> parseCertificateChain(const std::string& pem);

struct Signer {
  Certificate cert;
  PrivateKey key;
};

// Signs `subjectKey`'s certificate with `signer` (issuer DN, authority key id from it), or with
// the subject key itself when `signer` is nullopt (self-signed: issuer DN = subject DN). The
// serial is 128 random bits (positive). Invalid when an IP, URI or usage does not parse.
core::Result<Certificate> issueCertificate(const CertTemplate& t, const PrivateKey& subjectKey,
                                           const std::optional<Signer>& signer);

// What a certificate says, in the same vocabulary as CertTemplate.
struct CertFacts {
  Subject subject;
  // The subject as OpenSSL's X509_NAME_oneline spells it ("/O=kubedb:server/CN=my.demo.svc"),
  // which is what MySQL compares a REQUIRE SUBJECT with.
  std::string subjectLine;
  std::string issuerCommonName;
  std::vector<std::string> dnsNames, ipAddresses, uris, emailAddresses;  // as encoded (IPs canonical)
  bool isCA = false;
  std::vector<std::string> keyUsages, extKeyUsages;  // sorted
  core::WallTime notBefore{}, notAfter{};
  std::string serialHex;
  KeyAlgorithm keyAlgorithm = KeyAlgorithm::kRsa;
  int keySize = 0;
};

CertFacts inspect(const Certificate& c);
// Whether `key` is the private half of `cert`'s public key.
bool keyMatches(const Certificate& cert, const PrivateKey& key);
// Whether `cert` was signed by `issuer`'s key (signature check only; no time or chain policy).
// Lower-case hex SHA-256 of `data` (a fingerprint of a PEM text, a DER).
std::string sha256Hex(std::string_view data);
// A certificate's SHA-256 fingerprint (of its DER), lower-case hex: what `openssl x509
// -fingerprint -sha256` prints, without the colons.
std::string fingerprint(const Certificate& c);
bool signedBy(const Certificate& cert, const Certificate& issuer);
// The canonical text form of an IP address ("10.0.0.1", "2001:db8::1"); nullopt if it is none.
std::optional<std::string> canonicalIp(const std::string& ip);

}  // namespace mysqlop::pki
