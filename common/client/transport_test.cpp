// Transport tests against real HTTPS servers on 127.0.0.1 (port 0) with a CA made at test time.
#include "common/client/transport.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "common/client/rest_client.h"
#include "common/testing/test_pki.h"
#include "common/testing/tls_server.h"

namespace mysqlop::client {
namespace {

using namespace std::chrono;
using core::ErrorCode;
using testing::TestPki;
using testing::TlsServer;

const TestPki& pki() {
  static TestPki p;
  return p;
}

testing::KeyPair serving() {
  return pki().issue({.commonName = "sandbox-apiserver", .dnsNames = {"localhost"},
                      .ipAddresses = {"127.0.0.1"}, .serverAuth = true});
}

RestConfig configFor(const std::string& server) {
  RestConfig c;
  c.server = server;
  c.caPem = pki().ca().certPem;
  c.source = "test config";
  return c;
}

std::unique_ptr<Transport> transport(const RestConfig& cfg, TransportOptions o = {}) {
  auto t = Transport::create(cfg, o);
  REQUIRE(t);
  return std::move(*t);
}

kube::ApiRequest get(std::string path) { return {"GET", std::move(path), "", "", "get", "test"}; }

// Runs `fn` and returns how long it took.
template <typename F>
milliseconds timed(F&& fn) {
  auto start = steady_clock::now();
  fn();
  return duration_cast<milliseconds>(steady_clock::now() - start);
}

TEST_CASE("mTLS: a client certificate from the CA is accepted, others are refused",
          "[client][transport]") {
  TlsServer srv(serving(), pki().ca().certPem);
  srv.server().Get("/api", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.ssl ? "{\"kind\":\"APIVersions\"}" : "{}", "application/json");
  });
  srv.start();

