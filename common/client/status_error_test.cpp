#include "common/client/status_error.h"

#include <catch2/catch.hpp>

namespace mysqlop::client {
namespace {

using core::ErrorCode;

std::string status(int code, const char* reason, const char* message) {
  return nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                        {"status", "Failure"}, {"message", message}, {"reason", reason}, {"code", code}}
      .dump();
}

TEST_CASE("Status bodies map to the fixed error codes", "[client][status]") {
  struct Row { int http; const char* reason; ErrorCode code; };
  const Row rows[] = {
      {404, "NotFound", ErrorCode::kNotFound},
      {409, "AlreadyExists", ErrorCode::kAlreadyExists},
      {409, "Conflict", ErrorCode::kConflict},
      {410, "Expired", ErrorCode::kGone},
      {410, "Gone", ErrorCode::kGone},
      {401, "Unauthorized", ErrorCode::kUnauthorized},
      {403, "Forbidden", ErrorCode::kForbidden},
      {422, "Invalid", ErrorCode::kInvalid},
      {400, "BadRequest", ErrorCode::kInvalid},
      {415, "UnsupportedMediaType", ErrorCode::kInvalid},
      {429, "TooManyRequests", ErrorCode::kTooManyRequests},
      {504, "Timeout", ErrorCode::kTimeout},
      {503, "ServiceUnavailable", ErrorCode::kUnavailable},
      {500, "InternalError", ErrorCode::kInternal},
  };
  for (const auto& r : rows) {
    INFO(r.http << " " << r.reason);
    auto e = errorFromResponse(r.http, status(r.http, r.reason, "the message"));
    CHECK(e.code == r.code);
    CHECK(e.reason == r.reason);
    CHECK(e.message == "the message");
    CHECK(e.httpStatus == r.http);
  }
}

TEST_CASE("without a Status body the HTTP code decides", "[client][status]") {
  CHECK(errorFromResponse(404, "").code == ErrorCode::kNotFound);
  CHECK(errorFromResponse(409, "conflict").code == ErrorCode::kConflict);
  CHECK(errorFromResponse(410, "").code == ErrorCode::kGone);
  CHECK(errorFromResponse(422, "{}").code == ErrorCode::kInvalid);
  CHECK(errorFromResponse(502, "bad gateway").code == ErrorCode::kUnavailable);
  CHECK(errorFromResponse(599, "").code == ErrorCode::kInternal);
  auto e = errorFromResponse(500, "boom\n");
  CHECK(e.message == "the server responded with HTTP 500: boom");
  // An unknown reason falls back to the HTTP code.
  CHECK(errorFromResponse(409, status(409, "SomethingNew", "x")).code == ErrorCode::kConflict);
}

TEST_CASE("Retry-After comes from the header or the Status details", "[client][status]") {
  auto e = errorFromResponse(429, status(429, "TooManyRequests", "slow down"), "7");
  REQUIRE(e.retryAfter);
  CHECK(*e.retryAfter == std::chrono::seconds{7});
  auto body = nlohmann::json::parse(status(503, "ServiceUnavailable", "later"));
  body["details"]["retryAfterSeconds"] = 3;
  auto d = errorFromResponse(503, body.dump());
  REQUIRE(d.retryAfter);
  CHECK(*d.retryAfter == std::chrono::seconds{3});
  CHECK_FALSE(errorFromResponse(429, "", "soon").retryAfter);
}

TEST_CASE("a watch ERROR event's Status becomes its error", "[client][status]") {
  auto e = errorFromStatus(nlohmann::json::parse(status(410, "Expired", "too old resource version: 1 (9)")));
  CHECK(e.code == ErrorCode::kGone);
  CHECK(e.httpStatus == 410);
  CHECK(e.message == "too old resource version: 1 (9)");
}

}  // namespace
}  // namespace mysqlop::client
