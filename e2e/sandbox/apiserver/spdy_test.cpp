#include "e2e/sandbox/apiserver/spdy.h"

#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "e2e/sandbox/apiserver/exec_session.h"
#include "e2e/sandbox/apiserver/portforward_session.h"
#include "e2e/sandbox/apiserver/stream_test_util.h"
#include "e2e/sandbox/apiserver/upgrade.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace mysqlop::sandbox::spdy {
namespace {

void put32(std::string& o, uint32_t v) {
  for (int i = 3; i >= 0; --i) o.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// What spdystream does on the client's side: one zlib stream with the dictionary for all of its
// header blocks; control frames of version 3.
struct ClientFramer {
  z_stream z{};
  ClientFramer() {
    REQUIRE(deflateInit(&z, Z_DEFAULT_COMPRESSION) == Z_OK);
    REQUIRE(deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(headerDictionary().data()),
                                 static_cast<uInt>(headerDictionary().size())) == Z_OK);
  }
  ~ClientFramer() { deflateEnd(&z); }
  std::string synStream(uint32_t id, const std::map<std::string, std::string>& headers) {
    std::string plain;
    put32(plain, static_cast<uint32_t>(headers.size()));
    for (const auto& [k, v] : headers) {
      put32(plain, static_cast<uint32_t>(k.size()));
      plain += k;
      put32(plain, static_cast<uint32_t>(v.size()));
      plain += v;
    }
    std::string block(plain.size() + 256, '\0');
    z.next_in = reinterpret_cast<Bytef*>(plain.data());
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(block.data());
    z.avail_out = static_cast<uInt>(block.size());
    REQUIRE(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
    block.resize(block.size() - z.avail_out);
    std::string body;
    put32(body, id);
    put32(body, 0);                   // associated stream
    body += std::string("\x00\x00", 2);  // priority, slot
    body += block;
    std::string f("\x80\x03\x00\x01", 4);
    f.push_back(0);
    f.push_back(static_cast<char>(body.size() >> 16));
    f.push_back(static_cast<char>((body.size() >> 8) & 0xFF));
    f.push_back(static_cast<char>(body.size() & 0xFF));
    return f + body;
  }
};

TEST_CASE("spdy: the header dictionary is SPDY/3's", "[sandbox][spdy]") {
  const std::string& d = headerDictionary();
  CHECK(d.size() == 1423);
  CHECK(adler32(1, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())) == 0xe3c6a7c2);  // its zlib dictionary id
}

TEST_CASE("spdy: a client's streams, data and pings, and the server's replies read back", "[sandbox][spdy]") {
  ClientFramer client;
  Framer f;
  // One statement each: the header blocks continue one zlib stream, in this order.
  std::string bytes = client.synStream(1, {{"streamtype", "error"}});
  bytes += client.synStream(3, {{"streamtype", "stdin"}, {"port", "3306"}});
  bytes += Framer::data(3, "hello", false) + Framer::data(3, "", true) + Framer::ping(7);
  // Byte by byte: frames come out whole, the header blocks continue one zlib stream.
  std::vector<Frame> got;
  for (char c : bytes) {
    f.feed(std::string_view(&c, 1));
    while (auto fr = f.next()) got.push_back(*fr);
  }
  INFO(f.failed().value_or(""));
  REQUIRE_FALSE(f.failed());
  REQUIRE(got.size() == 5);
  CHECK(got[0].type == Type::kSynStream);
  CHECK(got[0].streamId == 1);
  CHECK(got[0].headers == std::map<std::string, std::string>{{"streamtype", "error"}});
  CHECK(got[1].headers.at("port") == "3306");
  CHECK(got[2].type == Type::kData);
  CHECK(got[2].data == "hello");
  CHECK_FALSE(got[2].fin());
  CHECK(got[3].fin());
  CHECK(got[4].type == Type::kPing);
  CHECK(got[4].value == 7);

  // The server's SYN_REPLY: a control frame whose block inflates with the dictionary.
  const std::string reply = f.synReply(3, {{"a", "b"}});
  CHECK(reply.substr(0, 4) == std::string("\x80\x03\x00\x02", 4));
  z_stream z{};
  REQUIRE(inflateInit(&z) == Z_OK);
  std::string block = reply.substr(12), plain(256, '\0');
  z.next_in = reinterpret_cast<Bytef*>(block.data());
  z.avail_in = static_cast<uInt>(block.size());
  z.next_out = reinterpret_cast<Bytef*>(plain.data());
  z.avail_out = static_cast<uInt>(plain.size());
  int rc = inflate(&z, Z_SYNC_FLUSH);
  REQUIRE(rc == Z_NEED_DICT);
  REQUIRE(inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(headerDictionary().data()),
                               static_cast<uInt>(headerDictionary().size())) == Z_OK);
  rc = inflate(&z, Z_SYNC_FLUSH);
  CHECK(rc == Z_OK);
  plain.resize(plain.size() - z.avail_out);
  inflateEnd(&z);
  CHECK(plain == std::string("\x00\x00\x00\x01\x00\x00\x00\x01" "a\x00\x00\x00\x01" "b", 14));
}

