#include "common/testing/test_pki.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace mysqlop::testing {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

PKey newKey() {
  PKey k(EVP_EC_gen("P-256"));
  check(k != nullptr, "EC key generation");
  return k;
}

std::string bioString(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string certPem(X509* c) {
  Bio b(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(b.get(), c) == 1, "PEM_write_bio_X509");
  return bioString(b.get());
}

std::string keyPem(EVP_PKEY* k) {
  Bio b(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return bioString(b.get());
}

PKey readKey(const std::string& pem) {
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PKey k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  check(k != nullptr, "reading the CA key");
  return k;
}

Cert readCert(const std::string& pem) {
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  check(c != nullptr, "reading the CA certificate");
  return c;
}

void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "building an X.509 extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert build(const CertRequest& req, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuerKey, bool isCa) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -86400L * req.validFromDaysAgo - 60);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 86400L * (req.validDays - req.validFromDaysAgo));
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  for (const auto& o : req.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(req.commonName.c_str()), -1,
                             -1, 0);
  X509* iss = issuer ? issuer : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(iss));
  if (isCa) {
    addExt(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    addExt(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExt(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    addExt(c.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    std::string eku;
    if (req.serverAuth) eku = "serverAuth";
    if (req.clientAuth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
    if (!eku.empty()) addExt(c.get(), iss, NID_ext_key_usage, eku);
  }
  addExt(c.get(), iss, NID_subject_key_identifier, "hash");
  if (issuer) addExt(c.get(), iss, NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (const auto& d : req.dnsNames) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : req.ipAddresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty()) addExt(c.get(), iss, NID_subject_alt_name, san);
  check(X509_sign(c.get(), issuerKey, EVP_sha256()) > 0, "X509_sign");
  return c;
}

}  // namespace

TestPki::TestPki(std::string caCommonName) {
  PKey key = newKey();
  CertRequest req{.commonName = std::move(caCommonName), .validDays = 30};
  Cert ca = build(req, key.get(), nullptr, key.get(), /*isCa=*/true);
  ca_ = {certPem(ca.get()), keyPem(key.get())};
}

TestPki TestPki::fromPem(std::string caCertPem, std::string caKeyPem) {
  return TestPki(KeyPair{std::move(caCertPem), std::move(caKeyPem)});
}

KeyPair TestPki::issue(const CertRequest& req) const {
  PKey caKey = readKey(ca_.keyPem);
  Cert caCert = readCert(ca_.certPem);
  PKey key = newKey();
  Cert c = build(req, key.get(), caCert.get(), caKey.get(), /*isCa=*/false);
  return {certPem(c.get()), keyPem(key.get())};
}

}  // namespace mysqlop::testing
