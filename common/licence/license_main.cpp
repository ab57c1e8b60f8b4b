// license: issue, inspect and verify mysqlop licences (docs/design.md §6).
//
//   license issue --ca-cert ca.crt --ca-key ca.key --cluster-id <kube-system uid> --licensee "Acme"
//                 --days 365 [--features mysqlop-enterprise] [--not-before 2027-01-01T00:00:00Z] [--out FILE]
//   license inspect FILE
//   license verify FILE --cluster-id <uid> [--ca-cert ca.crt] [--at TIME]
//
// verify uses the licence CA compiled into this build unless --ca-cert names another.
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/core/file.h"
#include "common/core/time_format.h"
#include "common/licence/licence.h"
#include "common/pki/pki.h"

using namespace mysqlop;

namespace {

core::Result<core::WallTime> timeFlag(const std::string& text) {
  if (text.empty()) return core::systemClock().now();
  auto t = core::parseTime(text);
  if (!t) return core::invalid("not an RFC 3339 time: " + text);
  return *t;
}

void print(const licence::Licence& l) {
  std::string ids, features;
  for (const auto& c : l.clusterIds) ids += (ids.empty() ? "" : ", ") + c;
  for (const auto& f : l.features) features += (features.empty() ? "" : ", ") + f;
  std::cout << "licensee:   " << l.licensee << "\n"
            << "cluster ID: " << ids << "\n"
            << "features:   " << features << "\n"
            << "valid from: " << core::formatTime(l.notBefore) << "\n"
            << "valid to:   " << core::formatTime(l.notAfter) << "\n"
            << "serial:     " << l.serialHex << "\n"
            << "issuer:     " << l.issuer << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Issue, inspect and verify mysqlop licences.", "license"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "license " MYSQLOP_VERSION);

  std::string caCert, caKey, licensee, notBefore, out, features = licence::kEnterpriseFeature;
  std::vector<std::string> clusterIds;
  int days = 365;
  auto* issue = app.add_subcommand("issue", "Issue a licence signed by the licence CA");
  issue->add_option("--ca-cert", caCert, "Licence CA certificate (PEM)")->required();
  issue->add_option("--ca-key", caKey, "Licence CA private key (PEM)")->required();
  issue->add_option("--cluster-id", clusterIds, "Cluster ID: the UID of namespace kube-system (repeatable)")->required();
  issue->add_option("--licensee", licensee, "Who the licence is for")->required();
  issue->add_option("--days", days, "Validity in days")->check(CLI::Range(1, 36500))->capture_default_str();
  issue->add_option("--features", features, "Comma-separated features")->capture_default_str();
  issue->add_option("--not-before", notBefore, "Start of validity (RFC 3339); default: now");
  issue->add_option("--out", out, "Write the licence here instead of stdout");

  std::string file, clusterId, at;
  auto* inspect = app.add_subcommand("inspect", "Print what a licence says, without judging it");
  inspect->add_option("file", file, "Licence file (PEM)")->required();
  auto* verify = app.add_subcommand("verify", "Verify a licence for a cluster");
  verify->add_option("file", file, "Licence file (PEM)")->required();
  verify->add_option("--cluster-id", clusterId, "This cluster's ID (UID of namespace kube-system)")->required();
  verify->add_option("--ca-cert", caCert, "Licence CA certificate; default: the one compiled into this build");
  verify->add_option("--at", at, "Verify as of this time (RFC 3339); default: now");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (issue->parsed()) {
    auto certPem = core::readFile(caCert);
    auto keyPem = core::readFile(caKey);
    if (!certPem || !keyPem) {
      std::cerr << "license: " << (!certPem ? certPem.error().message : keyPem.error().message) << "\n";
      return 1;
    }
    auto ca = pki::parseCertificate(*certPem);
    auto key = pki::parsePrivateKey(*keyPem);
    auto start = timeFlag(notBefore);
    if (!ca || !key || !start) {
      std::cerr << "license: " << (!ca ? "--ca-cert: " + ca.error().message : !key ? "--ca-key: " + key.error().message : start.error().message)
                << "\n";
      return 1;
    }
    pki::CertTemplate t;
    t.subject.commonName = licensee;
    std::stringstream fs(features);
    for (std::string f; std::getline(fs, f, ',');) {
      if (!f.empty()) t.subject.organizations.push_back(f);
    }
    t.dnsNames = clusterIds;
    t.keyUsages = {"digital signature"};
    t.extKeyUsages = {"client auth"};
    t.notBefore = std::chrono::time_point_cast<std::chrono::seconds>(*start);
    t.notAfter = t.notBefore + std::chrono::hours(24) * days;
    // The licence's own key pair is never used: it is made and dropped.
    auto subjectKey = pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256});
    if (!subjectKey) {
      std::cerr << "license: " << subjectKey.error().message << "\n";
      return 1;
    }
    auto cert = pki::issueCertificate(t, *subjectKey, pki::Signer{*ca, *key});
    if (!cert) {
      std::cerr << "license: " << cert.error().message << "\n";
      return 1;
    }
    if (out.empty()) {
      std::cout << cert->toPem();
    } else {
      std::ofstream(out) << cert->toPem();
      std::cerr << "license: wrote " << out << " for cluster " << clusterIds.front() << ", valid to "
                << core::formatTime(t.notAfter) << "\n";
    }
    return 0;
  }

  auto pem = core::readFile(file);
  if (!pem) {
    std::cerr << "license: " << pem.error().message << "\n";
    return 1;
  }
  if (inspect->parsed()) {
    auto l = licence::readLicence(*pem);
    if (!l) {
      std::cerr << "license: " << file << ": " << l.error().message << "\n";
      return 1;
    }
    print(*l);
    return 0;
  }
  std::string ca = licence::embeddedCaPem();
  if (!caCert.empty()) {
    auto c = core::readFile(caCert);
    if (!c) {
      std::cerr << "license: " << c.error().message << "\n";
      return 1;
    }
    ca = *c;
  }
  auto when = timeFlag(at);
  if (!when) {
    std::cerr << "license: " << when.error().message << "\n";
    return 1;
  }
  auto l = licence::verifyLicence(*pem, ca, clusterId, *when);
  if (!l) {
    std::cout << "invalid: " << l.error().message << "\n";
    return 1;
  }
  std::cout << "valid: licensed to " << l->licensee << " for cluster " << clusterId << " until "
            << core::formatTime(l->notAfter) << "\n";
  return 0;
}
