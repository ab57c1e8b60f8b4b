#include "common/mysql/served_certificate.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <charconv>
#include <vector>

namespace mysqlop::dbclient {
namespace {

// MySQL protocol capability flags (client/server protocol, "Capabilities Flags").
constexpr uint32_t kClientLongPassword = 0x00000001;
constexpr uint32_t kClientProtocol41 = 0x00000200;
constexpr uint32_t kClientSsl = 0x00000800;
constexpr uint32_t kClientSecureConnection = 0x00008000;

class Socket {
 public:
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  core::Status connect(const std::string& host, int port, std::chrono::seconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
      return core::unavailable(fmt::format("cannot resolve {}: {}", host, gai_strerror(rc)));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> hold(res, freeaddrinfo);
    std::string why = "no address";
    for (addrinfo* a = res; a; a = a->ai_next) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd_ < 0) continue;
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        why = strerror(errno);
        continue;
      }
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count() * 1000)) != 1) {
        why = "connection timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        why = strerror(err);
        continue;
      }
      // Blocking from here on, each read and write bounded by the timeout.
      ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
      timeval tv{static_cast<time_t>(timeout.count()), 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      return {};
    }
    return core::unavailable(fmt::format("cannot connect to {}:{}: {}", host, port, why));
  }

  core::Status readFull(unsigned char* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, buf + got, n - got, 0);
      if (r == 0) return core::unavailable("the server closed the connection");
      if (r < 0) return core::unavailable(fmt::format("read: {}", strerror(errno)));
      got += static_cast<size_t>(r);
    }
    return {};
  }

  core::Status writeFull(const unsigned char* buf, size_t n) {
    size_t sent = 0;
    while (sent < n) {
      ssize_t w = ::send(fd_, buf + sent, n - sent, MSG_NOSIGNAL);
      if (w <= 0) return core::unavailable(fmt::format("write: {}", strerror(errno)));
      sent += static_cast<size_t>(w);
    }
    return {};
  }

 private:
  int fd_ = -1;
};

// The server's greeting: its capability flags (a server without TLS says so here).
core::Result<uint32_t> readGreeting(Socket& s) {
  unsigned char header[4];
  if (auto st = s.readFull(header, 4); !st) return st.error();
  const size_t len = header[0] | (header[1] << 8) | (header[2] << 16);
  if (len < 4 || len > 1 << 16) return core::unavailable("not a MySQL greeting");
  std::vector<unsigned char> p(len);
  if (auto st = s.readFull(p.data(), len); !st) return st.error();
  auto g = parseGreeting(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()));
  if (!g) return g.error();
  return g->capabilities;
}

std::string tlsError(const char* what) {
  const unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return fmt::format("{}: {}", what, e != 0 ? buf : strerror(errno));
}

// A TLS handshake on `s` (connected, and past any STARTTLS) and the leaf certificate the server
// presented, as PEM.
core::Result<std::string> handshakeCertificate(Socket& s, const std::string& host, int port) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return core::internal(tlsError("SSL_CTX_new"));
  // No verification here: the certificate is compared with the Secret's, not trusted.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return core::internal(tlsError("SSL_new"));
  SSL_set_fd(ssl.get(), s.fd());
  SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  if (SSL_connect(ssl.get()) != 1) {
    return core::unavailable(fmt::format("{}:{}: {}", host, port, tlsError("TLS handshake failed")));
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl.get()), X509_free);
  SSL_shutdown(ssl.get());
  if (!cert) return core::unavailable(fmt::format("{}:{} presented no certificate", host, port));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return core::internal(tlsError("PEM_write_bio_X509"));
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

