#include "common/client/transport.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

#include "common/client/status_error.h"
#include "common/core/token_bucket.h"
#include "common/client/token_source.h"

namespace mysqlop::client {
namespace {

using std::chrono::milliseconds;

struct ServerUrl {
  bool tls = true;
  std::string host;
  int port = 443;
  std::string prefix;  // path prefix without trailing '/'
};

core::Result<ServerUrl> parseServer(std::string_view url, std::string_view source) {
  ServerUrl u;
  auto bad = [&](std::string_view why) {
    return core::invalid(fmt::format("{}: server \"{}\": {}", source, url, why));
  };
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
    u.tls = false;
    u.port = 80;
  } else {
    return bad("must start with https:// or http://");
  }
  auto slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    u.prefix = std::string(rest.substr(slash));
    while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  }
  std::string_view portText;
  if (!hostport.empty() && hostport.front() == '[') {  // [IPv6]:port
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    u.host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return bad("expected ':' after the IPv6 address");
      portText = hostport.substr(close + 2);
    }
  } else {
    auto colon = hostport.rfind(':');
    u.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) portText = hostport.substr(colon + 1);
  }
  if (u.host.empty()) return bad("no host");
  if (!portText.empty()) {
    int p = 0;
    for (char c : portText) {
      if (c < '0' || c > '9') return bad("port is not a number");
      p = p * 10 + (c - '0');
      if (p > 65535) return bad("port out of range");
    }
    if (p == 0) return bad("port out of range");
    u.port = p;
  }
  return u;
}

