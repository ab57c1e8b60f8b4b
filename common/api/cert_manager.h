#pragma once
// The cert-manager.io/v1 kinds the operators read (issue 5): resource types of Certificate,
// Issuer, ClusterIssuer and CertificateRequest, the Ready state of any of them, and a
// Certificate's status (notBefore, notAfter, renewalTime, revision). The enterprise operator
// reads Issuers to gate issuance and Certificates to report TLSCertificatesReady.
//
//   auto st = readyState(issuer);   // {ready, reason, message}; "NoReadyCondition" when unset
//
// Pure; any thread.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/api/mysql.h"
#include "common/core/result.h"
#include "common/kube/resource.h"

namespace mysqlop::api {

inline constexpr std::string_view kCertManagerGroup = "cert-manager.io";

const kube::ResourceType& certificateResource();
const kube::ResourceType& issuerResource();
const kube::ResourceType& clusterIssuerResource();
const kube::ResourceType& certificateRequestResource();

struct ReadyState {
  bool ready = false;
  std::string reason;   // the condition's reason, or "NoReadyCondition"
  std::string message;
  bool operator==(const ReadyState&) const = default;
};

// The Ready condition of a cert-manager object. A condition for an older generation (its
// observedGeneration below metadata.generation) is reported as not ready, reason "Outdated".
ReadyState readyState(const Json& obj);

struct CertificateStatus {
  ReadyState ready;
  std::string notBefore, notAfter, renewalTime;  // RFC 3339, "" when not issued yet
  int64_t revision = 0;
};

// Field errors when the status has the wrong shape (e.g. revision not an integer).
core::Result<CertificateStatus, FieldErrors> parseCertificateStatus(const Json& certificate);

}  // namespace mysqlop::api
