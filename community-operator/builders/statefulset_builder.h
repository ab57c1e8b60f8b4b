#pragma once
// The StatefulSet `<db>` with the pod contract of docs/design.md §4: container `mysql` (catalog image,
// port db 3306, root credentials from the auth Secret, data/tmp volumes, TLS flags and the
// projected `tls-volume` at /etc/mysql/certs when spec.tls is set, --require-secure-transport=ON
// exactly when requireSSL), the `exporter` sidecar with `monitor` (TLS through exporter.cnf in
// the projected `exporter-tls-volume`), a readiness probe that asks mysqld, a PVC template
// `data` (Durable) or an emptyDir (Ephemeral), and the user's podTemplate (labels, annotations,
// args, env, resources, nodeSelector, tolerations, affinity, securityContext). Pure.

#include <string>

#include "common/api/meta.h"

namespace mysqlop::community {

using Json = nlohmann::json;

struct Images {
  std::string db;        // MySQLVersion spec.db.image
  std::string exporter;  // MySQLVersion spec.exporter.image
};

Json buildStatefulSet(const api::MySQL& my, const Images& images);

}  // namespace mysqlop::community