TEST_CASE("spdy: a frame of another version is a protocol error", "[sandbox][spdy]") {
  Framer f;
  f.feed(std::string("\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12));
  CHECK_FALSE(f.next());
  REQUIRE(f.failed());
  CHECK_THAT(*f.failed(), Catch::Contains("version 2"));
}

TEST_CASE("spdy exec session: streams accepted, stdin to its FIN, stdout and stderr, the Status on the error stream",
          "[sandbox][spdy][exec]") {
  sandbox::testing::SocketPair pair;
  Transport t = pair.server();
  const int* fds = pair.fds;
  int code = -2;
  std::thread server([&] {
    code = runSpdyExecSession(t, {.argv = {"/bin/sh", "-c", "cat; echo bad >&2; exit 2"}, .command = {"sh"}, .stdin = true, .version = 4});
  });
  ClientFramer client;
  std::string out;
  out += client.synStream(1, {{"streamtype", "error"}});
  out += client.synStream(3, {{"streamtype", "stdin"}});
  out += client.synStream(5, {{"streamtype", "stdout"}});
  out += client.synStream(7, {{"streamtype", "stderr"}});
  out += Framer::data(3, "piped in\n", false) + Framer::data(3, "", true);
  REQUIRE(::write(fds[1], out.data(), out.size()) == static_cast<ssize_t>(out.size()));
  // Read until the error stream ends.
  Framer reader;
  std::map<uint32_t, std::string> data;
  int replies = 0;
  bool errorDone = false;
  char buf[4096];
  while (!errorDone) {
    const ssize_t n = ::read(fds[1], buf, sizeof buf);
    REQUIRE(n > 0);
    reader.feed(std::string_view(buf, static_cast<size_t>(n)));
    while (auto fr = reader.next()) {
      if (fr->type == Type::kSynReply) ++replies;
      if (fr->type == Type::kData) {
        data[fr->streamId] += fr->data;
        if (fr->streamId == 1 && fr->fin()) errorDone = true;
      }
    }
  }
  ::shutdown(fds[1], SHUT_RDWR);
  server.join();
  CHECK(replies == 4);
  CHECK(code == 2);
  CHECK(data[5] == "piped in\n");
  CHECK(data[7] == "bad\n");
  auto status = nlohmann::json::parse(data[1]);
  CHECK(status["details"]["causes"][0]["message"] == "2");
}

TEST_CASE("spdy port-forward session: each request's streams reach the port, errors on the error stream", "[sandbox][spdy][portforward]") {
  // An echo server on loopback stands in for the pod's port.
  const int lsn = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(lsn, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(lsn, 4) == 0);
  REQUIRE(::getsockname(lsn, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const int port = ntohs(a.sin_port);
  std::thread echo([lsn] {
    const int c = ::accept(lsn, nullptr, nullptr);
    char b[256];
    ssize_t n;
    while ((n = ::read(c, b, sizeof b)) > 0) ::write(c, b, static_cast<size_t>(n));
    ::close(c);  // the client's FIN reached it: it ends too
  });
  sandbox::testing::SocketPair pair;
  Transport t = pair.server();
  const int* fds = pair.fds;
  std::thread server([&] {
    runPortForwardSession(t, [](int p) -> core::Result<int> {
      const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(static_cast<uint16_t>(p));
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(s);
        return core::unavailable("connect: connection refused");
      }
      return s;
    });
  });
  ClientFramer client;
  const std::string p = std::to_string(port);
  std::string out;
  out += client.synStream(1, {{"streamtype", "error"}, {"port", p}, {"requestid", "0"}});
  out += client.synStream(3, {{"streamtype", "data"}, {"port", p}, {"requestid", "0"}});
  out += client.synStream(5, {{"streamtype", "error"}, {"port", "1"}, {"requestid", "1"}});
  out += client.synStream(7, {{"streamtype", "data"}, {"port", "1"}, {"requestid", "1"}});
  out += Framer::data(3, "ping over the tunnel", true);
  REQUIRE(::write(fds[1], out.data(), out.size()) == static_cast<ssize_t>(out.size()));
  Framer reader;
  std::map<uint32_t, std::string> data;
  std::set<uint32_t> fins;
  char buf[4096];
  while (!(fins.count(3) && fins.count(5))) {
    const ssize_t n = ::read(fds[1], buf, sizeof buf);
    REQUIRE(n > 0);
    reader.feed(std::string_view(buf, static_cast<size_t>(n)));
    while (auto fr = reader.next()) {
      if (fr->type != Type::kData) continue;
      data[fr->streamId] += fr->data;
      if (fr->fin()) fins.insert(fr->streamId);
    }
  }
  ::shutdown(fds[1], SHUT_RDWR);
  server.join();
  echo.join();
  ::close(lsn);
  CHECK(data[3] == "ping over the tunnel");  // echoed, then the pod's end of stream as a FIN
  CHECK(data[5] == "error forwarding port 1 to pod: connect: connection refused");
}

TEST_CASE("websocket tunnel: SPDY bytes in binary messages, pings answered, a close ends it", "[sandbox][websocket]") {
  sandbox::testing::SocketPair pair;
  Transport inner = pair.server();
  const int* fds = pair.fds;
  Transport tunnel = websocketTunnel(inner);
  auto masked = [](uint8_t first, std::string_view payload) {
    std::string f(1, static_cast<char>(first));
    f.push_back(static_cast<char>(0x80 | payload.size()));
    f += std::string(4, '\0');  // a zero mask: the payload as it is
    f += payload;
    return f;
  };
  const std::string in = masked(0x82, "abc") + masked(0x89, "hi") + masked(0x82, "def") + masked(0x88, "");
  REQUIRE(::write(fds[1], in.data(), in.size()) == static_cast<ssize_t>(in.size()));
  std::string got;
  char buf[16];
  for (ssize_t n; (n = tunnel.read(buf, sizeof buf)) != 0;) {
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  CHECK(got == "abcdef");
  REQUIRE(tunnel.writeAll("xyz"));
  char back[64];
  const ssize_t n = ::read(fds[1], back, sizeof back);
  // The pong, the close answered, then the message written.
  CHECK(std::string(back, static_cast<size_t>(n)) == std::string("\x8a\x02hi\x88\x02\x03\xe8\x82\x03xyz", 13));
}

}  // namespace
}  // namespace mysqlop::sandbox::spdy
