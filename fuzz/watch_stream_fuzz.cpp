// Fuzz target: watch stream bytes (untrusted: whatever the server or a proxy sends). The first
// byte picks chunk sizes so that line splitting is exercised at arbitrary boundaries; the
// events must not depend on how the bytes were cut.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/kube/watch_event.h"

namespace {

std::vector<std::string> decode(std::string_view bytes, size_t chunk, bool& ok) {
  mysqlop::kube::WatchDecoder d;
  std::vector<std::string> out;
  auto sink = [&](mysqlop::kube::WatchEvent&& e) {
    out.push_back(std::string(mysqlop::kube::watchEventTypeName(e.type)) + e.object.dump());
    return true;
  };
  ok = true;
  for (size_t i = 0; i < bytes.size() && ok; i += chunk) {
    ok = d.feed(bytes.substr(i, chunk), sink).ok();
  }
  if (ok) ok = d.finish(sink).ok();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0] % 16;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool okWhole = false, okChunked = false;
  auto whole = decode(bytes, bytes.size() + 1, okWhole);
  auto chunked = decode(bytes, chunk, okChunked);
  if (okWhole != okChunked || (okWhole && whole != chunked)) __builtin_trap();
  return 0;
}