std::string opensslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// Holds a dup of the connection's socket so that a cancelling thread can shut it down without
// racing httplib's own close (a dup'd descriptor cannot be reused under us).
class SocketGuard {
 public:
  ~SocketGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  void adopt(int sock) {
    std::lock_guard lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::dup(sock);
    if (aborted_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  void abort() {
    std::lock_guard lock(mu_);
    aborted_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }
  bool aborted() const {
    std::lock_guard lock(mu_);
    return aborted_;
  }

 private:
  mutable std::mutex mu_;
  int fd_ = -1;          // guarded by mu_
  bool aborted_ = false;  // guarded by mu_
};

// One request in flight: lets a stop callback on another thread retry the abort until the
// request has returned.
class InFlight {
 public:
  explicit InFlight(SocketGuard& g) : guard_(g), thread_(std::this_thread::get_id()) {}
  void cancel() {
    guard_.abort();
    if (std::this_thread::get_id() == thread_) return;  // called from our own receiver
    std::unique_lock lock(mu_);
    while (!done_) {
      cv_.wait_for(lock, milliseconds{20});
      if (!done_) guard_.abort();
    }
  }
  void finish() {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

 private:
  SocketGuard& guard_;
  std::thread::id thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // guarded by mu_
};

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};

}  // namespace

struct Transport::Conn {
  std::unique_ptr<httplib::ClientImpl> cli;
  std::shared_ptr<SocketGuard> guard = std::make_shared<SocketGuard>();
};

struct Transport::Impl {
  ServerUrl url;
  RestConfig cfg;
  TransportOptions opts;
  std::unique_ptr<X509, Deleter<X509, X509_free>> clientCert;
  std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>> clientKey;
  std::vector<std::unique_ptr<X509, Deleter<X509, X509_free>>> caCerts;
  // The configured CA as a file httplib reads: given only a certificate store, cpp-httplib 0.11
  // also loads the machine's default CA locations into it (SSL_CTX_set_default_verify_paths,
  // which honours SSL_CERT_FILE), and any public CA would vouch for the API server. An anonymous
  // in-memory file (memfd) holds the PEM; -1 when no CA is configured (then the machine's roots
  // are used, as client-go does).
  int caFile = -1;
  std::unique_ptr<core::TokenBucket> limiter;  // null: unlimited
  // Waits for the rate limit's token (giving up when stopped).
  void throttle(std::stop_token stop) const {
    if (!limiter) return;
    auto wait = limiter->reserve();
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(until - std::chrono::steady_clock::now(),
                                                                     std::chrono::milliseconds(50)));
    }
  }
  std::unique_ptr<TokenSource> tokens;
  ~Impl() {
    if (caFile >= 0) ::close(caFile);
  }

  std::mutex poolMu;
  std::vector<std::unique_ptr<Conn>> idleConns;  // guarded by poolMu

  std::unique_ptr<Conn> newConn(milliseconds readTimeout, bool keepAlive) const {
    auto c = std::make_unique<Conn>();
    if (url.tls) {
      std::unique_ptr<httplib::SSLClient> ssl;
      if (clientCert) {
        ssl = std::make_unique<httplib::SSLClient>(url.host, url.port, clientCert.get(),
                                                   clientKey.get());
      } else {
        ssl = std::make_unique<httplib::SSLClient>(url.host, url.port);
      }
      if (caFile >= 0) ssl->set_ca_cert_path(fmt::format("/proc/self/fd/{}", caFile));
      ssl->enable_server_certificate_verification(!cfg.insecureSkipTlsVerify);
      c->cli = std::move(ssl);
    } else {
      c->cli = std::make_unique<httplib::ClientImpl>(url.host, url.port);
    }
    auto ms = [](milliseconds d) { return std::pair<time_t, time_t>(d.count() / 1000, d.count() % 1000 * 1000); };
    auto [cs, cu] = ms(opts.connectTimeout);
    auto [rs, ru] = ms(readTimeout);
    auto [ws, wu] = ms(opts.writeTimeout);
    c->cli->set_connection_timeout(cs, cu);
    c->cli->set_read_timeout(rs, ru);
    c->cli->set_write_timeout(ws, wu);
    c->cli->set_keep_alive(keepAlive);
    c->cli->set_tcp_nodelay(true);
    std::weak_ptr<SocketGuard> weak = c->guard;
    c->cli->set_socket_options([weak](socket_t sock) {
      if (auto g = weak.lock()) g->adopt(sock);
    });
    return c;
  }

  // A pooled keep-alive connection (reused = true) or a new one.
  std::unique_ptr<Conn> takeIdle(bool& reused) {
    std::lock_guard lock(poolMu);
    reused = !idleConns.empty();
    if (!reused) return newConn(opts.readTimeout, true);
    auto c = std::move(idleConns.back());
    idleConns.pop_back();
    return c;
  }

  void giveBack(std::unique_ptr<Conn> c) {
    if (c->guard->aborted()) return;
    std::lock_guard lock(poolMu);
    if (idleConns.size() < opts.maxIdleConnections) idleConns.push_back(std::move(c));
  }

  core::Result<httplib::Request> buildRequest(const kube::ApiRequest& r) const {
    httplib::Request req;
    req.method = r.method;
    req.path = url.prefix + r.path;
    req.headers.emplace("Accept", "application/json");
    req.headers.emplace("User-Agent", opts.userAgent);
    if (!r.body.empty() || !r.contentType.empty()) {
      req.headers.emplace("Content-Type", r.contentType.empty() ? "application/json" : r.contentType);
      req.body = r.body;
    }
    if (tokens) {
      auto t = tokens->token();
      if (!t) return t.error();
      if (!t->empty()) req.headers.emplace("Authorization", "Bearer " + *t);
    }
    return req;
  }

  // Runs `req` on `conn`, aborting it if `stop` fires. Returns the httplib error.
  httplib::Error run(Conn& conn, httplib::Request& req, httplib::Response& res,
                     std::stop_token stop) const {
    if (stop.stop_requested()) return httplib::Error::Canceled;
    InFlight flight(*conn.guard);
    httplib::Error err = httplib::Error::Success;
    {
      std::stop_callback onStop(stop, [&flight] { flight.cancel(); });
      conn.cli->send(req, res, err);
      flight.finish();
    }  // ~stop_callback waits for a concurrent cancel() to see finish()
    if (stop.stop_requested() && err != httplib::Error::Success) return httplib::Error::Canceled;
    return err;
  }

  // `idle`: how long the connection had been silent when it failed.
  core::Error transportError(httplib::Error err, const Conn& conn, milliseconds idle,
                             milliseconds readTimeout, const kube::ApiRequest& r) const {
    std::string where = fmt::format("{} {}{}", r.method, cfg.server, r.path);
    switch (err) {
      case httplib::Error::Canceled: {
        core::Error e(core::ErrorCode::kUnavailable, "request cancelled: " + where);
        e.reason = "Canceled";
        return e;
      }
      case httplib::Error::Connection:
      case httplib::Error::ConnectionTimeout:
        return core::unavailable(fmt::format("cannot connect to {}: {}", cfg.server,
                                             httplib::to_string(err)));
      case httplib::Error::SSLServerVerification: {
        long v = 0;
        if (auto* ssl = dynamic_cast<const httplib::SSLClient*>(conn.cli.get())) {
          v = ssl->get_openssl_verify_result();
        }
        return core::unavailable(fmt::format(
            "TLS: cannot verify the server certificate of {}: {}", cfg.server,
            v ? X509_verify_cert_error_string(v) : "host name does not match the certificate"));
      }
      case httplib::Error::SSLConnection:
        return core::unavailable(fmt::format("TLS handshake with {} failed", cfg.server));
      case httplib::Error::Read:
        if (idle + milliseconds{50} >= readTimeout) {
          return core::timeout(fmt::format("no answer within the read timeout ({} ms): {}",
                                           readTimeout.count(), where));
        }
        return core::unavailable("connection closed while reading: " + where);
      default:
        return core::unavailable(fmt::format("{}: {}", where, httplib::to_string(err)));
    }
  }
};

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

