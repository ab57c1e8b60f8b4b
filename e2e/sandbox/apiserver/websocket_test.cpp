#include "e2e/sandbox/apiserver/websocket.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox::websocket {
namespace {

// A client's frame: masked with `mask`.
std::string clientFrame(uint8_t first, std::string_view payload, std::string mask = "\x37\xfa\x21\x3d") {
  std::string f(1, static_cast<char>(first));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  f += mask;
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

TEST_CASE("websocket: the handshake's accept key and the protocol choice", "[sandbox][websocket]") {
  CHECK(acceptKey("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 §1.3
  const auto offered = "v5.channel.k8s.io, v4.channel.k8s.io,v3.channel.k8s.io, channel.k8s.io";
  CHECK(chooseProtocol(offered, {"v4.channel.k8s.io", "v5.channel.k8s.io"}) == "v5.channel.k8s.io");  // the client's order
  CHECK(chooseProtocol("v4.channel.k8s.io", {"v5.channel.k8s.io", "v4.channel.k8s.io"}) == "v4.channel.k8s.io");
  CHECK(chooseProtocol("base64.channel.k8s.io", {"v5.channel.k8s.io"}).empty());
}

TEST_CASE("websocket: a client's masked frames, byte by byte, fragmented, with control frames between", "[sandbox][websocket]") {
  // RFC 6455 §5.7: a single-frame masked text message "Hello".
  FrameReader r;
  const std::string hello = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  for (char c : hello) {
    CHECK_FALSE(r.next());
    r.feed(std::string_view(&c, 1));
  }
  auto m = r.next();
  REQUIRE(m);
  CHECK(m->opcode == Opcode::kText);
  CHECK(m->payload == "Hello");
  CHECK_FALSE(r.next());

  // "Hel" + ping + "lo": the ping comes out at once, the message when its last fragment does.
  r.feed(clientFrame(0x02, "Hel") + clientFrame(0x89, "are you there") + clientFrame(0x80, "lo"));
  m = r.next();
  REQUIRE(m);
  CHECK(m->opcode == Opcode::kPing);
  CHECK(m->payload == "are you there");
  m = r.next();
  REQUIRE(m);
  CHECK(m->opcode == Opcode::kBinary);
  CHECK(m->payload == "Hello");

  // A 16-bit length.
  const std::string big(300, 'x');
  r.feed(clientFrame(0x82, big));
  m = r.next();
  REQUIRE(m);
  CHECK(m->payload == big);
  CHECK_FALSE(r.failed());
}

TEST_CASE("websocket: protocol errors stop the reader", "[sandbox][websocket]") {
  FrameReader unmasked;
  unmasked.feed(std::string("\x82\x01\x00", 3));
  CHECK_FALSE(unmasked.next());
  REQUIRE(unmasked.failed());
  CHECK(*unmasked.failed() == "a client frame that is not masked");

  FrameReader orphan;
  orphan.feed(clientFrame(0x80, "tail"));
  CHECK_FALSE(orphan.next());
  CHECK(orphan.failed());

  FrameReader small(10);
  small.feed(clientFrame(0x82, "more than ten bytes"));
  CHECK_FALSE(small.next());
  CHECK_THAT(*small.failed(), Catch::Contains("larger than 10 bytes"));
}

TEST_CASE("websocket: the server's frames are unmasked, with the length in the shortest form", "[sandbox][websocket]") {
  CHECK(encodeFrame(Opcode::kBinary, std::string("\x01hi", 3)) == std::string("\x82\x03\x01hi", 5));
  const std::string f = encodeFrame(Opcode::kBinary, std::string(200, 'y'));
  CHECK(f.substr(0, 4) == std::string("\x82\x7e\x00\xc8", 4));
  CHECK(f.size() == 204);
  CHECK(encodeFrame(Opcode::kBinary, std::string(70000, 'z')).substr(0, 10) ==
        std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
  CHECK(closePayload(1000, "done") == std::string("\x03\xe8", 2) + "done");
}

}  // namespace
}  // namespace mysqlop::sandbox::websocket
