// The health probe against a real MariaDB started by the test (as a process of the machine), with
// TLS from a test CA: MariaDB is the second server flavour here (FLUSH SSL, its errors), and a
// quick one to start. The same probe against Oracle MySQL 9.7 (caching_sha2_password, ALTER
// INSTANCE RELOAD TLS, ERROR 3159) is proven by the end-to-end suite on the mysql:9.7.4 image.
#include "common/mysql/mysql_probe.h"
#include "common/mysql/served_certificate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <mutex>
#include <thread>
#include <catch2/catch.hpp>

#include "common/pki/pki.h"
#include "common/testing/mariadb_server.h"
#include "common/testing/tls_server.h"
#include "common/testing/test_pki.h"

namespace mysqlop::dbclient {
namespace {

using testing::MariaDbServer;
using testing::TestPki;

struct Fixture {
  TestPki pki{"mysql-test-ca"};
  testing::KeyPair good = pki.issue({.commonName = "my.demo.svc", .dnsNames = {"localhost", "my.demo.svc"},
                                     .ipAddresses = {"127.0.0.1"}, .serverAuth = true, .clientAuth = true});
  ProbeTarget target(const MariaDbServer& db, std::optional<ProbeTls> tls) const {
    return {"127.0.0.1", db.port(), "app", "apppw", std::move(tls), std::chrono::seconds{5}};
  }
};

void addUser(const MariaDbServer& db) {
  db.sql("CREATE USER 'app'@'%' IDENTIFIED BY 'apppw'; GRANT PROCESS ON *.* TO 'app'@'%';");
}

TEST_CASE("probe (MariaDB): TLS with the CA and host-name verification succeeds", "[community][health]") {
  Fixture f;
  MariaDbServer db(f.pki.ca().certPem, f.good, /*requireSecureTransport=*/true);
  addUser(db);
  auto r = probeMySQL(f.target(db, ProbeTls{f.pki.ca().certPem, true}));
  if (!r) FAIL(r.error().message);
  CHECK_THAT(r->serverVersion, Catch::Contains("MariaDB"));
  CHECK_THAT(r->tlsVersion, Catch::StartsWith("TLSv1."));
  CHECK_FALSE(r->tlsCipher.empty());
}

TEST_CASE("probe (MariaDB): a plain connection is refused under require_secure_transport", "[community][health]") {
  Fixture f;
  MariaDbServer db(f.pki.ca().certPem, f.good, /*requireSecureTransport=*/true);
  addUser(db);
  auto r = probeMySQL(f.target(db, std::nullopt));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::ErrorCode::kUnavailable);
  CHECK_THAT(r.error().message, Catch::Contains("ERROR 1045"));  // MariaDB's word for it
  // Without the requirement the same plain connection works.
  MariaDbServer lax(f.pki.ca().certPem, f.good, /*requireSecureTransport=*/false);
  addUser(lax);
  auto plain = probeMySQL(f.target(lax, std::nullopt));
  REQUIRE(plain);
  CHECK(plain->tlsVersion.empty());
  // What the server says of the requirement, as the enterprise operator reads it after an ops request.
  auto on = queryValue(f.target(db, ProbeTls{f.pki.ca().certPem, false}), "SELECT @@GLOBAL.require_secure_transport");
  REQUIRE(on);
  CHECK(*on == std::optional<std::string>("1"));
  auto off = queryValue(f.target(lax, std::nullopt), "SELECT @@GLOBAL.require_secure_transport");
  REQUIRE(off);
  CHECK(*off == std::optional<std::string>("0"));
  auto null = queryValue(f.target(lax, std::nullopt), "SELECT NULL");
  REQUIRE(null);
  CHECK_FALSE(null->has_value());
  auto bad = queryValue(f.target(lax, std::nullopt), "SELECT nonsense FROM nowhere");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == core::ErrorCode::kInvalid);
}

TEST_CASE("probe (MariaDB): a wrong CA or a certificate for another host fails with a clear message",
          "[community][health]") {
  Fixture f;
  MariaDbServer db(f.pki.ca().certPem, f.good, /*requireSecureTransport=*/true);
  addUser(db);
  TestPki other("someone-else");
  auto wrongCa = probeMySQL(f.target(db, ProbeTls{other.ca().certPem, false}));
  REQUIRE_FALSE(wrongCa);
  CHECK_THAT(wrongCa.error().message, Catch::Contains("ERROR 2026"));  // TLS/SSL error
  CHECK_THAT(wrongCa.error().message, Catch::Contains("TLS/SSL error"));

  db.rotate(f.pki.issue({.commonName = "wrong.example", .dnsNames = {"wrong.example"}, .serverAuth = true}));
  auto mismatch = probeMySQL(f.target(db, ProbeTls{f.pki.ca().certPem, true}));
  REQUIRE_FALSE(mismatch);
  CHECK_THAT(mismatch.error().message, Catch::Contains("ERROR 2026"));
  // The chain alone (no host-name check) still verifies.
  CHECK(probeMySQL(f.target(db, ProbeTls{f.pki.ca().certPem, false})));
}

