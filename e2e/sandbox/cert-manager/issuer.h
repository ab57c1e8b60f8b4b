#pragma once
// Issuer and ClusterIssuer as the sandbox cert-manager sees them: which kind of issuer
// (selfSigned or ca; anything else stays not Ready), the CA Secret a `ca` issuer names, and the
// Ready verdict in upstream's reasons and words (IsReady; KeyPairVerified "Signing CA verified";
// ErrGetKeyPair; ErrInvalidKeyPair), with the signer a ready `ca` issuer signs with. Pure.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/pki/pki.h"

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

}  // namespace mysqlop::sandbox::certmanager