  auto client = pki().issue({.commonName = "admin", .clientAuth = true});
  RestConfig cfg = configFor(srv.url());
  cfg.clientCertPem = client.certPem;
  cfg.clientKeyPem = client.keyPem;
  auto ok = transport(cfg)->send(get("/api"));
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body == "{\"kind\":\"APIVersions\"}");

  auto anonymous = transport(configFor(srv.url()))->send(get("/api"));
  REQUIRE_FALSE(anonymous);
  CHECK(anonymous.error().code == ErrorCode::kUnavailable);

  TestPki otherCa("someone-else");
  auto stranger = otherCa.issue({.commonName = "admin", .clientAuth = true});
  cfg.clientCertPem = stranger.certPem;
  cfg.clientKeyPem = stranger.keyPem;
  auto refused = transport(cfg)->send(get("/api"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("the server certificate must chain to the configured CA", "[client][transport]") {
  TlsServer srv(serving());
  srv.server().Get("/api", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  srv.start();

  TestPki otherCa("not-the-cluster-ca");
  RestConfig cfg = configFor(srv.url());
  cfg.caPem = otherCa.ca().certPem;
  auto r = transport(cfg)->send(get("/api"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(r.error().message, Catch::Contains("cannot verify the server certificate"));

  cfg.caPem.clear();
  cfg.insecureSkipTlsVerify = true;
  CHECK(transport(cfg)->send(get("/api")));
}

TEST_CASE("only the configured CA is trusted, not the machine's (SSL_CERT_FILE)", "[client][transport]") {
  // The server's certificate comes from a CA the machine trusts, not from the cluster's.
  TestPki publicCa("a-public-ca");
  TlsServer srv(publicCa.issue({.commonName = "impostor", .dnsNames = {"localhost"}, .ipAddresses = {"127.0.0.1"}, .serverAuth = true}));
  srv.server().Get("/api", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
  srv.start();
  char path[] = "/tmp/mysqlop-public-ca-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string pem = publicCa.ca().certPem;
  REQUIRE(::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()));
  ::close(fd);
  const char* before = std::getenv("SSL_CERT_FILE");
  const std::string saved = before ? before : "";
  ::setenv("SSL_CERT_FILE", path, 1);
  auto r = transport(configFor(srv.url()))->send(get("/api"));  // the cluster CA: pki()'s
  if (before) ::setenv("SSL_CERT_FILE", saved.c_str(), 1); else ::unsetenv("SSL_CERT_FILE");
  ::unlink(path);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("cannot verify the server certificate"));
}

TEST_CASE("requests are rate-limited on the client: a burst, then the QPS", "[client][transport]") {
  TlsServer srv(serving());
  srv.server().Get("/api", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
  srv.start();
  // 5 at once, then 50 a second: 30 requests take at least (30 - 5) / 50 = 0.5 s.
  auto limited = transport(configFor(srv.url()), {.qps = 50, .burst = 5});
  const auto took = timed([&] {
    for (int i = 0; i < 30; ++i) REQUIRE(limited->send(get("/api")));
  });
  CHECK(took >= milliseconds{480});
  CHECK(took < milliseconds{3000});
}

TEST_CASE("client TLS material is checked up front", "[client][transport]") {
  auto a = pki().issue({.commonName = "a", .clientAuth = true});
  auto b = pki().issue({.commonName = "b", .clientAuth = true});
  RestConfig cfg = configFor("https://127.0.0.1:1");
  cfg.clientCertPem = a.certPem;
  cfg.clientKeyPem = b.keyPem;
  auto mismatch = Transport::create(cfg);
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message == "test config: client-certificate and client-key do not match");

  // A fake PEM, assembled so that no file in the repository looks like it holds a key.
  const std::string marker = std::string("PRIVATE") + " KEY-----";
  cfg.clientKeyPem = "-----BEGIN " + marker + "\nnot a key\n-----END " + marker + "\n";
  auto garbled = Transport::create(cfg);
  REQUIRE_FALSE(garbled);
  CHECK(garbled.error().message.find("not a key") == std::string::npos);

  for (const char* server : {"127.0.0.1:6443", "https://", "https://h:99999", "https://h:x"}) {
    INFO(server);
    auto bad = Transport::create(configFor(server));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::kInvalid);
  }
}

TEST_CASE("bearer tokens are sent and keep-alive reuses one connection", "[client][transport]") {
  TlsServer srv(serving());
  std::mutex mu;
  std::vector<std::string> auths;
  std::set<int> ports;
  srv.server().Get("/api/v1/namespaces", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    auths.push_back(req.get_header_value("Authorization"));
    ports.insert(req.remote_port);
    res.set_content("{}", "application/json");
  });
  srv.start();

  RestConfig cfg = configFor(srv.url());
  cfg.token = "sekret-token";
  auto t = transport(cfg);
  for (int i = 0; i < 3; ++i) REQUIRE(t->send(get("/api/v1/namespaces")));
  std::lock_guard lock(mu);
  CHECK(auths == std::vector<std::string>(3, "Bearer sekret-token"));
  CHECK(ports.size() == 1);
}

TEST_CASE("a keep-alive connection the server closed while idle is replaced transparently",
          "[client][transport]") {
  TlsServer srv(serving());
  srv.server().set_keep_alive_timeout(1);
  std::mutex mu;
  std::set<int> ports;
  srv.server().Get("/api", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    ports.insert(req.remote_port);
    res.set_content("{}", "application/json");
  });
  srv.start();
  auto t = transport(configFor(srv.url()));
  REQUIRE(t->send(get("/api")));
  std::this_thread::sleep_for(2500ms);  // the server drops the idle connection
  auto again = t->send(get("/api"));
  REQUIRE(again);
  CHECK(again->status == 200);
  std::lock_guard lock(mu);
  CHECK(ports.size() == 2);
}

// A watch stream written in pieces of the given sizes (0 = all at once).
void serveStream(TlsServer& srv, const std::string& path, std::string body, size_t piece) {
  srv.server().Get(path, [body, piece](const httplib::Request&, httplib::Response& res) {
    auto offset = std::make_shared<size_t>(0);
    auto rng = std::make_shared<std::mt19937>(7);
    res.set_chunked_content_provider("application/json", [=](size_t, httplib::DataSink& sink) {
      if (*offset >= body.size()) {
        sink.done();
        return true;
      }
      size_t n = piece == 0 ? body.size() : piece == SIZE_MAX ? 1 + (*rng)() % 97 : piece;
      n = std::min(n, body.size() - *offset);
      if (!sink.write(body.data() + *offset, n)) return false;
      *offset += n;
      return true;
    });
  });
}

std::string watchBody() {
  std::string s;
  for (int i = 1; i <= 40; ++i) {
    nlohmann::json ev = {{"type", i % 7 == 0 ? "BOOKMARK" : i % 2 ? "ADDED" : "MODIFIED"},
                         {"object", {{"kind", "Secret"}, {"apiVersion", "v1"},
                                     {"metadata", {{"name", "s-" + std::to_string(i)},
                                                   {"resourceVersion", std::to_string(i)}}},
                                     {"data", {{"k", std::string(i * 13, 'x')}}}}}};
    s += ev.dump() + "\n";
  }
  return s;
}

TEST_CASE("a chunked watch stream decodes the same in 1-byte and random-sized chunks",
          "[client][transport][watch]") {
  TlsServer srv(serving());
  std::string body = watchBody();
  serveStream(srv, "/api/v1/secrets", body, 0);
  serveStream(srv, "/api/v1/namespaces/one/secrets", body, 1);
  serveStream(srv, "/api/v1/namespaces/random/secrets", body, SIZE_MAX);
  srv.start();

  auto cli = RestClient::create(configFor(srv.url()));
  REQUIRE(cli);
  auto collect = [&](const std::string& ns) {
    std::vector<std::string> seen;
    auto st = (*cli)->watch(kube::kSecrets, ns, {.timeoutSeconds = 30}, [&](kube::WatchEvent&& e) {
      seen.push_back(std::string(kube::watchEventTypeName(e.type)) + "/" +
                     e.object["metadata"].value("resourceVersion", "") + "/" +
                     std::to_string(e.object.dump().size()));
      return true;
    });
    REQUIRE(st);
    return seen;
  };
  auto whole = collect("");
  REQUIRE(whole.size() == 40);
  CHECK(whole[6].rfind("BOOKMARK/7/", 0) == 0);
  CHECK(collect("one") == whole);
  CHECK(collect("random") == whole);
}

TEST_CASE("a stalled server trips the read deadline", "[client][transport]") {
  TlsServer srv(serving());
  srv.server().Get("/stall", [&](const httplib::Request&, httplib::Response& res) {
    for (int i = 0; i < 100 && !srv.stopping(); ++i) std::this_thread::sleep_for(50ms);
    res.set_content("{}", "application/json");
  });
  srv.server().Get("/api/v1/pods", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t off, httplib::DataSink& sink) {
      if (off == 0) {
        std::string first = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"p\"}}}\n";
        return sink.write(first.data(), first.size());
      }
      for (int i = 0; i < 100 && !srv.stopping(); ++i) std::this_thread::sleep_for(50ms);
      return false;
    });
  });
  srv.start();

  TransportOptions o;
  o.readTimeout = 700ms;
  auto t = transport(configFor(srv.url()), o);
  core::Result<HttpResponse> r = core::internal("unset");
  auto took = timed([&] { r = t->send(get("/stall")); });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(took >= 600ms);
  CHECK(took < 3s);

  // A stream that delivered data and then went silent.
  int events = 0;
  core::Result<int> s = 0;
  took = timed([&] {
    s = t->stream(get("/api/v1/pods?watch=true"), 700ms, [&](std::string_view) { ++events; return true; });
  });
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kTimeout);
  CHECK(events >= 1);
  CHECK(took < 3s);
}

