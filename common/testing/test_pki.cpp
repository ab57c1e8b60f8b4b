#include "common/testing/test_pki.h"

#include <chrono>
#include <stdexcept>

#include "common/pki/pki.h"

namespace mysqlop::testing {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

template <typename T>
T need(core::Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string("test PKI: ") + what + ": " + r.error().message);
  return std::move(*r);
}

pki::PrivateKey newKey() { return need(pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256}), "EC key generation"); }

// The request's validity around now: it starts validFromDaysAgo days ago (a minute earlier, for
// clock skew) and lasts validDays.
pki::CertTemplate validity(const CertRequest& req) {
  const auto now = core::systemClock().now();
  pki::CertTemplate t;
  t.notBefore = now - hours(24) * req.validFromDaysAgo - seconds(60);
  t.notAfter = now + hours(24) * (req.validDays - req.validFromDaysAgo);
  return t;
}

KeyPair pemPair(const pki::Certificate& cert, const pki::PrivateKey& key) {
  return {cert.toPem(), need(key.toPem(pki::KeyEncoding::kPkcs8), "PEM encoding of the key")};
}

}  // namespace

TestPki::TestPki(std::string caCommonName) {
  pki::PrivateKey key = newKey();
  pki::CertTemplate t = validity({.validDays = 30});
  t.subject.commonName = std::move(caCommonName);
  t.isCA = true;
  t.keyUsages = {"cert sign", "crl sign"};
  ca_ = pemPair(need(pki::issueCertificate(t, key, std::nullopt), "signing the CA"), key);
}

TestPki TestPki::fromPem(std::string caCertPem, std::string caKeyPem) {
  return TestPki(KeyPair{std::move(caCertPem), std::move(caKeyPem)});
}

KeyPair TestPki::issue(const CertRequest& req) const {
  const pki::Signer signer{need(pki::parseCertificate(ca_.certPem), "reading the CA certificate"),
                           need(pki::parsePrivateKey(ca_.keyPem), "reading the CA key")};
  pki::PrivateKey key = newKey();
  pki::CertTemplate t = validity(req);
  t.subject.commonName = req.commonName;
  t.subject.organizations = req.organizations;
  t.dnsNames = req.dnsNames;
  t.ipAddresses = req.ipAddresses;
  t.keyUsages = {"digital signature", "key encipherment"};
  if (req.serverAuth) t.extKeyUsages.push_back("server auth");
  if (req.clientAuth) t.extKeyUsages.push_back("client auth");
  return pemPair(need(pki::issueCertificate(t, key, signer), "signing a certificate"), key);
}

}  // namespace mysqlop::testing
