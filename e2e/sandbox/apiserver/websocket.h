#pragma once
// WebSocket (RFC 6455), the server's side, as far as the Kubernetes streaming protocols need it
// (exec and attach over `v4.channel.k8s.io` / `v5.channel.k8s.io`): the handshake's accept key,
// and frames — clients' frames are masked and may be fragmented; the server's are not masked.
// Pure; no I/O.
//
//   FrameReader r;
//   r.feed(bytes);                      // whatever the connection gave
//   while (auto m = r.next()) { … }     // whole messages (fragments joined), control frames too
//   if (r.failed()) …                   // a protocol error: close with 1002
//   send(encodeFrame(Opcode::kBinary, payload));

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace mysqlop::sandbox::websocket {

enum class Opcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string acceptKey(std::string_view clientKey);

// The first protocol of the client's Sec-WebSocket-Protocol list (comma-separated, in its order
// of preference) that the server speaks; empty when none.
std::string chooseProtocol(std::string_view offered, std::initializer_list<std::string_view> supported);

struct Message {
  Opcode opcode = Opcode::kBinary;  // kText, kBinary, or a control opcode
  std::string payload;
};

class FrameReader {
 public:
  explicit FrameReader(size_t maxMessage = 16 << 20) : max_(maxMessage) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next whole message, or nullopt when more bytes are needed (or after an error).
  std::optional<Message> next();
  // Why the stream cannot be read on (unmasked client frame, bad opcode or length, too big).
  const std::optional<std::string>& failed() const { return error_; }

 private:
  std::string buf_;
  size_t max_;
  std::optional<Opcode> fragmentOf_;  // a data message being assembled from fragments
  std::string fragments_;
  std::optional<std::string> error_;
};

// One unmasked, final frame (a server's).
std::string encodeFrame(Opcode op, std::string_view payload);
// A close frame's payload: the status code and a reason.
std::string closePayload(uint16_t code, std::string_view reason);

}  // namespace mysqlop::sandbox::websocket
