#include "community-operator/controller/password.h"

#include <catch2/catch.hpp>

#include <map>
#include <set>

namespace mysqlop::community {

TEST_CASE("passwords are 16 alphanumerics, different every time, every character used", "[community][password]") {
  std::set<std::string> seen;
  std::map<char, int> counts;
  for (int i = 0; i < 2000; ++i) {
    auto p = randomPassword();
    REQUIRE(p);
    REQUIRE(p->size() == 16);
    for (char ch : *p) {
      REQUIRE(std::isalnum(static_cast<unsigned char>(ch)));
      ++counts[ch];
    }
    seen.insert(*p);
  }
  CHECK(seen.size() == 2000);
  // 32,000 draws over 62 symbols: about 516 each; a biased or truncated alphabet shows here.
  CHECK(counts.size() == 62);
  for (const auto& [ch, n] : counts) {
    INFO(ch);
    CHECK(n > 380);
    CHECK(n < 660);
  }
  CHECK(randomPassword(40)->size() == 40);
}

}  // namespace mysqlop::community
