#include "common/core/result.h"

#include <catch2/catch.hpp>
#include <memory>
#include <set>

namespace mysqlop::core {
namespace {

Result<int> half(int v) {
  if (v % 2) return invalid("odd value " + std::to_string(v));
  return v / 2;
}

TEST_CASE("Result carries a value or an error with its code", "[core][result]") {
  auto ok = half(8);
  REQUIRE(ok.ok());
  CHECK(*ok == 4);

  auto bad = half(3);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalid);
  CHECK(bad.error().toString() == "Invalid: odd value 3");
  CHECK(bad.valueOr(-1) == -1);
}

TEST_CASE("Result holds move-only values and void", "[core][result]") {
  Result<std::unique_ptr<int>> p = std::make_unique<int>(7);
  REQUIRE(p);
  std::unique_ptr<int> taken = std::move(p).value();
  CHECK(*taken == 7);

  Status s;
  CHECK(s.ok());
  Status e = Error(ErrorCode::kConflict, "stale");
  REQUIRE_FALSE(e);
  CHECK(e.error().is(ErrorCode::kConflict));
}

TEST_CASE("every error code has its own name", "[core][result]") {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    names.insert(errorCodeName(static_cast<ErrorCode>(c)));
  }
  CHECK(names.size() == 11);
  CHECK(names.count("TooManyRequests") == 1);
}

}  // namespace
}  // namespace mysqlop::core
