#pragma once
// The database pods' identity (DESIGN §4): ServiceAccount, Role and RoleBinding, all named
// `<db>`. Least privilege: get this MySQL, get its auth Secret. Pure.

#include "community-operator/builders/common_meta.h"

namespace mysqlop::community {

Json buildServiceAccount(const api::MySQL& my);
Json buildRole(const api::MySQL& my);
Json buildRoleBinding(const api::MySQL& my);

}  // namespace mysqlop::community
