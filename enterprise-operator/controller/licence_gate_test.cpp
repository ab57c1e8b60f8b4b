#include "enterprise-operator/controller/licence_gate.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <prometheus/text_serializer.h>

#include "common/core/time_format.h"
#include "common/pki/pki.h"

namespace mysqlop::enterprise {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
const std::string kCluster = "c0ffee00-0000-4000-8000-000000000001";

struct Fixture {
  pki::PrivateKey caKey = *pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256});
  pki::Certificate ca = *pki::issueCertificate({.subject = {.commonName = "licence CA"}, .isCA = true,
                                                .keyUsages = {"cert sign"}, .notBefore = core::systemClock().now() - 24h,
                                                .notAfter = core::systemClock().now() + 24h * 3650},
                                               caKey, std::nullopt);
  fs::path dir = fs::temp_directory_path() / ("licence-gate-" + std::to_string(::getpid()));
  prometheus::Registry registry;
  std::atomic<int> changes{0};
  Fixture() { fs::create_directories(dir); }
  ~Fixture() { fs::remove_all(dir); }
  std::string licence(const std::string& cluster, std::chrono::hours validity) {
    auto k = pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256});
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(core::systemClock().now());
    return pki::issueCertificate({.subject = {.commonName = "Acme", .organizations = {"mysqlop-enterprise"}},
                                  .dnsNames = {cluster}, .notBefore = now - 1h, .notAfter = now + validity},
                                 *k, pki::Signer{ca, caKey})
        ->toPem();
  }
  std::string metrics() {
    prometheus::TextSerializer s;
    return s.Serialize(registry.Collect());
  }
};

}  // namespace

TEST_CASE("licence gate: no file, a wrong licence, then a good one appears without a restart", "[enterprise][licence]") {
  Fixture f;
  const fs::path file = f.dir / "license.pem";
  LicenceGate gate({.path = file.string(), .caPem = f.ca.toPem(), .filePoll = 50ms},
                   [] { return core::Result<std::string>(kCluster); }, f.registry, [&] { ++f.changes; });
  gate.start();
  auto s = gate.state();
  CHECK_FALSE(s.valid);
  CHECK(s.summary() == "licence invalid for cluster " + kCluster + ": cannot read the licence file " + file.string());
  CHECK(f.metrics().find("mysqlop_license_valid 0") != std::string::npos);

  std::ofstream(file) << f.licence("another-cluster", 24h);
  for (int i = 0; i < 100 && gate.state().reason.find("issued for cluster") == std::string::npos; ++i) std::this_thread::sleep_for(20ms);
  CHECK(gate.state().reason == "issued for cluster another-cluster but this is cluster " + kCluster);

  const std::string good = f.licence(kCluster, 240h);
  std::ofstream(file) << good;
  for (int i = 0; i < 100 && !gate.state().valid; ++i) std::this_thread::sleep_for(20ms);
  s = gate.state();
  REQUIRE(s.valid);
  CHECK(s.licensee == "Acme");
  CHECK(s.summary().find("licence for Acme valid for cluster " + kCluster + " until ") == 0);
  CHECK(f.metrics().find("mysqlop_license_valid 1") != std::string::npos);
  const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(s.notAfter->time_since_epoch()).count();
  CHECK(f.metrics().find("mysqlop_license_expiry_timestamp_seconds " + std::to_string(expiry)) != std::string::npos);
  // The callback runs after the new state is visible (and logged): wait for it, do not race it.
  for (int i = 0; i < 100 && f.changes.load() < 3; ++i) std::this_thread::sleep_for(20ms);
  CHECK(f.changes.load() >= 3);
  gate.stop();
}

TEST_CASE("licence gate: without --license-file it says how to pass one", "[enterprise][licence]") {
  Fixture f;
  LicenceGate gate({.path = "", .caPem = f.ca.toPem()}, [] { return core::Result<std::string>(kCluster); }, f.registry, {});
  gate.evaluate();
  CHECK(gate.state().reason == "no licence: start the operator with --license-file (helm: --set-file license=PATH)");
}

TEST_CASE("licence gate: the periodic re-check runs on the injected clock and catches an expiry", "[enterprise][licence]") {
  Fixture f;
  const fs::path file = f.dir / "license.pem";
  std::ofstream(file) << f.licence(kCluster, 2h);  // valid from an hour ago for two more hours
  core::FakeClock clock(core::systemClock().now());
  LicenceGate gate({.path = file.string(), .caPem = f.ca.toPem(), .recheck = 1h},
                   [] { return core::Result<std::string>(kCluster); }, f.registry, [&] { ++f.changes; }, clock);
  gate.evaluate();
  REQUIRE(gate.state().valid);
  CHECK_FALSE(gate.poll());  // nothing changed, nothing due
  clock.advance(50min);
  CHECK_FALSE(gate.poll());
  clock.advance(2h);  // past the licence's notAfter and the re-check
  CHECK(gate.poll());
  CHECK_FALSE(gate.state().valid);
  CHECK_THAT(gate.state().reason, Catch::Contains("expired"));
  CHECK(f.metrics().find("mysqlop_license_valid 0") != std::string::npos);
  CHECK_FALSE(gate.poll());  // just re-checked

  std::ofstream(file) << f.licence(kCluster, 24h);  // a renewed licence: the file changed
  CHECK(gate.poll());
  CHECK(gate.state().valid);
}

}  // namespace mysqlop::enterprise