std::string serial(const std::string& pem) { return pki::inspect(*pki::parseCertificate(pem)).serialHex; }

TEST_CASE("served certificate (MariaDB, FLUSH SSL): what a fresh handshake presents, before and after a reload", "[community][health]") {
  Fixture f;
  MariaDbServer db(f.pki.ca().certPem, f.good, /*requireSecureTransport=*/true);
  db.sql("CREATE USER 'app'@'%' IDENTIFIED BY 'apppw'; GRANT RELOAD, PROCESS ON *.* TO 'app'@'%';");
  auto served = fetchServedCertificate("127.0.0.1", db.port(), std::chrono::seconds{5});
  if (!served) FAIL(served.error().message);
  CHECK(serial(*served) == serial(f.good.certPem));

  // A renewal writes new files: the running server still presents the old certificate...
  const testing::KeyPair renewed = f.pki.issue({.commonName = "my.demo.svc", .dnsNames = {"localhost"}, .serverAuth = true});
  db.writeServing(renewed.certPem, renewed.keyPem);
  CHECK(serial(*fetchServedCertificate("127.0.0.1", db.port(), std::chrono::seconds{5})) == serial(f.good.certPem));
  // ...until it reloads them, chosen by its version; a connection opened before survives.
  auto before = probeMySQL(f.target(db, ProbeTls{f.pki.ca().certPem, false}));
  REQUIRE(before);
  const auto statement = tlsReloadStatement(before->serverVersion);
  REQUIRE(statement == "FLUSH SSL");
  REQUIRE(runStatement(f.target(db, ProbeTls{f.pki.ca().certPem, false}), *statement));
  CHECK(serial(*fetchServedCertificate("127.0.0.1", db.port(), std::chrono::seconds{5})) == serial(renewed.certPem));

  // A key that does not match the certificate is refused: the server keeps what it served.
  const testing::KeyPair other = f.pki.issue({.commonName = "x", .serverAuth = true});
  const testing::KeyPair third = f.pki.issue({.commonName = "y", .serverAuth = true});
  db.writeServing(other.certPem, third.keyPem);
  auto refused = runStatement(f.target(db, ProbeTls{f.pki.ca().certPem, false}), "FLUSH SSL");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == core::ErrorCode::kInvalid);
  CHECK_THAT(refused.error().message, Catch::Contains("refused \"FLUSH SSL\""));
  CHECK(serial(*fetchServedCertificate("127.0.0.1", db.port(), std::chrono::seconds{5})) == serial(renewed.certPem));

  auto nothing = fetchServedCertificate("127.0.0.1", 1, std::chrono::seconds{2});
  REQUIRE_FALSE(nothing);
  CHECK_THAT(nothing.error().message, Catch::Contains("cannot connect to 127.0.0.1:1"));
}

TEST_CASE("served certificate: a port that speaks TLS at once (the group port), one that asks for a client certificate included", "[community][health]") {
  // Group Replication's group communication port answers with a TLS handshake and asks for the
  // client's certificate: the server's is read all the same, as openssl s_client reads it.
  Fixture f;
  testing::TlsServer tls(f.good, f.pki.ca().certPem);
  tls.start();
  auto served = fetchTlsCertificate("127.0.0.1", tls.port(), std::chrono::seconds{5});
  if (!served) FAIL(served.error().message);
  CHECK(serial(*served) == serial(f.good.certPem));

  // A MySQL port greets first: that is no TLS server, and the answer says it failed.
  MariaDbServer db(f.pki.ca().certPem, f.good, /*requireSecureTransport=*/true);
  auto notTls = fetchTlsCertificate("127.0.0.1", db.port(), std::chrono::seconds{5});
  REQUIRE_FALSE(notTls);
  CHECK_THAT(notTls.error().message, Catch::Contains("TLS handshake failed"));
}

TEST_CASE("served certificate: the reload statement by server version, hostile versions refused without a throw", "[community][health]") {
  CHECK(tlsReloadStatement("10.11.6-MariaDB-0+deb12u1") == "FLUSH SSL");
  CHECK(tlsReloadStatement("5.5.5-10.4.2-MariaDB") == "FLUSH SSL");
  CHECK(tlsReloadStatement("10.3.39-MariaDB") == std::nullopt);
  CHECK(tlsReloadStatement("8.4.3") == "ALTER INSTANCE RELOAD TLS");
  CHECK(tlsReloadStatement("8.0.16") == "ALTER INSTANCE RELOAD TLS");
  CHECK(tlsReloadStatement("8.0.15") == std::nullopt);
  CHECK(tlsReloadStatement("5.7.44-log") == std::nullopt);
  CHECK(tlsReloadStatement("nonsense") == std::nullopt);
  CHECK(tlsReloadStatement("9.7.4-2") == "ALTER INSTANCE RELOAD TLS");  // Debian's Oracle MySQL
  // A hostile server's greeting: nothing thrown, no statement.
  for (const std::string& bad : std::vector<std::string>{"99999999999.0.0", "8.99999999999.0", "8.0.99999999999", "", "8", "8.", "8.0", "8.0.",
                                "-1.0.0", "8..16", std::string(100000, '9'), std::string("8.0.16\xff\xfe", 9)}) {
    CHECK_NOTHROW(tlsReloadStatement(bad));
  }
  CHECK(tlsReloadStatement("99999999999.0.0") == std::nullopt);
  CHECK(tlsReloadStatement(std::string("8.0.16\xff", 7)) == "ALTER INSTANCE RELOAD TLS");
}

