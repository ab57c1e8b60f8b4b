#include "common/core/token_bucket.h"

#include <catch2/catch.hpp>

namespace mysqlop::core {
namespace {

using namespace std::chrono;

TEST_CASE("token bucket: a burst, then the rate, and waits queue up", "[core][ratelimit]") {
  FakeClock clock;
  TokenBucket b(10, 3, clock);  // 10 a second, 3 at once
  for (int i = 0; i < 3; ++i) CHECK(b.reserve() == nanoseconds{0});
  CHECK(b.reserve() == milliseconds{100});  // the 4th waits one token's time
  CHECK(b.reserve() == milliseconds{200});  // the 5th queues behind it
  clock.advance(seconds{1});  // ten tokens later: the debt of two paid, the bucket refills
  CHECK(b.reserve() == nanoseconds{0});
  clock.advance(seconds{60});
  for (int i = 0; i < 3; ++i) CHECK(b.reserve() == nanoseconds{0});  // never more than the burst
  CHECK(b.reserve() > nanoseconds{0});
}

}  // namespace
}  // namespace mysqlop::core
