#include "community-operator/controller/password.h"

#include <openssl/rand.h>

#include <array>
#include <string_view>

namespace mysqlop::community {

core::Result<std::string> randomPassword(size_t length) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  // 62 * 4 = 248: bytes at or above it are dropped so that `b % 62` is uniform.
  constexpr unsigned kLimit = 248;
  std::string out;
  out.reserve(length);
  std::array<unsigned char, 64> buf{};
  while (out.size() < length) {
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
      return core::internal("OpenSSL's random generator failed; no password was made");
    }
    for (unsigned char b : buf) {
      if (b >= kLimit) continue;
      out.push_back(kAlphabet[b % kAlphabet.size()]);
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace mysqlop::community
