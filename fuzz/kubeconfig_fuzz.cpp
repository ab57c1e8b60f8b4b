// Fuzz target: kubeconfig text (untrusted: users hand us any file).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/client/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = mysqlop::client::parseKubeconfig(text, "/fuzz/kubeconfig");
  if (!cfg && cfg.error().message.empty()) __builtin_trap();  // every failure says why
  return 0;
}
