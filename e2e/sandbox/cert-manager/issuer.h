#pragma once
// Issuer and ClusterIssuer as the sandbox cert-manager sees them: which kind of issuer
// (selfSigned or ca; anything else stays not Ready), the CA Secret a `ca` issuer names, and the
// Ready verdict in upstream's reasons and words (IsReady; KeyPairVerified "Signing CA verified";
// ErrGetKeyPair; ErrInvalidKeyPair), with the signer a ready `ca` issuer signs with. Pure.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/pki/pki.h"
#include "e2e/sandbox/cert-manager/certificate.h"

namespace mysqlop::sandbox::certmanager {

struct IssuerVerdict {
  bool ready = false;
  std::string reason;
  std::string message;
  bool selfSigned = false;
  std::optional<pki::Signer> signer;   // ca issuers
  std::vector<pki::Certificate> chain;  // the CA Secret's tls.crt: the signer first, then its issuers
};

// The Secret a `ca` issuer reads ("" for other kinds).
std::string caSecretName(const nlohmann::json& issuer);

// `caSecret` is the Secret caSecretName() names, or null when it does not exist.
IssuerVerdict evaluateIssuer(const nlohmann::json& issuer, const nlohmann::json* caSecret);

// What an issuance writes into the Secret.
struct IssuedMaterial {
  std::string tlsCrt;  // the leaf, then the signer and its intermediates (never the root)
  std::string keyPem;  // in the spec's encoding
  std::string caCrt;   // the root (a self-signed certificate is its own)
  pki::CertFacts facts;
};

// Signs a certificate for `spec` at `now` with a Ready issuer. The key already in `secret` is
// kept unless rotationPolicy is Always or it no longer fits the spec. The error's message says
// which part failed, in upstream's words ("Failed to sign the certificate: …").
core::Result<IssuedMaterial> issue(const IssuerVerdict& issuer, const CertificateSpec& spec,
                                   const nlohmann::json* secret, core::WallTime now);

}  // namespace mysqlop::sandbox::certmanager
