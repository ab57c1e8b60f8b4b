#pragma once
// Metadata every generated object shares: name, namespace, the four offshoot labels and, unless
// told otherwise, a controller ownerReference to the MySQL (DESIGN §4). Pure.

#include <string>

#include <nlohmann/json.hpp>

#include "common/api/mysql.h"

namespace mysqlop::community {

using Json = nlohmann::json;

// {name, namespace, labels} plus, when `owned`, the controller ownerReference
// (kubedb.com/v1 MySQL, blockOwnerDeletion: true).
Json objectMeta(const api::MySQL& my, const std::string& name, bool owned = true);

}  // namespace mysqlop::community
