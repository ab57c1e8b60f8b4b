#include "common/core/backoff.h"

#include <catch2/catch.hpp>

namespace mysqlop::core {
namespace {

using namespace std::chrono;

TEST_CASE("backoff doubles from initial up to the cap", "[core][backoff]") {
  BackoffPolicy p{milliseconds{5}, seconds{1000}, 2.0, 0.0, {}};
  CHECK(backoffDelay(p, 0, 0.0) == milliseconds{5});
  CHECK(backoffDelay(p, 1, 0.0) == milliseconds{10});
  CHECK(backoffDelay(p, 10, 0.0) == milliseconds{5120});
  CHECK(backoffDelay(p, 17, 0.0) == seconds{655} + milliseconds{360});
  CHECK(backoffDelay(p, 18, 0.0) == seconds{1000});
  CHECK(backoffDelay(p, 5000, 0.0) == seconds{1000});  // no overflow
}

TEST_CASE("jitter adds at most jitter x delay and never passes the cap", "[core][backoff]") {
  BackoffPolicy p{milliseconds{800}, seconds{30}, 2.0, 1.0, {}};
  CHECK(backoffDelay(p, 0, 0.0) == milliseconds{800});
  CHECK(backoffDelay(p, 0, 0.5) == milliseconds{1200});
  CHECK(backoffDelay(p, 0, 0.999) < milliseconds{1600});
  CHECK(backoffDelay(p, 5, 0.9) == seconds{30});
}

TEST_CASE("Backoff forgets failures after a quiet period", "[core][backoff]") {
  FakeClock clock;
  Backoff b({milliseconds{800}, seconds{30}, 2.0, 0.0, minutes{2}}, clock, [] { return 0.0; });
  CHECK(b.next() == milliseconds{800});
  clock.advance(seconds{1});
  CHECK(b.next() == milliseconds{1600});
  clock.advance(seconds{2});
  CHECK(b.next() == milliseconds{3200});
  clock.advance(minutes{3});
  CHECK(b.next() == milliseconds{800});
  b.next();
  b.reset();
  CHECK(b.next() == milliseconds{800});
}

TEST_CASE("default jitter source varies the delay within bounds", "[core][backoff]") {
  FakeClock clock;
  Backoff b({milliseconds{100}, seconds{1}, 1.0, 0.5, {}}, clock);
  for (int i = 0; i < 50; ++i) {
    auto d = b.next();
    CHECK(d >= milliseconds{100});
    CHECK(d <= milliseconds{150});
  }
}

}  // namespace
}  // namespace mysqlop::core
