#pragma once
// MySQLOpsRequest (ops.kubedb.com/v1alpha1, short name myops): a day-2 operation on one MySQL,
// run by the enterprise operator (issue 19, KubeDB reference §3.2). Two types: ReconfigureTLS
// (add TLS, rotate, change the issuer or certificate entries, toggle requireSSL, remove TLS) and
// Restart (one pod at a time). Parsing with every malformed field named, the semantic checks
// KubeDB makes (and the ones it lacks), the vocabulary of phases, conditions and reasons, the
// pause marker both operators respect, and the MySQL spec a ReconfigureTLS asks for.
//
//   auto req = parseOpsRequest(obj);              // errors: every field at fault
//   auto spec = reconfiguredSpec(mysql, *req->tls); // the MySQL spec to write, or why not
//
// Pure; any thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/mysql.h"
#include "common/core/result.h"
#include "common/kube/resource.h"

namespace mysqlop::api {

inline constexpr std::string_view kOpsGroup = "ops.kubedb.com";
inline constexpr std::string_view kOpsVersion = "v1alpha1";
inline constexpr std::string_view kOpsKind = "MySQLOpsRequest";
const kube::ResourceType& opsRequestResource();

// --- the pause marker (docs/design.md §10) -----------------------------------------------------------
// While a request runs, its MySQL carries this annotation (value: the request's name) and the
// condition Paused=True (written by the enterprise operator). The community operator then
// restarts no pod of that database (the request does, one at a time) and keeps staging its
// StatefulSet template (OnDelete: writing it restarts nothing); the request removes both at the
// end, also when it fails or times out.
inline constexpr std::string_view kAnnotationPausedBy = "ops.kubedb.com/paused-by";
inline constexpr std::string_view kCondPaused = "Paused";
inline constexpr std::string_view kReasonPausedByOpsRequest = "PausedByOpsRequest";
// The name of the request a MySQL is paused by; "" when it is not paused.
std::string pausedBy(const Json& mysql);

// --- phases (KubeDB's) -----------------------------------------------------------------------
inline constexpr std::string_view kOpsPending = "Pending";
inline constexpr std::string_view kOpsProgressing = "Progressing";
inline constexpr std::string_view kOpsSuccessful = "Successful";
inline constexpr std::string_view kOpsFailed = "Failed";
inline constexpr std::string_view kOpsSkipped = "Skipped";
bool isFinished(std::string_view phase);  // Successful, Failed or Skipped: never run again

// --- conditions on the request, each step one (KubeDB's types and reasons where it has them) --
inline constexpr std::string_view kOpsCondProgressing = "Progressing";
inline constexpr std::string_view kOpsReasonProgressingStarted = "OpsRequestProgressingStarted";
inline constexpr std::string_view kOpsCondPaused = "DatabasePaused";
inline constexpr std::string_view kOpsReasonPaused = "SuccessfullyPausedDatabase";
inline constexpr std::string_view kOpsCondSpecUpdated = "TLSConfigUpdated";
inline constexpr std::string_view kOpsReasonAddedTLS = "SuccessfullyAddedTLSConfig";
inline constexpr std::string_view kOpsReasonRemovedTLS = "SuccessfullyRemovedTLSConfig";
inline constexpr std::string_view kOpsReasonUpdatedTLS = "SuccessfullyUpdatedTLSConfig";
inline constexpr std::string_view kOpsCondIssuing = "IssueCertificates";  // the rotation trigger
inline constexpr std::string_view kOpsReasonIssuingTriggered = "SuccessfullyTriggeredIssuance";
inline constexpr std::string_view kOpsCondCertificateSynced = "CertificateSynced";
inline constexpr std::string_view kOpsReasonCertificateSynced = "ReconfigureTLS";
inline constexpr std::string_view kOpsCondRestart = "RestartStatefulSet";
inline constexpr std::string_view kOpsReasonRestartingPods = "RestartingPods";  // False, while pods restart
inline constexpr std::string_view kOpsReasonRestarted = "SuccessfullyRestartedStatefulSet";
inline constexpr std::string_view kOpsCondReload = "ReloadTLS";
inline constexpr std::string_view kOpsReasonReloaded = "SuccessfullyReloadedTLS";
inline constexpr std::string_view kOpsCondDBReady = "DBReady";
inline constexpr std::string_view kOpsReasonReconfiguredTLS = "SuccessfullyReconfiguredTLS";
inline constexpr std::string_view kOpsReasonRestartedDatabase = "SuccessfullyRestartedDatabase";
inline constexpr std::string_view kOpsCondCleanedUp = "TLSObjectsRemoved";
inline constexpr std::string_view kOpsReasonCleanedUp = "SuccessfullyRemovedTLSObjects";
inline constexpr std::string_view kOpsCondResumed = "DatabaseResumed";
inline constexpr std::string_view kOpsReasonResumed = "SuccessfullyResumedDatabase";
inline constexpr std::string_view kOpsCondSuccessful = "Successful";
inline constexpr std::string_view kOpsReasonSuccessful = "OpsRequestProcessedSuccessfully";
inline constexpr std::string_view kOpsCondFailed = "Failed";
inline constexpr std::string_view kOpsReasonInvalid = "InvalidOpsRequest";
inline constexpr std::string_view kOpsReasonDatabaseNotFound = "DatabaseNotFound";
inline constexpr std::string_view kOpsReasonTimeout = "Timeout";
inline constexpr std::string_view kOpsReasonStepFailed = "StepFailed";
inline constexpr std::string_view kOpsCondSkipped = "Skipped";
inline constexpr std::string_view kOpsReasonNothingToDo = "NothingToChange";
// What it waits for: Pending, and why; or, while Progressing, the step at work (InProgress).
inline constexpr std::string_view kOpsCondWaiting = "Waiting";
inline constexpr std::string_view kOpsReasonInProgress = "InProgress";
inline constexpr std::string_view kOpsReasonWaitingForRequest = "WaitingForOtherOpsRequest";
inline constexpr std::string_view kOpsReasonWaitingForReady = "WaitingForDatabaseReady";
inline constexpr std::string_view kOpsReasonLicenseInvalid = "LicenseInvalid";

enum class OpsType { kReconfigureTLS, kRestart };
std::string_view toString(OpsType t);
enum class ApplyPolicy { kIfReady, kAlways };

struct OpsTLS {
  std::optional<IssuerRef> issuerRef;
  std::vector<CertificateSpec> certificates;
  Json certificatesJson = Json::array();  // the entries as written, for the MySQL spec
  bool rotateCertificates = false;
  bool remove = false;
  std::optional<bool> requireSSL;
};

struct OpsRequest {
  std::string name, namespace_, uid, creationTimestamp;
  int64_t generation = 0;
  OpsType type = OpsType::kReconfigureTLS;
  std::string database;  // spec.databaseRef.name
  std::optional<OpsTLS> tls;
  std::optional<std::chrono::milliseconds> timeout;  // nullopt: none
  ApplyPolicy apply = ApplyPolicy::kIfReady;
};

// Structural and semantic checks in one pass, every field at fault named: type and
// databaseRef.name required; tls required for ReconfigureTLS (and asks for something) and
// refused for Restart; remove and rotateCertificates not both; remove with nothing else; the
// issuer and certificate entries checked as the MySQL's are; timeout a positive Go duration.
core::Result<OpsRequest, FieldErrors> parseOpsRequest(const Json& obj);

// The MySQL spec a ReconfigureTLS asks for, from the MySQL as it is: remove drops spec.tls and
// spec.requireSSL; an issuerRef replaces the MySQL's; each certificate entry replaces the
// MySQL's entry of its alias (keeping its secretName unless the request names one); requireSSL
// is set when given (false written as false). Adding TLS to a database without it needs an issuerRef
// (spec.tls.issuerRef). The result is validated as a MySQL; its errors name the MySQL's fields.
core::Result<Json, FieldErrors> reconfiguredSpec(const Json& mysql, const OpsTLS& tls);

}  // namespace mysqlop::api
