#include "common/kube/base64.h"

#include <catch2/catch.hpp>

namespace mysqlop::kube {
namespace {

TEST_CASE("base64 follows RFC 4648 test vectors", "[kube][base64]") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : vectors) {
    CHECK(base64Encode(plain) == enc);
    auto d = base64Decode(enc);
    REQUIRE(d);
    CHECK(*d == plain);
  }
  std::string binary("\x00\xff\x10\x80", 4);
  CHECK(*base64Decode(base64Encode(binary)) == binary);
  CHECK(*base64Decode("Zm9v\nYmFy\n") == "foobar");
}

TEST_CASE("invalid base64 is Invalid", "[kube][base64]") {
  for (const char* bad : {"Zm9v!", "Zm9=v", "@@@@"}) {
    INFO(bad);
    auto d = base64Decode(bad);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == core::ErrorCode::kInvalid);
  }
}

}  // namespace
}  // namespace mysqlop::kube
