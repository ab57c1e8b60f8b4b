// The health probe against a real MariaDB started by the test, with TLS from a test CA.
#include "community-operator/health/mysql_probe.h"

#include <catch2/catch.hpp>

#include "common/testing/mariadb_server.h"
#include "common/testing/test_pki.h"

namespace mysqlop::community {
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

TEST_CASE("probe: TLS with the CA and host-name verification succeeds", "[community][health]") {
  Fixture f;
  MariaDbServer db(f.pki.ca().certPem, f.good, /*requireSecureTransport=*/true);
  addUser(db);
  auto r = probeMySQL(f.target(db, ProbeTls{f.pki.ca().certPem, true}));
  if (!r) FAIL(r.error().message);
  CHECK_THAT(r->serverVersion, Catch::Contains("MariaDB"));
  CHECK_THAT(r->tlsVersion, Catch::StartsWith("TLSv1."));
  CHECK_FALSE(r->tlsCipher.empty());
}

TEST_CASE("probe: a plain connection is refused under require_secure_transport", "[community][health]") {
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
}

TEST_CASE("probe: a wrong CA or a certificate for another host fails with a clear message",
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

}  // namespace
}  // namespace mysqlop::community
