#include "common/client/status_error.h"

#include <fmt/format.h>

#include <charconv>
#include <map>

namespace mysqlop::client {
namespace {

using core::ErrorCode;

std::optional<ErrorCode> codeForReason(std::string_view reason) {
  static const std::map<std::string_view, ErrorCode> kByReason = {
      {"NotFound", ErrorCode::kNotFound},
      {"AlreadyExists", ErrorCode::kAlreadyExists},
      {"Conflict", ErrorCode::kConflict},
      {"Gone", ErrorCode::kGone},
      {"Expired", ErrorCode::kGone},
      {"Unauthorized", ErrorCode::kUnauthorized},
      {"Forbidden", ErrorCode::kForbidden},
      {"Invalid", ErrorCode::kInvalid},
      {"BadRequest", ErrorCode::kInvalid},
      {"MethodNotAllowed", ErrorCode::kInvalid},
      {"NotAcceptable", ErrorCode::kInvalid},
      {"UnsupportedMediaType", ErrorCode::kInvalid},
      {"RequestEntityTooLarge", ErrorCode::kInvalid},
      {"TooManyRequests", ErrorCode::kTooManyRequests},
      {"Timeout", ErrorCode::kTimeout},
      {"ServerTimeout", ErrorCode::kTimeout},
      {"ServiceUnavailable", ErrorCode::kUnavailable},
      {"InternalError", ErrorCode::kInternal},
  };
  auto it = kByReason.find(reason);
  if (it == kByReason.end()) return std::nullopt;
  return it->second;
}

std::optional<std::chrono::seconds> parseSeconds(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || n < 0) return std::nullopt;
  return std::chrono::seconds{n};
}

core::Error fromStatusObject(int httpStatus, const nlohmann::json& st) {
  core::Error e;
  e.httpStatus = httpStatus;
  e.reason = st.value("reason", "");
  e.message = st.value("message", "");
  if (auto c = codeForReason(e.reason)) {
    e.code = *c;
  } else {
    e.code = errorCodeForHttpStatus(httpStatus);
  }
  if (auto d = st.find("details"); d != st.end() && d->is_object()) {
    if (auto r = d->find("retryAfterSeconds"); r != d->end() && r->is_number_integer()) {
      e.retryAfter = std::chrono::seconds{r->get<int64_t>()};
    }
  }
  if (e.message.empty()) {
    e.message = fmt::format("the server responded with HTTP {}{}", httpStatus,
                            e.reason.empty() ? "" : " (" + e.reason + ")");
  }
  return e;
}

}  // namespace

ErrorCode errorCodeForHttpStatus(int s) {
  switch (s) {
    case 400: case 405: case 406: case 413: case 415: case 422: return ErrorCode::kInvalid;
    case 401: return ErrorCode::kUnauthorized;
    case 403: return ErrorCode::kForbidden;
    case 404: return ErrorCode::kNotFound;
    case 409: return ErrorCode::kConflict;
    case 410: return ErrorCode::kGone;
    case 429: return ErrorCode::kTooManyRequests;
    case 502: case 503: return ErrorCode::kUnavailable;
    case 504: return ErrorCode::kTimeout;
    default: break;
  }
  if (s >= 500) return ErrorCode::kInternal;
  return ErrorCode::kInvalid;
}

core::Error errorFromResponse(int httpStatus, std::string_view body, std::string_view retryAfter) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  core::Error e;
  if (!j.is_discarded() && j.is_object() && j.value("kind", "") == "Status") {
    e = fromStatusObject(httpStatus, j);
  } else {
    e.code = errorCodeForHttpStatus(httpStatus);
    e.httpStatus = httpStatus;
    std::string text(body.substr(0, 256));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    e.message = text.empty() ? fmt::format("the server responded with HTTP {}", httpStatus)
                             : fmt::format("the server responded with HTTP {}: {}", httpStatus, text);
  }
  if (auto s = parseSeconds(retryAfter)) e.retryAfter = *s;
  return e;
}

core::Error errorFromStatus(const nlohmann::json& status) {
  int code = status.is_object() ? status.value("code", 500) : 500;
  if (!status.is_object()) return core::internal("watch ERROR event without a Status");
  return fromStatusObject(code, status);
}

}  // namespace mysqlop::client