Transport::Transport(std::unique_ptr<Impl> impl, std::string server)
    : impl_(std::move(impl)), server_(std::move(server)) {}

Transport::~Transport() = default;

core::Result<std::unique_ptr<Transport>> Transport::create(const RestConfig& cfg,
                                                           TransportOptions opts) {
  // A peer that closes while we write must be an error, never a signal that kills the process.
  static std::once_flag ignorePipe;
  std::call_once(ignorePipe, [] { std::signal(SIGPIPE, SIG_IGN); });

  std::string source = cfg.source.empty() ? "client config" : cfg.source;
  auto url = parseServer(cfg.server, source);
  if (!url) return url.error();
  auto impl = std::make_unique<Impl>();
  impl->url = std::move(*url);
  impl->cfg = cfg;
  impl->opts = opts;
  if (opts.qps > 0) impl->limiter = std::make_unique<core::TokenBucket>(opts.qps, opts.burst, *opts.clock);

  if (!cfg.caPem.empty()) {
    std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(
        BIO_new_mem_buf(cfg.caPem.data(), static_cast<int>(cfg.caPem.size())));
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      impl->caCerts.emplace_back(c);
    }
    ERR_clear_error();  // the loop ends on "no start line"
    if (impl->caCerts.empty()) {
      return core::invalid(source + ": certificate-authority holds no PEM certificate");
    }
    impl->caFile = ::memfd_create("mysqlop-cluster-ca", MFD_CLOEXEC);
    if (impl->caFile < 0 ||
        ::write(impl->caFile, cfg.caPem.data(), cfg.caPem.size()) != static_cast<ssize_t>(cfg.caPem.size())) {
      return core::internal(source + ": cannot hold the certificate-authority in memory: " + std::strerror(errno));
    }
  }
  if (!cfg.clientCertPem.empty()) {
    std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> cb(
        BIO_new_mem_buf(cfg.clientCertPem.data(), static_cast<int>(cfg.clientCertPem.size())));
    impl->clientCert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (!impl->clientCert) {
      return core::invalid(source + ": client-certificate: cannot parse: " + opensslError());
    }
    std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> kb(
        BIO_new_mem_buf(cfg.clientKeyPem.data(), static_cast<int>(cfg.clientKeyPem.size())));
    impl->clientKey.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!impl->clientKey) {
      ERR_clear_error();  // never echo key material or parser detail about it
      return core::invalid(source + ": client-key: cannot parse the private key");
    }
    if (X509_check_private_key(impl->clientCert.get(), impl->clientKey.get()) != 1) {
      ERR_clear_error();
      return core::invalid(source + ": client-certificate and client-key do not match");
    }
  }
  if (!cfg.token.empty() || !cfg.tokenFile.empty()) {
    impl->tokens = std::make_unique<TokenSource>(cfg.token, cfg.tokenFile, *opts.clock,
                                                 opts.tokenRefresh);
  }
  std::string server = cfg.server;
  return std::unique_ptr<Transport>(new Transport(std::move(impl), std::move(server)));
}

