#pragma once
// SPDY/3.1 framing, the server's side, as far as Kubernetes' streaming (kubectl before 1.30 for
// exec; port-forward) uses it through moby/spdystream: the client opens streams (SYN_STREAM
// with headers such as `streamtype: stdout`), the server accepts each (SYN_REPLY) and both send
// DATA on them, FIN closing one direction; PING is echoed; SETTINGS and WINDOW_UPDATE are read
// and ignored (spdystream keeps no flow-control windows). Header blocks are zlib streams with
// SPDY/3's dictionary, one per direction for the whole connection. Pure; no I/O.
//
//   Framer f;
//   f.feed(bytes);
//   while (auto fr = f.next()) { … }             // f.failed() on a protocol error
//   send(f.synReply(id));  send(Framer::data(id, bytes, /*fin=*/false));

#include <zlib.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mysqlop::sandbox::spdy {

enum class Type : uint16_t {
  kData = 0,  // not a control frame: DATA on a stream
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

inline constexpr uint8_t kFlagFin = 0x01;

struct Frame {
  Type type = Type::kData;
  uint32_t streamId = 0;  // DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
  uint8_t flags = 0;
  std::map<std::string, std::string> headers;  // SYN_STREAM, SYN_REPLY, HEADERS (names lower-case)
  std::string data;                            // DATA
  uint32_t value = 0;                          // PING id, RST_STREAM/GOAWAY status
  bool fin() const { return (flags & kFlagFin) != 0; }
};

class Framer {
 public:
  Framer();
  ~Framer();
  Framer(const Framer&) = delete;
  Framer& operator=(const Framer&) = delete;

  void feed(std::string_view bytes) { in_.append(bytes); }
  // The next whole frame, or nullopt when more bytes are needed (or after an error).
  std::optional<Frame> next();
  const std::optional<std::string>& failed() const { return error_; }

  // The server's frames. A SYN_REPLY carries a header block, so it uses this side's compressor.
  std::string synReply(uint32_t streamId, const std::map<std::string, std::string>& headers = {}, bool fin = false);
  static std::string data(uint32_t streamId, std::string_view bytes, bool fin);
  static std::string ping(uint32_t id);
  static std::string rstStream(uint32_t streamId, uint32_t status);
  static std::string goAway(uint32_t lastGoodStreamId, uint32_t status = 0);

 private:
  std::optional<std::map<std::string, std::string>> decodeHeaders(std::string_view block);
  std::string in_;
  std::optional<std::string> error_;
  z_stream inflate_{};
  z_stream deflate_{};
  bool inflateReady_ = false, deflateReady_ = false;
};

// SPDY/3's zlib dictionary for header blocks (draft-mbelshe-httpbis-spdy-00, §2.6.10.1).
const std::string& headerDictionary();

}  // namespace mysqlop::sandbox::spdy
