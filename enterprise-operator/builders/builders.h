#pragma once
// The enterprise operator's desired objects (docs/design.md §5), pure:
//  - one cert-manager.io/v1 Certificate per TLS alias, named <db>-<alias>-cert, with the
//    defaults of §5 (server: CN <db>.<ns>.svc, the Service and pod DNS names, localhost,
//    127.0.0.1, server + client auth; client: CN root; metrics-exporter: CN <db>-metrics-exporter)
//    and the user's tls.certificates entry merged over them (user values win; lists are unioned),
//    secretTemplate.labels = the offshoot labels, a controller ownerReference to the MySQL;
//  - the exporter configuration Secret <db>-metrics-exporter-config (exporter.cnf: [client] with
//    the root credentials, 127.0.0.1:3306 and the exporter certificate paths of §4).

#include <string>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

#include "common/api/mysql.h"

namespace mysqlop::enterprise {

using Json = nlohmann::json;

// `my` must have been defaulted (api::setDefaults) and carry a tls.issuerRef.
Json buildCertificate(const api::MySQL& my, const std::string& alias);

// The exporter.cnf text for these credentials, each value written so that the exporter's ini
// reader gives it back unchanged (any character; an error for the few it cannot carry).
core::Result<std::string> exporterConfig(const std::string& user, const std::string& password);
core::Result<Json> buildExporterConfigSecret(const api::MySQL& my, const std::string& user, const std::string& password);

// `<db>-issuer-ca` (issue 32): the CA the database's `ca` issuer signs with now (`ca.crt`), for the
// community operator to trust before any certificate of it exists; the annotation fingerprints
// the PEM (the cache keeps no data, so it is what says the Secret is current).
inline constexpr std::string_view kIssuerCaDigestAnnotation = "mysqlop.io/ca-sha256";
Json buildIssuerCaSecret(const api::MySQL& my, const std::string& pem);

}  // namespace mysqlop::enterprise
