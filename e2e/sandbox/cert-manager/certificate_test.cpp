#include "e2e/sandbox/cert-manager/certificate.h"

#include <catch2/catch.hpp>

#include "common/kube/base64.h"

namespace mysqlop::sandbox::certmanager {
namespace {

using namespace std::chrono_literals;
const core::WallTime kNow = core::WallTime(std::chrono::seconds(1800000000));

Json cert(const std::string& spec) {
  return Json{{"apiVersion", "cert-manager.io/v1"}, {"kind", "Certificate"},
              {"metadata", {{"name", "c"}, {"namespace", "demo"}}}, {"spec", Json::parse(spec)}};
}

// A Secret holding what issuing `spec` now would hold.
Json issuedSecret(const CertificateSpec& spec, core::WallTime now, const std::string& issuer = "ca") {
  auto key = pki::generateKey(spec.key);
  auto c = pki::issueCertificate({.subject = spec.subject, .dnsNames = spec.dnsNames, .ipAddresses = spec.ipAddresses,
                                  .uris = spec.uris, .emailAddresses = spec.emailAddresses, .isCA = spec.isCA,
                                  .keyUsages = spec.keyUsages(), .extKeyUsages = spec.extKeyUsages(), .notBefore = now,
                                  .notAfter = now + spec.duration},
                                 *key, std::nullopt);
  Json s = {{"metadata", {{"name", spec.secretName}, {"namespace", "demo"},
                          {"annotations", {{"cert-manager.io/issuer-name", issuer}, {"cert-manager.io/issuer-kind", "Issuer"},
                                           {"cert-manager.io/issuer-group", "cert-manager.io"}}}}},
            {"data", {{"tls.crt", kube::base64Encode(c->toPem())}, {"tls.key", kube::base64Encode(*key->toPem(spec.encoding))}}}};
  return s;
}

}  // namespace

TEST_CASE("cert-manager: a full Certificate spec parses", "[cert-manager]") {
  auto c = parseCertificate(cert(R"({"secretName":"s","issuerRef":{"name":"ca","kind":"ClusterIssuer"},
    "commonName":"my.demo.svc","dnsNames":["my"],"ipAddresses":["127.0.0.1"],"uris":["spiffe://x/y"],
    "emailAddresses":["a@b.c"],"subject":{"organizations":["o"],"serialNumber":"7"},"duration":"720h","renewBefore":"240h",
    "usages":["server auth","digital signature"],"isCA":false,
    "privateKey":{"algorithm":"ECDSA","size":384,"encoding":"PKCS8","rotationPolicy":"Never"},
    "secretTemplate":{"labels":{"a":"b"},"annotations":{"x":"y"}}})"));
  REQUIRE(c);
  CHECK(c->issuerRef.toString() == "ClusterIssuer.cert-manager.io/ca");
  CHECK(c->duration == 720h);
  CHECK(c->renewBefore == std::optional<std::chrono::seconds>(240h));
  CHECK(c->key.algorithm == pki::KeyAlgorithm::kEcdsa);
  CHECK(c->key.size == 384);
  CHECK(c->encoding == pki::KeyEncoding::kPkcs8);
  CHECK_FALSE(c->rotateKey);
  CHECK(c->keyUsages() == std::vector<std::string>{"digital signature"});
  CHECK(c->extKeyUsages() == std::vector<std::string>{"server auth"});
  CHECK(secretLabels(*c) == std::map<std::string, std::string>{{"a", "b"}, {"controller.cert-manager.io/fao", "true"}});
  auto ann = secretAnnotations(*c, "c");
  CHECK(ann["cert-manager.io/alt-names"] == "my");
  CHECK(ann["cert-manager.io/ip-sans"] == "127.0.0.1");
  CHECK(ann["cert-manager.io/subject-organizations"] == "o");
  CHECK(ann["x"] == "y");
  // Defaults: 90 days, RSA 2048 PKCS1, rotation Always, digital signature + key encipherment.
  auto d = parseCertificate(cert(R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","isCA":true})"));
  REQUIRE(d);
  CHECK(d->duration == 2160h);
  CHECK(d->issuerRef.kind == "Issuer");
  CHECK(d->key.algorithm == pki::KeyAlgorithm::kRsa);
  CHECK(d->encoding == pki::KeyEncoding::kPkcs1);
  CHECK(d->rotateKey);
  CHECK(d->keyUsages() == std::vector<std::string>{"digital signature", "key encipherment", "cert sign"});
  CHECK(secretAnnotations(*d, "c").count("cert-manager.io/email-sans") == 0);
}

TEST_CASE("cert-manager: invalid Certificates are named as upstream's webhook names them", "[cert-manager]") {
  struct Row { const char* spec; const char* field; const char* message; };
  const Row rows[] = {
      {R"({"secretName":"s","issuerRef":{"name":"ca"}})", "spec", "at least one of commonName"},
      {R"({"issuerRef":{"name":"ca"},"commonName":"x"})", "spec.secretName", "Required value"},
      {R"({"secretName":"s","issuerRef":{},"commonName":"x"})", "spec.issuerRef.name", "Required value"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","duration":"30m"})", "spec.duration",
       "Invalid value: \"30m0s\": certificate duration must be greater than 1h0m0s"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","duration":"1h","renewBefore":"2h"})", "spec.renewBefore",
       "certificate duration 1h0m0s must be greater than renewBefore 2h0m0s"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","renewBefore":"1m"})", "spec.renewBefore",
       "must be greater than 5m0s"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","renewBefore":"1h","renewBeforePercentage":10})",
       "spec.renewBefore", "mutually exclusive"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","privateKey":{"algorithm":"RSA","size":1024}})",
       "spec.privateKey.size", "must be either one of 2048, 4096 or 8192"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"ipAddresses":["10.0.0.300"]})", "spec.ipAddresses[0]", "invalid IP address"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","keystores":{"pkcs12":{"create":true}}})", "spec.keystores",
       "Forbidden: not supported by the sandbox cert-manager"},
      {R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"x","additionalOutputFormats":[{"type":"DER"}]})",
       "spec.additionalOutputFormats", "Forbidden"},
      {R"({"secretName":"s","issuerRef":{"name":"ca","kind":"Vault"},"commonName":"x"})", "spec.issuerRef.kind", "Issuer or ClusterIssuer"},
  };
  for (const auto& r : rows) {
    INFO(r.spec);
    auto c = parseCertificate(cert(r.spec));
    REQUIRE_FALSE(c);
    bool found = false;
    for (const auto& e : c.error()) found |= e.field == r.field && e.message.find(r.message) != std::string::npos;
    INFO(c.error().front().toString());
    CHECK(found);
  }
}