core::Result<Greeting> parseGreeting(std::string_view p) {
  if (p.empty()) return core::unavailable("an empty MySQL greeting");
  const auto byte = [&p](size_t i) { return static_cast<unsigned char>(p[i]); };
  if (byte(0) == 0xff) {
    // An error packet instead of a greeting (too many connections, host blocked, ...): its text,
    // bounded, with bytes that are not printable ASCII shown as '?' (it goes into messages).
    const size_t msg = p.size() > 9 && p[3] == '#' ? 9 : std::min<size_t>(3, p.size());
    std::string text(p.substr(msg, 512));
    for (char& c : text) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return core::unavailable("the server refused the connection: " + text);
  }
  if (byte(0) != 10) return core::unavailable(fmt::format("unsupported MySQL protocol version {}", byte(0)));
  const size_t end = p.find('\0', 1);
  if (end == std::string_view::npos) return core::unavailable("a truncated MySQL greeting");
  if (end - 1 > 255) return core::unavailable("a MySQL greeting with an over-long server version");
  Greeting g;
  g.serverVersion = std::string(p.substr(1, end - 1));
  const size_t i = end + 1 + 4 + 8 + 1;  // NUL, thread id, auth data part 1, filler
  if (i + 2 > p.size()) return core::unavailable("a truncated MySQL greeting");
  g.capabilities = byte(i) | (byte(i + 1) << 8);
  if (i + 7 <= p.size()) g.capabilities |= static_cast<uint32_t>(byte(i + 5) | (byte(i + 6) << 8)) << 16;
  return g;
}

core::Result<std::string> fetchServedCertificate(const std::string& host, int port, std::chrono::seconds timeout) {
  Socket s;
  if (auto st = s.connect(host, port, timeout); !st) return st.error();
  auto caps = readGreeting(s);
  if (!caps) return core::unavailable(fmt::format("{}:{}: {}", host, port, caps.error().message));
  if (!(*caps & kClientSsl)) return core::unavailable(fmt::format("{}:{} does not offer TLS", host, port));

  // SSLRequest: capability flags, max packet size, character set, 23 reserved bytes; sequence 1.
  const uint32_t flags = kClientLongPassword | kClientProtocol41 | kClientSsl | kClientSecureConnection;
  unsigned char req[4 + 32] = {32, 0, 0, 1};
  for (int b = 0; b < 4; ++b) req[4 + b] = static_cast<unsigned char>(flags >> (8 * b));
  req[4 + 6] = 0x00;  // max packet size 16 MiB (0x01000000), little-endian
  req[4 + 7] = 0x01;
  req[4 + 8] = 45;  // utf8mb4_general_ci
  if (auto st = s.writeFull(req, sizeof req); !st) return st.error();

  return handshakeCertificate(s, host, port);
}

core::Result<std::string> fetchTlsCertificate(const std::string& host, int port, std::chrono::seconds timeout) {
  Socket s;
  if (auto st = s.connect(host, port, timeout); !st) return st.error();
  return handshakeCertificate(s, host, port);
}

std::optional<std::string> tlsReloadStatement(const std::string& serverVersion) {
  // A server's greeting is untrusted: MAJOR.MINOR.PATCH read with from_chars, at most 9 digits a
  // part, nothing thrown (a version such as 99999999999.0.0 once took the operator down).
  // MariaDB before 11 may announce itself as "5.5.5-10.11.6-MariaDB" to old clients.
  const std::string_view v = std::string_view(serverVersion).substr(serverVersion.rfind("5.5.5-", 0) == 0 ? 6 : 0);
  int parts[3] = {0, 0, 0};
  const char* p = v.data();
  const char* end = v.data() + v.size();
  for (int i = 0; i < 3; ++i) {
    const char* digits = p;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    if (p == digits || p - digits > 9) return std::nullopt;
    std::from_chars(digits, p, parts[i]);
    if (i < 2) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  auto atLeast = [&](int a, int b, int c) { return std::tie(parts[0], parts[1], parts[2]) >= std::tie(a, b, c); };
  if (v.find("MariaDB") != std::string_view::npos) {
    if (atLeast(10, 4, 0)) return std::string("FLUSH SSL");
    return std::nullopt;
  }
  if (atLeast(8, 0, 16)) return std::string("ALTER INSTANCE RELOAD TLS");
  return std::nullopt;
}

}  // namespace mysqlop::dbclient
