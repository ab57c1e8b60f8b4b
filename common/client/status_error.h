#pragma once
// Maps an API server's answer to an Error, once, for every caller: the HTTP status, the
// `Status` body (reason, message, details.retryAfterSeconds) and the Retry-After header.
// The reason decides when it is known (409 AlreadyExists vs 409 Conflict); otherwise the HTTP
// status does. Pure functions; any thread.

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::client {

// `body` may be a Status, other JSON, text or empty.
core::Error errorFromResponse(int httpStatus, std::string_view body,
                              std::string_view retryAfterHeader = {});

// A Status object as delivered in a watch ERROR event (its own `code` is the HTTP status).
core::Error errorFromStatus(const nlohmann::json& status);

// The code for an HTTP status when nothing better is known.
core::ErrorCode errorCodeForHttpStatus(int httpStatus);

}  // namespace mysqlop::client
