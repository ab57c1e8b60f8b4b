#include "e2e/sandbox/apiserver/upgrade.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>

#include "e2e/sandbox/apiserver/websocket.h"

namespace mysqlop::sandbox {

bool headerHas(const httplib::Request& req, const char* name, const char* token) {
  std::string v = req.get_header_value(name);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return v.find(token) != std::string::npos;
}

// The upgraded connection: TLS through the request's session, the socket blocking and without
// httplib's timeouts (an interactive shell may sit idle).
Transport tlsTransport(SSL* ssl) {
  Transport t;
  t.fd = SSL_get_fd(ssl);
  const int flags = ::fcntl(t.fd, F_GETFL);
  if (flags >= 0) ::fcntl(t.fd, F_SETFL, flags & ~O_NONBLOCK);
  timeval none{};
  ::setsockopt(t.fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  ::setsockopt(t.fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  t.read = [ssl](char* buf, size_t n) -> ssize_t {
    const int got = SSL_read(ssl, buf, static_cast<int>(n));
    if (got > 0) return got;
    const int e = SSL_get_error(ssl, got);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      errno = EAGAIN;
      return -1;
    }
    return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  };
  t.writeAll = [ssl](std::string_view data) {
    while (!data.empty()) {
      const int w = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
      if (w <= 0) return false;
      data.remove_prefix(static_cast<size_t>(w));
    }
    return true;
  };
  t.pending = [ssl] { return static_cast<size_t>(SSL_pending(ssl)); };
  return t;
}

Transport websocketTunnel(Transport& inner) {
  struct State {
    websocket::FrameReader reader;
    std::string ready;  // payload bytes read and not yet handed out
    bool closed = false;
  };
  auto st = std::make_shared<State>();
  Transport t;
  t.fd = inner.fd;
  t.pending = [st, &inner] { return st->ready.size() + inner.pending(); };
  t.writeAll = [&inner](std::string_view data) {
    return inner.writeAll(websocket::encodeFrame(websocket::Opcode::kBinary, data));
  };
  t.read = [st, &inner](char* buf, size_t n) -> ssize_t {
    while (st->ready.empty()) {
      if (st->closed) return 0;
      char in[16 * 1024];
      const ssize_t got = inner.read(in, sizeof in);
      if (got <= 0) return got;
      st->reader.feed(std::string_view(in, static_cast<size_t>(got)));
      while (auto m = st->reader.next()) {
        if (m->opcode == websocket::Opcode::kBinary) {
          st->ready += m->payload;
        } else if (m->opcode == websocket::Opcode::kPing) {
          inner.writeAll(websocket::encodeFrame(websocket::Opcode::kPong, m->payload));
        } else if (m->opcode == websocket::Opcode::kClose) {
          inner.writeAll(websocket::encodeFrame(websocket::Opcode::kClose, websocket::closePayload(1000, "")));
          st->closed = true;
        }
      }
      if (st->reader.failed()) return -1;
      if (st->ready.empty() && !st->closed) {
        errno = EAGAIN;  // only control frames this time
        return -1;
      }
    }
    const size_t k = std::min(n, st->ready.size());
    std::copy_n(st->ready.data(), k, buf);
    st->ready.erase(0, k);
    return static_cast<ssize_t>(k);
  };
  return t;
}

}  // namespace mysqlop::sandbox