// A listener whose accept queue is full: new connections hang in SYN_SENT.
class BlackholeListener {
 public:
  BlackholeListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 0) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    for (int i = 0; i < 3; ++i) {  // fill the queue with connections nobody accepts
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers_.push_back(c);
    }
    std::this_thread::sleep_for(50ms);
  }
  ~BlackholeListener() {
    for (int c : fillers_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

// A listener that accepts TCP and then never speaks (the TLS handshake stalls).
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Starts `op` on a thread, requests stop after `after`, and returns how long the operation
// took to return once stop was requested, plus its error.
template <typename Op>
std::pair<milliseconds, core::Error> cancelAfter(milliseconds after, Op op) {
  std::stop_source stop;
  std::promise<core::Error> done;
  auto fut = done.get_future();
  std::thread th([&] { done.set_value(op(stop.get_token())); });
  std::this_thread::sleep_for(after);
  auto t0 = steady_clock::now();
  stop.request_stop();
  bool finished = fut.wait_for(5s) == std::future_status::ready;
  auto took = duration_cast<milliseconds>(steady_clock::now() - t0);
  th.join();
  REQUIRE(finished);
  return {took, fut.get()};
}

TEST_CASE("cancel during connect, handshake and read returns within 1 s", "[client][transport]") {
  TransportOptions o;
  o.connectTimeout = 30s;
  o.readTimeout = 30s;

  SECTION("connect that never completes") {
    BlackholeListener hole;
    std::string url = "https://127.0.0.1:" + std::to_string(hole.port());
    {  // the listener really stalls the connect phase: a short connect timeout trips
      TransportOptions quick = o;
      quick.connectTimeout = 300ms;
      auto r = transport(configFor(url), quick)->send(get("/api"));
      REQUIRE_FALSE(r);
      CHECK_THAT(r.error().message, Catch::Contains("cannot connect"));
    }
    auto t = transport(configFor(url), o);
    auto [took, err] = cancelAfter(300ms, [&](std::stop_token st) {
      auto r = t->send(get("/api"), st);
      return r ? core::internal("unexpected success") : r.error();
    });
    CHECK(took < 1s);
    CHECK(err.reason == "Canceled");
  }
  SECTION("TLS handshake with a silent peer") {
    SilentListener silent;
    auto t = transport(configFor("https://127.0.0.1:" + std::to_string(silent.port())), o);
    auto [took, err] = cancelAfter(300ms, [&](std::stop_token st) {
      auto r = t->send(get("/api"), st);
      return r ? core::internal("unexpected success") : r.error();
    });
    CHECK(took < 1s);
    CHECK(err.reason == "Canceled");
  }
  SECTION("an idle watch stream") {
    TlsServer srv(serving());
    srv.server().Get("/api/v1/secrets", [&](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink& sink) {
        for (int i = 0; i < 200 && !srv.stopping() && sink.is_writable(); ++i) {
          std::this_thread::sleep_for(25ms);
        }
        return false;
      });
    });
    srv.start();
    auto cli = RestClient::create(configFor(srv.url()), {.transport = o});
    REQUIRE(cli);
    auto [took, err] = cancelAfter(300ms, [&](std::stop_token st) {
      auto r = (*cli)->watch(kube::kSecrets, "", {}, [](kube::WatchEvent&&) { return true; }, st);
      return r ? core::internal("unexpected success") : r.error();
    });
    CHECK(took < 1s);
    CHECK(err.reason == "Canceled");
  }
  SECTION("a stop requested before the request starts") {
    SilentListener silent;
    auto t = transport(configFor("https://127.0.0.1:" + std::to_string(silent.port())), o);
    std::stop_source stop;
    stop.request_stop();
    milliseconds took = timed([&] {
      auto r = t->send(get("/api"), stop.get_token());
      REQUIRE_FALSE(r);
      CHECK(r.error().reason == "Canceled");
    });
    CHECK(took < 100ms);
  }
}

}  // namespace
}  // namespace mysqlop::client
