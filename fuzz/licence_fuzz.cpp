// Fuzz target: a licence file (untrusted: whoever installs the chart hands it over). Reading and
// verifying never crash and every refusal says why.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/licence/licence.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string pem(reinterpret_cast<const char*>(data), size);
  auto read = mysqlop::licence::readLicence(pem);
  if (!read && read.error().message.empty()) __builtin_trap();
  auto verified = mysqlop::licence::verifyLicence(pem, mysqlop::licence::embeddedCaPem(), "fuzz-cluster",
                                                  std::chrono::system_clock::now());
  if (!verified && verified.error().message.empty()) __builtin_trap();
  return 0;
}
