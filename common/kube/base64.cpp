#include "common/kube/base64.h"

#include <openssl/evp.h>

#include <memory>

namespace mysqlop::kube {

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

core::Result<std::string> base64Decode(std::string_view text) {
  std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                       EVP_ENCODE_CTX_free);
  if (!ctx) return core::internal("out of memory");
  EVP_DecodeInit(ctx.get());
  std::string out(text.size() / 4 * 3 + 3, '\0');
  int n = 0, tail = 0;
  // EVP_DecodeUpdate skips whitespace and newlines; returns -1 on any other invalid input.
  if (EVP_DecodeUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                       reinterpret_cast<const unsigned char*>(text.data()),
                       static_cast<int>(text.size())) < 0 ||
      EVP_DecodeFinal(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &tail) < 0) {
    return core::invalid("illegal base64 data");
  }
  out.resize(static_cast<size_t>(n + tail));
  return out;
}

}  // namespace mysqlop::kube
