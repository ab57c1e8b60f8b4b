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

}  // namespace mysqlop::sandbox::certmanager
