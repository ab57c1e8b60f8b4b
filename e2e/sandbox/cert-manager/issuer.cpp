#include "e2e/sandbox/cert-manager/issuer.h"

#include <fmt/format.h>

#include "common/kube/object.h"
#include "e2e/sandbox/cert-manager/certificate.h"

namespace mysqlop::sandbox::certmanager {

std::string caSecretName(const nlohmann::json& issuer) {
  const auto spec = issuer.value("spec", nlohmann::json::object());
  if (!spec.contains("ca") || !spec["ca"].is_object()) return "";
  return spec["ca"].value("secretName", "");
}

IssuerVerdict evaluateIssuer(const nlohmann::json& issuer, const nlohmann::json* caSecret) {
  IssuerVerdict v;
  const auto spec = issuer.value("spec", nlohmann::json::object());
  int kinds = 0;
  std::string kind;
  for (const char* k : {"selfSigned", "ca", "acme", "vault", "venafi"}) {
    if (spec.contains(k) && !spec[k].is_null()) {
      ++kinds;
      kind = k;
    }
  }
  if (kinds != 1) {
    v.reason = "ErrInitIssuer";
    v.message = "exactly one of selfSigned, ca, acme, vault or venafi must be configured";
    return v;
  }
  if (kind == "selfSigned") {
    v.ready = true;
    v.selfSigned = true;
    v.reason = "IsReady";
    return v;
  }
  if (kind != "ca") {
    v.reason = "ErrInitIssuer";
    v.message = fmt::format("the {} issuer is not implemented by the sandbox cert-manager; use selfSigned or ca", kind);
    return v;
  }
  const std::string secretName = caSecretName(issuer);
  if (!caSecret) {
    v.reason = "ErrGetKeyPair";
    v.message = fmt::format("Error getting keypair for CA issuer: secrets {:?} not found", secretName);
    return v;
  }
  auto invalid = [&](const std::string& why) {
    v.reason = "ErrInvalidKeyPair";
    v.message = "Error getting keypair for CA issuer: " + why;
    return v;
  };
  const std::string certPem = kube::secretValue(*caSecret, "tls.crt").value_or(""), keyPem = kube::secretValue(*caSecret, "tls.key").value_or("");
  if (certPem.empty()) return invalid(fmt::format("secret {:?} has no tls.crt", secretName));
  if (keyPem.empty()) return invalid(fmt::format("secret {:?} has no tls.key", secretName));
  auto chain = pki::parseCertificateChain(certPem);
  if (!chain) return invalid("error decoding certificate PEM block");
  auto key = pki::parsePrivateKey(keyPem);
  if (!key) return invalid("error decoding private key PEM block");
  if (!pki::keyMatches(chain->front(), *key)) return invalid("tls.key does not match the public key in tls.crt");
  if (!pki::inspect(chain->front()).isCA) return invalid("certificate is not a CA");
  v.ready = true;
  v.reason = "KeyPairVerified";
  v.message = "Signing CA verified";
  v.signer = pki::Signer{chain->front(), *key};
  v.chain = std::move(*chain);
  return v;
}

namespace {

// The Secret's key when it still fits the spec and may be reused.
pki::PrivateKey reusableKey(const CertificateSpec& spec, const nlohmann::json* secret) {
  if (spec.rotateKey || !secret) return {};
  auto old = pki::parsePrivateKey(kube::secretValue(*secret, "tls.key").value_or(""));
  if (!old || old->algorithm() != spec.key.algorithm) return {};
  if (spec.key.size != 0 && spec.key.algorithm != pki::KeyAlgorithm::kEd25519 && old->size() != spec.key.size) return {};
  return *old;
}

}  // namespace

core::Result<IssuedMaterial> issue(const IssuerVerdict& issuer, const CertificateSpec& spec,
                                   const nlohmann::json* secret, core::WallTime now) {
  pki::PrivateKey key = reusableKey(spec, secret);
  if (!key) {
    auto fresh = pki::generateKey(spec.key);
    if (!fresh) return core::internal("Failed to generate a private key: " + fresh.error().message);
    key = *fresh;
  }
  const auto from = std::chrono::time_point_cast<std::chrono::seconds>(now);
  pki::CertTemplate t{.subject = spec.subject,
                      .dnsNames = spec.dnsNames,
                      .ipAddresses = spec.ipAddresses,
                      .uris = spec.uris,
                      .emailAddresses = spec.emailAddresses,
                      .isCA = spec.isCA,
                      .keyUsages = spec.keyUsages(),
                      .extKeyUsages = spec.extKeyUsages(),
                      .notBefore = from,
                      .notAfter = from + spec.duration};
  auto cert = pki::issueCertificate(t, key, issuer.selfSigned ? std::nullopt : issuer.signer);
  if (!cert) return core::internal("Failed to sign the certificate: " + cert.error().message);
  auto keyPem = key.toPem(spec.encoding);
  if (!keyPem) return core::internal("Failed to encode the private key: " + keyPem.error().message);
  IssuedMaterial out{cert->toPem(), *keyPem, "", pki::inspect(*cert)};
  if (issuer.selfSigned) {
    out.caCrt = out.tlsCrt;
  } else {
    // The signer and its intermediates follow the leaf; the root is ca.crt, never in tls.crt.
    for (const auto& c : issuer.chain) {
      if (!pki::signedBy(c, c)) out.tlsCrt += c.toPem();
    }
    out.caCrt = issuer.chain.back().toPem();
  }
  return out;
}

}  // namespace mysqlop::sandbox::certmanager
