#include "e2e/sandbox/apiserver/exec_session.h"
#include "e2e/sandbox/apiserver/stream_test_util.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

namespace mysqlop::sandbox {
namespace {

// The client's end of a channel-protocol connection: masked frames out, the server's in.
struct Client {
  int fd;
  void send(std::string payload, uint8_t opcode = 0x82) {
    std::string f(1, static_cast<char>(opcode));
    f.push_back(static_cast<char>(0x80 | payload.size()));  // short payloads only
    const std::string mask = "\x11\x22\x33\x44";
    f += mask;
    for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    REQUIRE(::write(fd, f.data(), f.size()) == static_cast<ssize_t>(f.size()));
  }
  // Channel → everything the server sent on it, until its close frame.
  std::map<int, std::string> readAll() {
    std::string in;
    char buf[4096];
    std::map<int, std::string> out;
    while (true) {
      while (in.size() >= 2) {
        size_t len = static_cast<uint8_t>(in[1]) & 0x7F, at = 2;
        if (len == 126) {
          if (in.size() < 4) break;
          len = (static_cast<size_t>(static_cast<uint8_t>(in[2])) << 8) | static_cast<uint8_t>(in[3]);
          at = 4;
        }
        if (in.size() < at + len) break;
        const int op = static_cast<uint8_t>(in[0]) & 0x0F;
        const std::string payload = in.substr(at, len);
        in.erase(0, at + len);
        if (op == 8) return out;
        if (!payload.empty()) out[static_cast<uint8_t>(payload[0])] += payload.substr(1);
      }
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return out;
      in.append(buf, static_cast<size_t>(n));
    }
  }
};

using Pair = testing::SocketPair;

TEST_CASE("exec session: stdin to its close, stdout and stderr apart, the exit code in the Status", "[sandbox][exec]") {
  Pair p;
  Transport t = p.server();
  int code = -2;
  std::thread server([&] {
    code = runExecSession(t, {.argv = {"/bin/sh", "-c", "while read x; do echo got $x; done; echo oops >&2; exit 3"},
                              .command = {"sh", "-c", "…"}, .stdin = true, .version = 5});
  });
  Client c{p.fds[1]};
  c.send(std::string("\x00", 1) + "one\n");
  c.send(std::string("\x00", 1) + "two\n");
  c.send(std::string("\xff\x00", 2));  // v5: stdin is closed
  auto got = c.readAll();
  c.send("", 0x88);  // the client's close
  server.join();
  CHECK(code == 3);
  CHECK(got[1] == "got one\ngot two\n");
  CHECK(got[2] == "oops\n");
  auto status = nlohmann::json::parse(got[3]);
  CHECK(status["status"] == "Failure");
  CHECK(status["reason"] == "NonZeroExitCode");
  CHECK(status["details"]["causes"][0] == nlohmann::json{{"reason", "ExitCode"}, {"message", "3"}});
  CHECK(status["message"] == "command terminated with non-zero exit code: error executing command [sh -c …], exit code 3");
}

TEST_CASE("exec session: a TTY merges the output, takes its size from resize messages", "[sandbox][exec]") {
  Pair p;
  Transport t = p.server();
  int code = -2;
  std::thread server([&] {
    code = runExecSession(t, {.argv = {"/bin/sh", "-c", "read x; stty size; tty >/dev/null && echo on-a-tty; echo err >&2"},
                              .stdin = true, .stderr = false, .tty = true, .version = 5});
  });
  Client c{p.fds[1]};
  c.send(std::string("\x04", 1) + R"({"Width":132,"Height":43})");
  c.send(std::string("\x00", 1) + "go\r");
  auto got = c.readAll();
  c.send("", 0x88);
  server.join();
  CHECK(code == 0);
  CHECK_THAT(got[1], Catch::Contains("43 132") && Catch::Contains("on-a-tty") && Catch::Contains("err"));
  CHECK(got.count(2) == 0);
  CHECK(nlohmann::json::parse(got[3])["status"] == "Success");
}

TEST_CASE("exec session: a client that leaves ends the command", "[sandbox][exec]") {
  Pair p;
  Transport t = p.server();
  int code = -2;
  std::thread server([&] { code = runExecSession(t, {.argv = {"/bin/sleep", "60"}, .version = 4}); });
  Client c{p.fds[1]};
  c.send("", 0x88);  // close at once
  const auto start = std::chrono::steady_clock::now();
  server.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(code == 128 + 9);  // SIGKILL
}

}  // namespace
}  // namespace mysqlop::sandbox
