#include "common/mysql/gtid.h"

#include <catch2/catch.hpp>

namespace mysqlop::dbclient {
namespace {

constexpr const char* kA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr const char* kG = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

GtidSet set(const std::string& text) {
  auto s = GtidSet::parse(text);
  REQUIRE(s);
  return *s;
}

TEST_CASE("GTID sets: parsed as MySQL prints them, normalised", "[gtid]") {
  CHECK(set("").empty());
  CHECK(set(" \n").empty());
  CHECK(set(std::string(kA) + ":1-5:11-18").count() == 13);
  // Upper case, line breaks after commas, adjacent and overlapping intervals.
  CHECK(set("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-3:4-5:5,\n" + std::string(kG) + ":7").str() ==
        std::string(kA) + ":1-5," + kG + ":7");
  // Tagged GTIDs (MySQL 8.3+): uuid:tag:intervals.
  auto tagged = set(std::string(kG) + ":1-2:mytag:1-4");
  CHECK(tagged.count() == 6);
  CHECK(tagged.hasSource(kG));
  CHECK_FALSE(tagged.hasSource(kA));
  for (const char* bad : {"x:1", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0", "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-1",
                          "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-", "3e11fa47-71ca-11e1-9e33-c80aa9429562:99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(GtidSet::parse(bad));
  }
}

TEST_CASE("GTID sets: containment decides who holds every transaction", "[gtid]") {
  const std::string g = kG;
  CHECK(set(g + ":1-10").contains(set(g + ":1-5")));
  CHECK(set(g + ":1-10").contains(set("")));
  CHECK_FALSE(set(g + ":1-5").contains(set(g + ":1-6")));
  CHECK_FALSE(set(g + ":1-5:7-9").contains(set(g + ":5-7")));  // the gap at 6
  CHECK(set(g + ":1-5:6-9").contains(set(g + ":5-7")));         // merged: no gap
  // A transaction of another source is not held.
  CHECK_FALSE(set(g + ":1-10").contains(set(g + ":1-3," + kA + ":1")));
  CHECK(set(g + ":1-10," + kA + ":1-2").contains(set(g + ":1-3," + kA + ":1")));
  // Diverged: neither holds the other.
  CHECK_FALSE(set(g + ":1-5," + kA + ":1").contains(set(g + ":1-6")));
  CHECK_FALSE(set(g + ":1-6").contains(set(g + ":1-5," + kA + ":1")));
}

}  // namespace
}  // namespace mysqlop::dbclient