TEST_CASE("cert-manager: renewal time as upstream computes it", "[cert-manager]") {
  CertificateSpec s;
  const core::WallTime nb = kNow, na = kNow + 2160h;
  CHECK(renewalTime(s, nb, na) == na - 720h);  // a third of 90 days
  s.renewBefore = 24h;
  CHECK(renewalTime(s, nb, na) == na - 24h);
  s.renewBefore = 3000h;  // longer than the lifetime: ignored
  CHECK(renewalTime(s, nb, na) == na - 720h);
  s.renewBefore.reset();
  s.renewBeforePercentage = 25;
  CHECK(renewalTime(s, nb, na) == na - 540h);
}

TEST_CASE("cert-manager: when a Secret no longer answers the Certificate", "[cert-manager]") {
  auto spec = parseCertificate(cert(R"({"secretName":"s","issuerRef":{"name":"ca"},"commonName":"my.demo.svc",
    "dnsNames":["my","my.demo.svc"],"ipAddresses":["127.0.0.1"],"usages":["server auth","digital signature","key encipherment"],
    "privateKey":{"algorithm":"ECDSA"},"duration":"48h"})"));
  REQUIRE(spec);
  CHECK(whyIssue(*spec, nullptr, kNow)->reason == "DoesNotExist");
  Json secret = issuedSecret(*spec, kNow);
  CHECK_FALSE(whyIssue(*spec, &secret, kNow + 1h));
  CHECK(whyIssue(*spec, &secret, kNow + 33h)->reason == "Renewing");  // 48h - 16h
  CHECK(whyIssue(*spec, &secret, kNow + 49h)->reason == "Expired");

  Json noKey = secret;
  noKey["data"].erase("tls.key");
  CHECK(whyIssue(*spec, &noKey, kNow)->reason == "MissingData");
  Json badKey = secret;
  badKey["data"]["tls.key"] = kube::base64Encode("junk");
  CHECK(whyIssue(*spec, &badKey, kNow)->reason == "InvalidKeyPair");
  Json badCert = secret;
  badCert["data"]["tls.crt"] = kube::base64Encode("junk");
  CHECK(whyIssue(*spec, &badCert, kNow)->reason == "InvalidCertificate");
  Json otherKey = secret;
  otherKey["data"]["tls.key"] = kube::base64Encode(*pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256})->toPem(pki::KeyEncoding::kPkcs1));
  CHECK(whyIssue(*spec, &otherKey, kNow)->reason == "InvalidKeyPair");
  Json otherIssuer = issuedSecret(*spec, kNow, "old-ca");
  auto why = whyIssue(*spec, &otherIssuer, kNow);
  CHECK(why->reason == "IncorrectIssuer");
  CHECK(why->message == "Issuing certificate as Secret was previously issued by \"Issuer.cert-manager.io/old-ca\"");

  auto changed = *spec;
  changed.dnsNames.push_back("extra");
  CHECK(whyIssue(changed, &secret, kNow)->message == "Issuing certificate as the Certificate's request changed: spec.dnsNames");
  changed = *spec;
  changed.usages = {"client auth"};
  CHECK(whyIssue(changed, &secret, kNow)->message.find("spec.usages") != std::string::npos);
  changed = *spec;
  changed.duration = 72h;
  CHECK(whyIssue(changed, &secret, kNow)->message.find("spec.duration") != std::string::npos);
  changed = *spec;
  changed.key = {pki::KeyAlgorithm::kRsa, 2048};
  CHECK(whyIssue(changed, &secret, kNow)->reason == "SecretMismatch");
  // secretTemplate is metadata only: no re-issuance.
  changed = *spec;
  changed.templateLabels["team"] = "db";
  CHECK_FALSE(whyIssue(changed, &secret, kNow));
}

}  // namespace mysqlop::sandbox::certmanager
