#pragma once
// The object contract of docs/design.md §4 — every name, label, port, path and flag the two operators
// agree on — in one place. Both operators call these; neither derives a name itself.
// Pure functions and constants; any thread.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mysqlop::api {

// --- identities ------------------------------------------------------------------------------
inline constexpr std::string_view kGroup = "kubedb.com";
inline constexpr std::string_view kStorageVersion = "v1";
inline constexpr std::string_view kLegacyVersion = "v1alpha2";
inline constexpr std::string_view kKind = "MySQL";
inline constexpr std::string_view kPlural = "mysqls";
inline constexpr std::string_view kCatalogGroup = "catalog.kubedb.com";
inline constexpr std::string_view kCatalogVersion = "v1alpha1";
inline constexpr std::string_view kFinalizer = "kubedb.com";
// The enterprise operator's own finalizer on a MySQL whose Certificates it made: a WipeOut waits
// until it has removed them (the community operator never touches cert-manager's objects).
inline constexpr std::string_view kTlsFinalizer = "mysqlop.io/tls-certificates";

// --- TLS aliases, in the order defaulting appends them ---------------------------------------
inline constexpr std::string_view kAliasServer = "server";
inline constexpr std::string_view kAliasClient = "client";
inline constexpr std::string_view kAliasExporter = "metrics-exporter";
const std::vector<std::string>& tlsAliases();

// --- names -----------------------------------------------------------------------------------
std::string authSecretName(std::string_view db);            // <db>-auth
std::string primaryServiceName(std::string_view db);        // <db>
std::string governingServiceName(std::string_view db);      // <db>-pods
std::string statsServiceName(std::string_view db);          // <db>-stats
std::string standbyServiceName(std::string_view db);        // <db>-standby (a group's secondaries)
std::string statefulSetName(std::string_view db);           // <db>
std::string serviceAccountName(std::string_view db);        // <db> (also the Role and RoleBinding)
std::string certificateName(std::string_view db, std::string_view alias);  // <db>-<alias>-cert
std::string defaultCertSecretName(std::string_view db, std::string_view alias);  // same
std::string exporterConfigSecretName(std::string_view db);  // <db>-metrics-exporter-config
// The CAs the database trusts (issue 32): ca.crt, made by the community operator.
std::string trustBundleSecretName(std::string_view db);     // <db>-ca-bundle
// The CA the database's `ca` issuer signs with now: ca.crt, made by the enterprise operator.
std::string issuerCaSecretName(std::string_view db);        // <db>-issuer-ca
std::string podName(std::string_view db, int ordinal);      // <db>-<i>
// <db>.<ns>.svc, and the headless name of pod i: <db>-<i>.<db>-pods.<ns>.svc
std::string serviceHost(std::string_view db, std::string_view ns);
std::string podHost(std::string_view db, std::string_view ns, int ordinal);

// --- labels ----------------------------------------------------------------------------------
inline constexpr std::string_view kLabelName = "app.kubernetes.io/name";
inline constexpr std::string_view kLabelInstance = "app.kubernetes.io/instance";
inline constexpr std::string_view kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kLabelComponent = "app.kubernetes.io/component";
inline constexpr std::string_view kLabelNameValue = "mysqls.kubedb.com";
inline constexpr std::string_view kLabelManagedByValue = "kubedb.com";
inline constexpr std::string_view kLabelComponentValue = "database";

// The selector labels (name, instance, managed-by) and the full offshoot labels (+ component).
std::map<std::string, std::string> selectorLabels(std::string_view db);
std::map<std::string, std::string> offshootLabels(std::string_view db);

// Our mark on an auth Secret the community operator made (value: the MySQL's name). It has no
// ownerReference (it outlives a Delete/Halt), so only this says WipeOut may delete it: labels alone
// are shared with other KubeDB databases (a MariaDB `my` has its own `my-auth`).
inline constexpr std::string_view kAnnotationAuthSecretFor = "mysqlop.io/auth-secret-for";

// --- pod contract ----------------------------------------------------------------------------
inline constexpr std::string_view kContainerMySQL = "mysql";
inline constexpr std::string_view kContainerExporter = "exporter";
inline constexpr int kMySQLPort = 3306;
inline constexpr std::string_view kPortNameDb = "db";
inline constexpr std::string_view kPortNamePrimary = "primary";
inline constexpr int kExporterPort = 56790;
inline constexpr std::string_view kPortNameMetrics = "metrics";
inline constexpr std::string_view kVolumeData = "data";
inline constexpr std::string_view kVolumeTmp = "tmp";
inline constexpr std::string_view kVolumeTls = "tls-volume";
inline constexpr std::string_view kVolumeExporterTls = "exporter-tls-volume";
inline constexpr std::string_view kCertsDir = "/etc/mysql/certs";
inline constexpr std::string_view kEnvRootUsername = "MYSQL_ROOT_USERNAME";
inline constexpr std::string_view kEnvRootPassword = "MYSQL_ROOT_PASSWORD";
inline constexpr std::string_view kExporterConfigKey = "exporter.cnf";

// mysqld's TLS flags (docs/design.md §4); `requireSecureTransport` adds --require-secure-transport=ON.
std::vector<std::string> mysqldTlsArgs(bool requireSecureTransport);

// --- Group Replication (spec.topology.mode GroupReplication) ---------------------------------
// KubeDB's routing label on a group's pods: the Service <db> selects the primary, <db>-standby
// the secondaries. The community operator sets it from what the members report.
inline constexpr std::string_view kLabelRole = "kubedb.com/role";
inline constexpr std::string_view kRolePrimary = "primary";
inline constexpr std::string_view kRoleStandby = "standby";
inline constexpr std::string_view kPortNameStandby = "standby";
// The members' group communication port (MySQL's usual 33061).
inline constexpr int kGroupPort = 33061;
// The pod's own name, from the downward API: the args name the member by it ($(POD_NAME)).
inline constexpr std::string_view kEnvPodName = "POD_NAME";
// mysqld's flags for a member of group `groupName` with `members` members: GTIDs, the plugin, the
// member's address (<pod>.<db>-pods.<ns>.svc, reported and listened on), the seeds, single-primary,
// TLS between members with the peer's identity verified and distributed recovery over verified TLS
// (its client certificate the server's), never started at boot (the operator decides: docs/design.md §11).
std::vector<std::string> mysqldGroupArgs(std::string_view db, std::string_view ns, std::string_view groupName, int members);
// The exporter's command line.
std::vector<std::string> exporterArgs();

}  // namespace mysqlop::api
