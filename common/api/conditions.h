#pragma once
// The MySQL status vocabulary of both editions (docs/design.md §4, KubeDB's words where KubeDB has them):
// condition types, their reasons and the phases. The community operator owns every condition
// but TLSCertificatesReady, which the enterprise operator owns; each writes only its own.
// Constants only; any thread.

#include <string_view>

namespace mysqlop::api {

// --- community: condition types --------------------------------------------------------------
inline constexpr std::string_view kCondProvisioningStarted = "ProvisioningStarted";
inline constexpr std::string_view kCondReplicaReady = "ReplicaReady";
inline constexpr std::string_view kCondAcceptingConnection = "AcceptingConnection";
inline constexpr std::string_view kCondReady = "Ready";
inline constexpr std::string_view kCondProvisioned = "Provisioned";
inline constexpr std::string_view kCondHalted = "Halted";
inline constexpr std::string_view kCondDeletionBlocked = "DeletionBlocked";

// --- community: phases -----------------------------------------------------------------------
inline constexpr std::string_view kPhaseProvisioning = "Provisioning";
inline constexpr std::string_view kPhaseReady = "Ready";
inline constexpr std::string_view kPhaseCritical = "Critical";
inline constexpr std::string_view kPhaseNotReady = "NotReady";
inline constexpr std::string_view kPhaseHalted = "Halted";

// --- community: reasons ----------------------------------------------------------------------
// Ready=False: what stops provisioning before the health check can tell (Warning Events but
// WaitingForTLSSecrets, which is a normal wait).
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kReasonWaitingForTLSSecrets = "WaitingForTLSSecrets";
inline constexpr std::string_view kReasonAuthSecretConflict = "AuthSecretConflict";
inline constexpr std::string_view kReasonAuthSecretMissing = "AuthSecretNotFound";
// The trust bundle <db>-ca-bundle: a Secret of that name is not ours; or a CA is not at hand yet.
inline constexpr std::string_view kReasonTrustBundleConflict = "TrustBundleConflict";
inline constexpr std::string_view kReasonTrustBundlePending = "TrustBundlePending";
inline constexpr std::string_view kReasonVersionNotFound = "VersionNotFound";
// Ready from the health checker, and while it has not spoken yet.
inline constexpr std::string_view kReasonReadinessCheckPending = "ReadinessCheckPending";
inline constexpr std::string_view kReasonReadinessCheckSucceeded = "ReadinessCheckSucceeded";
inline constexpr std::string_view kReasonReadinessCheckFailed = "ReadinessCheckFailed";
inline constexpr std::string_view kReasonDatabaseHalted = "DatabaseHalted";
// The other conditions' reasons (KubeDB's).
inline constexpr std::string_view kReasonProvisioningStarted = "DatabaseProvisioningStartedSuccessfully";
inline constexpr std::string_view kReasonHalted = "DatabaseHaltedSuccessfully";
inline constexpr std::string_view kReasonAcceptingConnection = "DatabaseAcceptingConnectionRequest";
inline constexpr std::string_view kReasonNotAcceptingConnection = "DatabaseNotAcceptingConnectionRequest";
inline constexpr std::string_view kReasonAllReplicasReady = "AllReplicasReady";
inline constexpr std::string_view kReasonSomeReplicasNotReady = "SomeReplicasNotReady";
inline constexpr std::string_view kReasonProvisioned = "DatabaseSuccessfullyProvisioned";
// DeletionBlocked: the policy refuses deletion, or cannot be read.
inline constexpr std::string_view kReasonDoNotTerminate = "DoNotTerminate";
inline constexpr std::string_view kReasonInvalidDeletionPolicy = "InvalidDeletionPolicy";
inline constexpr std::string_view kReasonWaitingForCertificateRemoval = "WaitingForCertificateRemoval";

// ServedCertificatesCurrent (issue 15): does every pod's server present the certificate of the
// server Secret? False while a renewal has not reached it yet (Outdated), or when it cannot.
inline constexpr std::string_view kCondServedCertificatesCurrent = "ServedCertificatesCurrent";
inline constexpr std::string_view kReasonServedCurrent = "CertificatesCurrent";
inline constexpr std::string_view kReasonServedOutdated = "Outdated";
inline constexpr std::string_view kReasonReloadFailed = "ReloadFailed";
inline constexpr std::string_view kReasonReloadUnsupported = "ReloadUnsupported";
inline constexpr std::string_view kReasonServedUnreachable = "Unreachable";
// ServedCertificatesExpiring: a pod serves a certificate within the warning window of its expiry
// (True, ExpiresSoon) or past it (True, Expired) — a renewal that is not happening.
inline constexpr std::string_view kCondServedCertificatesExpiring = "ServedCertificatesExpiring";
inline constexpr std::string_view kReasonExpiresSoon = "ExpiresSoon";
inline constexpr std::string_view kReasonExpired = "Expired";
inline constexpr std::string_view kReasonNotExpiring = "NotExpiring";

// PodTemplateOutdated: a pod runs an older template than its StatefulSet's (OnDelete stages a
// change of server arguments, images, volumes until a MySQLOpsRequest restarts the pods). Set
// (True, RestartRequired) only while that is so, removed after.
inline constexpr std::string_view kCondPodTemplateOutdated = "PodTemplateOutdated";
inline constexpr std::string_view kReasonRestartRequired = "RestartRequired";

// CARotationInProgress (issue 32): True while the trust bundle holds more than one CA — a new CA
// not yet used by every certificate, or a former one within its grace — False with one.
inline constexpr std::string_view kCondCARotationInProgress = "CARotationInProgress";
inline constexpr std::string_view kReasonSeveralCAsTrusted = "SeveralCAsTrusted";
inline constexpr std::string_view kReasonOneCATrusted = "OneCATrusted";

// Group Replication (issue 31): True while every member is ONLINE in one group with a majority.
inline constexpr std::string_view kCondGroupReplication = "GroupReplicationOnline";
inline constexpr std::string_view kReasonGroupOnline = "AllMembersOnline";
inline constexpr std::string_view kReasonGroupBootstrapping = "Bootstrapping";        // no group yet: being made
inline constexpr std::string_view kReasonGroupWaitingForMembers = "WaitingForMembers";  // no group; a member does not answer
inline constexpr std::string_view kReasonGroupMemberNotOnline = "MemberNotOnline";    // a group with a majority; a member is not ONLINE
inline constexpr std::string_view kReasonGroupNoMajority = "NoMajority";              // members ONLINE without a majority: blocked
inline constexpr std::string_view kReasonGroupDiverged = "Diverged";                  // no member holds every other's transactions

// --- enterprise ------------------------------------------------------------------------------
inline constexpr std::string_view kCondTLSCertificatesReady = "TLSCertificatesReady";
inline constexpr std::string_view kReasonLicenseInvalid = "LicenseInvalid";
inline constexpr std::string_view kReasonIssuerNotFound = "IssuerNotFound";
inline constexpr std::string_view kReasonIssuerNotReady = "IssuerNotReady";
inline constexpr std::string_view kReasonWaitingForDatabaseObjects = "WaitingForDatabaseObjects";
inline constexpr std::string_view kReasonExporterConfigConflict = "ExporterConfigConflict";
// <db>-issuer-ca exists and is not the MySQL's (issue 32).
inline constexpr std::string_view kReasonIssuerCaConflict = "IssuerCaConflict";
// An issuer change waits until every pod has loaded the new issuer's CA (TLSCertificatesReady=False).
inline constexpr std::string_view kReasonWaitingForTrust = "WaitingForTrust";
inline constexpr std::string_view kReasonAuthSecretUnusable = "AuthSecretUnusable";  // credentials exporter.cnf cannot carry
inline constexpr std::string_view kReasonCertificateConflict = "CertificateConflict";
// tls.certificates[].secretName names a Secret that was not issued for this database's Certificate.
inline constexpr std::string_view kReasonSecretNameConflict = "SecretNameConflict";
inline constexpr std::string_view kReasonIssuing = "Issuing";
// cert-manager failed to issue one of the Certificates, or will not as it stands (BadConfig).
inline constexpr std::string_view kReasonIssuanceFailed = "IssuanceFailed";
inline constexpr std::string_view kReasonCertificatesIssued = "CertificatesIssued";

}  // namespace mysqlop::api
