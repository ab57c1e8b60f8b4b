#pragma once
// Metadata every generated object shares (docs/design.md §4), for both operators: name, namespace, the
// four offshoot labels and, unless told otherwise, a controller ownerReference to the MySQL
// (kubedb.com/v1, blockOwnerDeletion: true). Pure.

#include <string>

#include <nlohmann/json.hpp>

#include "common/api/mysql.h"

namespace mysqlop::api {

Json objectMeta(const MySQL& my, const std::string& name, bool owned = true);
// The ownerReference to the MySQL; `controller` false for objects another controller manages
// (the TLS Secrets cert-manager writes).
Json ownerReference(const MySQL& my, bool controller = true);

}  // namespace mysqlop::api
