#pragma once
// The auth Secret `<db>-auth` (docs/design.md §4): kubernetes.io/basic-auth, username root and the
// given password, offshoot labels, no ownerReference (the deletion policy decides its fate).
// Pure: the caller draws the password from OpenSSL's CSPRNG.

#include <string>

#include "common/api/meta.h"

namespace mysqlop::community {

using Json = nlohmann::json;

Json buildAuthSecret(const api::MySQL& my, const std::string& password);

}  // namespace mysqlop::community
