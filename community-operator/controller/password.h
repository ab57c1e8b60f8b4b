#pragma once
// Passwords for the auth Secrets the operator makes: 16 characters from [A-Za-z0-9], drawn from
// OpenSSL's CSPRNG (RAND_bytes) with rejection sampling, so every character is equally likely.
// Any thread.

#include <string>

#include "common/core/result.h"

namespace mysqlop::community {

// Internal when the CSPRNG cannot be seeded (no password is better than a weak one).
core::Result<std::string> randomPassword(size_t length = 16);
// A random (version 4) UUID in MySQL's form, lower-case: a Group Replication group's name.
core::Result<std::string> randomUuid();

}  // namespace mysqlop::community
