#pragma once
// The MySQL custom resource (kubedb.com/v1, and v1alpha2 with the same schema) as C++ values:
// parsing that names the field at fault, defaulting (DESIGN §4: TLS aliases and secret names
// only when tls.issuerRef is set, never overwriting the user), and validation — KubeDB's checks
// plus the ones it lacks (requireSSL without tls, unknown or duplicate aliases, bad IPs, bad
// durations, a bad issuer kind, unsupported fields such as topology).
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

#include "common/api/field_reader.h"
#include "common/core/result.h"

namespace mysqlop::api {

using Json = nlohmann::json;


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
  bool requireSSL = false;
  std::optional<TLSConfig> tls;
  Json podTemplate;
  Json serviceTemplates;
  std::optional<Json> monitor;
  std::string configSecretName;
  bool halted = false;
  std::string deletionPolicy;  // "" = not set; Delete | WipeOut | Halt | DoNotTerminate

  // The secret name of an alias: the user's, else the default <db>-<alias>-cert.
  std::string certSecretName(const std::string& alias) const;
};

// Structural parse of a MySQL object. Every malformed field is reported (not just the first).
core::Result<MySQL, FieldErrors> parseMySQL(const Json& obj);
// Back to the spec JSON the API server stores (metadata and status are not included).
Json specToJson(const MySQL& my);

// DESIGN §4 defaulting; returns whether anything changed.
bool setDefaults(MySQL& my);
// Semantic validation; empty when valid.
FieldErrors validate(const MySQL& my);

// Go duration syntax as cert-manager takes it ("2160h", "1h30m", "90s", "1.5h"); nanoseconds.
core::Result<int64_t> parseGoDuration(const std::string& s);

}  // namespace mysqlop::api