TEST_CASE("served certificate: a greeting read without trusting it", "[community][health]") {
  // protocol 10, version, NUL, thread id (4), auth data (8), filler, capabilities (2), charset,
  // status (2), capabilities' upper half (2).
  auto greeting = [](const std::string& version) {
    std::string p = "\x0a" + version + std::string(1, '\0') + std::string(4, '\x01') + std::string(8, 'a') + std::string(1, '\0');
    p += std::string("\x00\x08", 2) + "\x2d" + std::string(2, '\0') + std::string("\x01\x00", 2);
    return p;
  };
  auto g = parseGreeting(greeting("9.7.4-2"));
  REQUIRE(g);
  CHECK(g->serverVersion == "9.7.4-2");
  CHECK(g->capabilities == 0x00010800);  // CLIENT_SSL among them
  // A server's bytes are not UTF-8 nor bounded: kept as sent, refused beyond 255.
  g = parseGreeting(greeting("8.0.16\xff\xfe"));
  REQUIRE(g);
  CHECK(g->serverVersion == "8.0.16\xff\xfe");
  CHECK_THAT(parseGreeting(greeting(std::string(300, '9'))).error().message, Catch::Contains("over-long server version"));
  CHECK_THAT(parseGreeting(std::string("\x0a" "9.7", 4)).error().message, Catch::Contains("truncated"));
  CHECK_THAT(parseGreeting("\x0a" + std::string("9.7") + std::string(1, '\0')).error().message, Catch::Contains("truncated"));
  CHECK_THAT(parseGreeting("").error().message, Catch::Contains("empty"));
  CHECK_THAT(parseGreeting("\x09").error().message, Catch::Contains("protocol version 9"));
  // An error packet instead: its text, bounded and printable.
  auto refused = parseGreeting(std::string("\xff\x10\x04#08004Too many connections\x01", 30));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == "the server refused the connection: Too many connections?");
  CHECK(parseGreeting(std::string("\xff", 1)).error().message == "the server refused the connection: ");
}

// A server that is not one: it greets, then asks the client to switch to mysql_clear_password
// (which sends the password as it is), and keeps whatever the client sends next.
class ClearPasswordBait {
 public:
  ClearPasswordBait() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ClearPasswordBait() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  // What the client sent after the switch request, once it has closed the connection.
  std::string received() {
    if (thread_.joinable()) thread_.join();
    std::lock_guard l(mu_);
    return received_;
  }

 private:
  static void send(int c, uint8_t seq, const std::string& payload) {
    std::string p(4, '\0');
    p[0] = static_cast<char>(payload.size() & 0xff);
    p[1] = static_cast<char>((payload.size() >> 8) & 0xff);
    p[2] = static_cast<char>((payload.size() >> 16) & 0xff);
    p[3] = static_cast<char>(seq);
    p += payload;
    (void)::write(c, p.data(), p.size());
  }
  void serve() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{3, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // Protocol 10: version, thread id, scramble part 1, filler, capabilities (PROTOCOL_41,
    // SECURE_CONNECTION, PLUGIN_AUTH; no SSL), charset, status, scramble length, reserved,
    // scramble part 2, the plugin.
    std::string g = std::string("\x0a") + "8.0.36-bait" + std::string(1, '\0') + std::string("\x01\x00\x00\x00", 4) + "abcdefgh" +
                    std::string(1, '\0') + std::string("\x00\x82", 2) + "\x2d" + std::string("\x02\x00", 2) +
                    std::string("\x08\x00", 2) + "\x15" + std::string(10, '\0') + "ijklmnopqrst" + std::string(1, '\0') +
                    "mysql_native_password" + std::string(1, '\0');
    send(c, 0, g);
    char buf[4096];
    ssize_t n = ::read(c, buf, sizeof buf);  // the handshake response
    if (n > 0) {
      send(c, 2, std::string("\xfe") + "mysql_clear_password" + std::string(1, '\0'));
      std::string got;
      while ((n = ::read(c, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
      std::lock_guard l(mu_);
      received_ = got;
    }
    ::close(c);
  }
  int fd_ = -1, port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::string received_;
};

TEST_CASE("probe: without TLS, a server asking for the password in clear does not get it", "[community][health]") {
  ClearPasswordBait bait;
  ProbeTarget plain{"127.0.0.1", bait.port(), "root", "s3cret-Pa55", std::nullopt, std::chrono::seconds{3}};
  auto r = probeMySQL(plain);
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(bait.received().find("s3cret-Pa55") == std::string::npos);
}

}  // namespace
}  // namespace mysqlop::dbclient
