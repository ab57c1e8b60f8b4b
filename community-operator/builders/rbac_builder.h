#pragma once
// The database pods' identity (docs/design.md §4): ServiceAccount, Role and RoleBinding, all named
// `<db>`. Least privilege: get this MySQL, get its auth Secret. Pure.

#include "common/api/meta.h"

namespace mysqlop::community {

using Json = nlohmann::json;

Json buildServiceAccount(const api::MySQL& my);
Json buildRole(const api::MySQL& my);
Json buildRoleBinding(const api::MySQL& my);

}  // namespace mysqlop::community
