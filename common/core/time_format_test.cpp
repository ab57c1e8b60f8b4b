#include "common/core/time_format.h"

#include <catch2/catch.hpp>

namespace mysqlop::core {
namespace {

using namespace std::chrono;

TEST_CASE("Time and MicroTime format as the API server writes them", "[core][time]") {
  WallTime t = sys_days{year{2026} / 11 / 28} + hours{12} + minutes{3} + seconds{4} +
               microseconds{123456} + nanoseconds{789};
  CHECK(formatTime(t) == "2026-11-28T12:03:04Z");
  CHECK(formatMicroTime(t) == "2026-11-28T12:03:04.123456Z");
  CHECK(formatMicroTime(sys_days{year{2026} / 1 / 2}) == "2026-01-02T00:00:00.000000Z");
}

TEST_CASE("parseTime round-trips and accepts offsets and any fraction", "[core][time]") {
  WallTime t = sys_days{year{2026} / 11 / 28} + hours{12} + microseconds{5};
  auto back = parseTime(formatMicroTime(t));
  REQUIRE(back);
  CHECK(*back == t);

  auto off = parseTime("2026-11-28T14:00:00+02:00");
  REQUIRE(off);
  CHECK(formatTime(*off) == "2026-11-28T12:00:00Z");
  auto frac = parseTime("2026-11-28T12:00:00.5Z");
  REQUIRE(frac);
  CHECK(formatMicroTime(*frac) == "2026-11-28T12:00:00.500000Z");
}

TEST_CASE("parseTime rejects malformed timestamps", "[core][time]") {
  for (const char* s : {"", "2026-11-28", "2026-11-28T12:00:00", "2026-13-01T00:00:00Z",
                        "2026-02-30T00:00:00Z", "2026-11-28T12:00:00.Z", "2026-11-28T12:00:00Zjunk",
                        "2026-11-28T25:00:00Z", "2026-11-28T12:00:00+0200"}) {
    INFO(s);
    auto r = parseTime(s);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalid);
  }
}

}  // namespace
}  // namespace mysqlop::core
