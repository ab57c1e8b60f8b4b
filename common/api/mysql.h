#pragma once
// The MySQL custom resource (kubedb.com/v1, and v1alpha2 with the same schema) as C++ values:
// parsing that names the field at fault, defaulting (docs/design.md §4: TLS aliases and secret names
// only when tls.issuerRef is set, never overwriting the user), and validation — KubeDB's checks
// plus the ones it lacks (requireSSL without tls, unknown or duplicate aliases, bad IPs, bad
// durations, a bad issuer kind, unsupported fields such as a restore).
//
//   auto my = parseMySQL(obj);                 // errors: every malformed field
//   if (!my) report(my.error());
//   setDefaults(*my);
//   auto problems = validate(*my);             // semantic errors, each with its field
//
// Pure; any thread.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kube/field_reader.h"
#include "common/core/result.h"
#include "common/core/text.h"

namespace mysqlop::api {

using Json = nlohmann::json;
// Parse errors name the field at fault (common/kube/field_reader.h).
using kube::FieldError;
using kube::FieldErrors;
using kube::FieldReader;

// spec.deletionPolicy (v1) and its synonym spec.terminationPolicy (v1alpha2): what deleting the
// MySQL removes (docs/design.md §4).
enum class DeletionPolicy { kDelete, kWipeOut, kHalt, kDoNotTerminate };
std::string_view toString(DeletionPolicy p);
std::optional<DeletionPolicy> parseDeletionPolicy(std::string_view s);

// The policy a MySQL's spec names, read once for parsing and for deletion (which must work on a
// spec that is otherwise invalid): nullopt when neither field is set; an error naming the field
// for a value outside the four or for the two synonyms disagreeing.
core::Result<std::optional<DeletionPolicy>, FieldErrors> readDeletionPolicy(const Json& spec);

struct Subject {
  std::vector<std::string> organizations, countries, organizationalUnits, localities, provinces,
      streetAddresses, postalCodes;
  std::string serialNumber;
  bool operator==(const Subject&) const = default;
};

struct CertificateSpec {
  std::string alias;
  std::string secretName;
  std::optional<Subject> subject;
  std::string duration;
  std::string renewBefore;
  std::vector<std::string> dnsNames, ipAddresses, uris, emailAddresses;
  std::string privateKeyEncoding;  // "", "PKCS1", "PKCS8"
  bool operator==(const CertificateSpec&) const = default;
};

struct IssuerRef {
  std::string apiGroup;
  std::string kind;
  std::string name;
  bool operator==(const IssuerRef&) const = default;
};

// spec.healthChecker, as KubeDB's (its defaults when a field is not given: kHealthChecker*).
struct HealthCheckerSpec {
  int64_t periodSeconds = 0;     // 0: not given
  int64_t timeoutSeconds = 0;
  int64_t failureThreshold = 0;
  bool disableWriteCheck = false;
  bool operator==(const HealthCheckerSpec&) const = default;
};
inline constexpr int64_t kHealthCheckerPeriodSeconds = 10;
inline constexpr int64_t kHealthCheckerTimeoutSeconds = 10;
inline constexpr int64_t kHealthCheckerFailureThreshold = 1;

// spec.init.script: the files of a ConfigMap or a Secret (exactly one), run once on an empty data
// directory as the official image runs /docker-entrypoint-initdb.d (*.sql, *.sql.gz, *.sh).
struct InitScript {
  std::string configMap;  // its name, or ""
  std::string secret;     // its name, or ""
  bool operator==(const InitScript&) const = default;
};

// spec.topology (KubeDB's): Group Replication, single-primary — the one topology mysqlop runs.
struct Topology {
  std::string mode;       // "GroupReplication"
  std::string groupName;  // spec.topology.group.name: a UUID; "" until the operator records one
  std::string groupMode;  // spec.topology.group.mode: "Single-Primary" (KubeDB's default)
  bool operator==(const Topology&) const = default;
};
inline constexpr std::string_view kModeGroupReplication = "GroupReplication";
inline constexpr std::string_view kGroupModeSinglePrimary = "Single-Primary";
inline constexpr int64_t kGroupDefaultMembers = 3;  // KubeDB's MySQLDefaultGroupSize
inline constexpr int64_t kGroupMaxMembers = 9;      // KubeDB's MySQLMaxGroupMembers, MySQL's limit
// A UUID as MySQL accepts a group name (common/core/text.h).
using core::isUuid;

struct TLSConfig {
  std::optional<IssuerRef> issuerRef;
  std::vector<CertificateSpec> certificates;
  const CertificateSpec* certificate(const std::string& alias) const;
  bool operator==(const TLSConfig&) const = default;
};

struct MySQL {
  // metadata
  std::string apiVersion;  // kubedb.com/v1 or kubedb.com/v1alpha2
  std::string name;
  std::string namespace_;
  std::string uid;
  int64_t generation = 0;
  // spec
  std::string version;
  int64_t replicas = 0;       // 0 = not set
  std::string storageType;    // "" = not set; Durable | Ephemeral
  Json storage;               // PersistentVolumeClaimSpec
  std::string authSecretName;
  bool authSecretExternallyManaged = false;  // spec.authSecret.externallyManaged: the user makes it
  bool requireSSL = false;
  std::optional<TLSConfig> tls;
  std::optional<Topology> topology;
  Json podTemplate;
  Json serviceTemplates;
  std::optional<Json> monitor;
  std::string configSecretName;
  std::optional<HealthCheckerSpec> healthChecker;
  std::optional<InitScript> initScript;
  bool initialized = false;  // spec.init.initialized (KubeDB's record; kept as written)
  bool halted = false;
  std::optional<DeletionPolicy> deletionPolicy;  // nullopt = not set (defaulting: Delete)

  // The secret name of an alias: the user's, else the default <db>-<alias>-cert.
  std::string certSecretName(const std::string& alias) const;
  // The auth Secret in effect: spec.authSecret.name, else the one the operator makes, <db>-auth.
  std::string effectiveAuthSecretName() const;
  // The primary Service's port: serviceTemplates[alias=primary].spec.ports[name=primary].port, else 3306.
  int primaryPort() const;
  // spec.topology.mode GroupReplication: the pods are the members of one group.
  bool isGroup() const { return topology && topology->mode == kModeGroupReplication; }
};

// Structural parse of a MySQL object. Every malformed field is reported (not just the first).
core::Result<MySQL, FieldErrors> parseMySQL(const Json& obj);
// Back to the spec JSON the API server stores (metadata and status are not included).
Json specToJson(const MySQL& my);

// docs/design.md §4 defaulting; returns whether anything changed. A group's name is not
// defaulted here (it is random): the community operator records one once (as KubeDB's mutator).
bool setDefaults(MySQL& my);
// Semantic validation; empty when valid.
FieldErrors validate(const MySQL& my);
// The longest MySQL name validate() accepts (a StatefulSet's, as kubectl and KubeDB limit it).
inline constexpr size_t kMaxNameLength = 52;

}  // namespace mysqlop::api
