#pragma once
// Tests of the streaming sessions: a connected pair of sockets, the server's end as a Transport.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "e2e/sandbox/apiserver/exec_session.h"

namespace mysqlop::sandbox::testing {

struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0); }
  ~SocketPair() {
    for (int fd : fds) ::close(fd);
  }
  int client() const { return fds[1]; }
  Transport server() const {
    const int fd = fds[0];
    Transport t;
    t.fd = fd;
    t.read = [fd](char* b, size_t n) { return ::read(fd, b, n); };
    t.writeAll = [fd](std::string_view d) {
      while (!d.empty()) {
        const ssize_t w = ::send(fd, d.data(), d.size(), MSG_NOSIGNAL);  // a peer gone is an error, not a signal
        if (w <= 0) return false;
        d.remove_prefix(static_cast<size_t>(w));
      }
      return true;
    };
    return t;
  }
  void send(std::string_view bytes) const { REQUIRE(::write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())); }
};

}  // namespace mysqlop::sandbox::testing