core::Result<HttpResponse> Transport::send(const kube::ApiRequest& r, std::stop_token stop) {
  impl_->throttle(stop);
  auto req = impl_->buildRequest(r);
  if (!req) return req.error();
  bool reused = false;
  auto conn = impl_->takeIdle(reused);
  httplib::Response res;
  const core::Clock& clock = *impl_->opts.clock;
  core::MonoTime lastActivity = clock.monotonic();
  bool answered = false;
  req->response_handler = [&](const httplib::Response&) {
    lastActivity = clock.monotonic();
    answered = true;
    return true;
  };
  httplib::Error err = impl_->run(*conn, *req, res, stop);
  if (err != httplib::Error::Success && reused && !answered && !stop.stop_requested() &&
      (err == httplib::Error::Read || err == httplib::Error::Write)) {
    // The server closed this idle keep-alive connection before our request reached it (it
    // got no answer at all): send it once more on a fresh connection, as Go's transport does.
    conn = impl_->newConn(impl_->opts.readTimeout, true);
    res = httplib::Response();
    lastActivity = clock.monotonic();
    err = impl_->run(*conn, *req, res, stop);
  }
  if (err != httplib::Error::Success) {
    auto idle = std::chrono::duration_cast<milliseconds>(clock.monotonic() - lastActivity);
    return impl_->transportError(err, *conn, idle, impl_->opts.readTimeout, r);
  }
  HttpResponse out;
  out.status = res.status;
  out.body = std::move(res.body);
  for (auto& [k, v] : res.headers) out.headers.emplace_back(k, v);
  impl_->giveBack(std::move(conn));
  return out;
}

core::Result<int> Transport::stream(const kube::ApiRequest& r, milliseconds readTimeout,
                                    const std::function<bool(std::string_view)>& onData,
                                    std::stop_token stop) {
  impl_->throttle(stop);
  auto req = impl_->buildRequest(r);
  if (!req) return req.error();
  auto conn = impl_->newConn(readTimeout, /*keepAlive=*/false);
  int status = 0;
  std::string retryAfter;
  std::string errorBody;
  bool consumerStopped = false;
  const core::Clock& clock = *impl_->opts.clock;
  core::MonoTime lastActivity = clock.monotonic();
  req->response_handler = [&](const httplib::Response& res) {
    lastActivity = clock.monotonic();
    status = res.status;
    retryAfter = res.get_header_value("Retry-After");
    return true;
  };
  req->content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (stop.stop_requested()) return false;
    lastActivity = clock.monotonic();
    if (status < 200 || status > 299) {
      if (errorBody.size() < (1u << 20)) errorBody.append(data, n);
      return true;
    }
    if (!onData(std::string_view(data, n))) {
      consumerStopped = true;
      return false;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err = impl_->run(*conn, *req, res, stop);
  if (consumerStopped && !stop.stop_requested()) return status;
  if (err != httplib::Error::Success) {
    auto idle = std::chrono::duration_cast<milliseconds>(clock.monotonic() - lastActivity);
    return impl_->transportError(err, *conn, idle, readTimeout, r);
  }
  if (status < 200 || status > 299) return errorFromResponse(status, errorBody, retryAfter);
  return status;
}

}  // namespace mysqlop::client
