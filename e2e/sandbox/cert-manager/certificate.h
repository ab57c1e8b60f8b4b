#pragma once
// The sandbox cert-manager's view of a cert-manager.io/v1 Certificate, all pure:
//  - parseCertificate: the spec as values, validated as upstream's webhook validates it (the
//    same field paths and wording), plus the options this stand-in does not implement, which it
//    rejects rather than ignores;
//  - whyIssue: whether the Secret still answers the spec (upstream's trigger policies: missing
//    Secret or data, bad key pair, key parameters, issuer, changed request, renewal time);
//  - renewalTime: upstream's rule (renewBefore, else renewBeforePercentage, else a third of the
//    lifetime before notAfter);
//  - the Secret's annotations and labels.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kube/field_reader.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/pki/pki.h"

namespace mysqlop::sandbox::certmanager {

using Json = nlohmann::json;

using FieldError = kube::FieldError;
using FieldErrors = kube::FieldErrors;

struct IssuerRef {
  std::string name;
  std::string kind = "Issuer";
  std::string group = "cert-manager.io";
  std::string toString() const { return kind + "." + group + "/" + name; }
  bool operator==(const IssuerRef&) const = default;
};

struct CertificateSpec {
  std::string secretName;
  IssuerRef issuerRef;
  pki::Subject subject;  // commonName included
  std::vector<std::string> dnsNames, ipAddresses, uris, emailAddresses;
  std::chrono::seconds duration{std::chrono::hours(2160)};
  std::optional<std::chrono::seconds> renewBefore;
  std::optional<int> renewBeforePercentage;
  std::vector<std::string> usages;  // as written; defaulted by keyUsages()/extKeyUsages()
  bool isCA = false;
  pki::KeySpec key;
  pki::KeyEncoding encoding = pki::KeyEncoding::kPkcs1;
  bool rotateKey = true;  // rotationPolicy Always (default) vs Never
  std::map<std::string, std::string> templateLabels, templateAnnotations;
  int revisionHistoryLimit = 1;

  // The usages split as X.509 encodes them, defaults applied (digital signature + key
  // encipherment; isCA adds cert sign).
  std::vector<std::string> keyUsages() const;
  std::vector<std::string> extKeyUsages() const;
};

core::Result<CertificateSpec, FieldErrors> parseCertificate(const Json& certificate);

struct IssueReason {
  std::string reason;   // DoesNotExist, MissingData, InvalidKeyPair, InvalidCertificate,
                        // SecretMismatch, IncorrectIssuer, RequestChanged, Renewing, Expired
  std::string message;
};

// Why the Secret no longer satisfies the Certificate, or nullopt when it does.
std::optional<IssueReason> whyIssue(const CertificateSpec& spec, const Json* secret, core::WallTime now);

// Whether issuance is due: whyIssue(), or a re-issuance someone asked for by setting the
// Issuing condition to True (cmctl renew). `status` is the Certificate's status.
std::optional<IssueReason> issuanceDue(const CertificateSpec& spec, const Json* secret, const Json& status,
                                       core::WallTime now);
// Whether the certificate in the Secret stays usable while it is re-issued for `why` (Ready
// stays True: a renewal or a changed request is not an outage).
bool stillValidWhile(const IssueReason& why);
// How long to wait before the next attempt after failed issuances (status.failedIssuanceAttempts,
// lastFailureTime): `base`, doubling per failure, capped at 32x; nullopt when none is due.
std::optional<std::chrono::nanoseconds> backoffRemaining(const Json& status, core::WallTime now, std::chrono::seconds base);

core::WallTime renewalTime(const CertificateSpec& spec, core::WallTime notBefore, core::WallTime notAfter);

// The cert-manager.io/* annotations of the Secret and the controller.cert-manager.io/fao label,
// with secretTemplate's labels and annotations.
std::map<std::string, std::string> secretAnnotations(const CertificateSpec& spec, const std::string& certificateName);
std::map<std::string, std::string> secretLabels(const CertificateSpec& spec);

}  // namespace mysqlop::sandbox::certmanager
