#pragma once
// The reasons of the Events mysqlop emits that are not a condition's reason (a condition's reason
// is also its Event's where docs/reference/status.md says so: conditions.h, ops_request.h).
// docs/reference/status.md is generated from this file (scripts/reference), and its test fails
// when an Event is emitted with a reason written in place instead of named here.
// Constants only; any thread.

#include <string_view>

namespace mysqlop::api {

// --- both operators: on the MySQL
// ----------------------------------------------------------------- Objects made for the MySQL
// ("Successfully created Service demo/my, Service demo/my-pods").
inline constexpr std::string_view kEventCreated = "Created";
// An object of the MySQL brought back to what it should be ("Successfully patched StatefulSet
// demo/my").
inline constexpr std::string_view kEventUpdated = "Updated";
// Warning: a reconcile failed (not a conflict, which is retried at once); the message is the error.
inline constexpr std::string_view kEventReconcileFailed = "ReconcileFailed";

// --- community operator: on the MySQL
// ------------------------------------------------------------- The MySQL's catalog version is
// marked deprecated (Warning).
inline constexpr std::string_view kEventDeprecatedVersion = "DeprecatedVersion";
// spec.halted: the StatefulSet removed, everything else kept.
inline constexpr std::string_view kEventHalted = "Halted";
// An object the deletion policy removes, removed.
inline constexpr std::string_view kEventDeleted = "Deleted";
// The MySQL's deletion done as its policy says (what was removed, what was kept).
inline constexpr std::string_view kEventTerminated = "Terminated";
// A pod restarted: by the community operator as the last resort for a server that cannot reload
// TLS (Warning), or by a MySQLOpsRequest (on the request, Normal: "Restarting Pod: demo/my-0").
inline constexpr std::string_view kEventRestartingPod = "RestartingPod";
// A pod reloaded its TLS material and serves its Secret's certificate.
inline constexpr std::string_view kEventTLSReloaded = "TLSReloaded";
// A served certificate expires within --certificate-expiry-warning (Warning).
inline constexpr std::string_view kEventCertificateExpiring = "CertificateExpiring";
// The trust bundle gained a CA, or let one go (Normal); a pod serves a certificate of a CA it did
// not serve before (Normal: clients that pin one CA must trust the bundle).
inline constexpr std::string_view kEventTrustBundleChanged = "TrustBundleChanged";
inline constexpr std::string_view kEventServingNewCa = "ServingNewCA";
// A served certificate has expired (Warning).
inline constexpr std::string_view kEventCertificateExpired = "CertificateExpired";
// spec.monitor asks for a ServiceMonitor the cluster cannot hold (no Prometheus Operator CRDs; Warning).
inline constexpr std::string_view kEventServiceMonitorUnavailable = "ServiceMonitorUnavailable";

// --- enterprise operator: on a MySQLOpsRequest
// ------------------------------------------------------ The request started ("Start processing
// ReconfigureTLS of MySQL demo/my").
inline constexpr std::string_view kEventStarting = "Starting";
// The database paused for the request.
inline constexpr std::string_view kEventPausing = "Pausing";
// cert-manager asked to re-issue the database's Certificates (a rotation).
inline constexpr std::string_view kEventIssuingCertificates = "IssuingCertificates";
// The Certificates issued for the new spec.
inline constexpr std::string_view kEventCertificateSynced = "CertificateSynced";
// TLS Secrets no longer used removed.
inline constexpr std::string_view kEventRemovedSecrets = "RemovedSecrets";
// The request succeeded.
inline constexpr std::string_view kEventSuccessful = "Successful";
// The database's pause lifted (after success or failure).
inline constexpr std::string_view kEventResuming = "Resuming";

}  // namespace mysqlop::api
