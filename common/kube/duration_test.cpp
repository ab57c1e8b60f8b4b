#include "common/kube/duration.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {
namespace {

using namespace std::chrono_literals;

TEST_CASE("Go durations as Kubernetes and cert-manager take them", "[kube][duration]") {
  CHECK(*parseGoDuration("2160h") == 2160LL * 3600 * 1000000000);
  CHECK(*parseGoDuration("1h30m") == 5400LL * 1000000000);
  CHECK(*parseGoDuration("1.5h") == 5400LL * 1000000000);
  CHECK(*parseGoDuration("90s") == 90LL * 1000000000);
  CHECK(*parseGoDuration("300ms") == 300000000LL);
  CHECK(*parseGoDuration("-1m") == -60LL * 1000000000);
  CHECK(*parseGoDuration("0") == 0);
  CHECK(*parseGoDuration(".5h") == 1800LL * 1000000000);
  CHECK(*parseGoDuration("1.h") == 3600LL * 1000000000);
  for (const char* bad : {"", "h", "12", "1d", "1h x", "abc", "1.2.3h", ".h", "1..5h", "--1h", "1h-5m"}) {
    INFO(bad);
    CHECK_FALSE(parseGoDuration(bad));
  }
}

TEST_CASE("Go durations are printed as Go's Duration.String prints whole seconds", "[kube][duration]") {
  CHECK(formatGoDuration(2160h) == "2160h0m0s");
  CHECK(formatGoDuration(90s) == "1m30s");
  CHECK(formatGoDuration(59s) == "59s");
  CHECK(formatGoDuration(*parseGoDuration("1h30m") / 1000000000 * 1s) == "1h30m0s");
}

}  // namespace
}  // namespace mysqlop::kube
