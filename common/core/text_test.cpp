#include "common/core/text.h"

#include <catch2/catch.hpp>

namespace mysqlop::core {
namespace {

TEST_CASE("text: messages are cut to their limit on a character boundary", "[core][text]") {
  CHECK(truncateUtf8("short", 10) == "short");
  CHECK(truncateUtf8("0123456789", 10) == "0123456789");
  CHECK(truncateUtf8("0123456789abc", 10) == "0123456\u2026");
  // "é" is two bytes, "€" three: a cut never leaves half of one.
  const std::string euros = "\u20ac\u20ac\u20ac\u20ac";  // 12 bytes
  const std::string cut = truncateUtf8(euros, 8);       // room for 5 bytes: one whole euro
  CHECK(cut == "\u20ac\u2026");
  CHECK(cut.size() <= 8);
  const std::string e = truncateUtf8("\u00e9\u00e9\u00e9\u00e9\u00e9", 7);  // room for 4 bytes: two é
  CHECK(e == "\u00e9\u00e9\u2026");
  CHECK(truncateUtf8("abcdef", 2) == "ab");  // too small for the mark
}

}  // namespace
}  // namespace mysqlop::core
