#include "community-operator/controller/trust_bundle.h"

#include <catch2/catch.hpp>

#include "common/api/naming.h"
#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/object.h"
#include "common/pki/pki.h"
#include "common/testing/test_pki.h"
#include "community-operator/controller/secret_summary.h"

namespace mysqlop::community {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const core::WallTime kNow = *core::parseTime("2026-12-07T12:00:00Z");

TrustedCa ca(std::string sha, std::optional<core::WallTime> unusedSince = std::nullopt, std::vector<std::string> by = {}) {
  return {std::move(sha), unusedSince, std::move(by)};
}

std::vector<std::string> digests(const TrustDecision& d) {
  std::vector<std::string> out;
  for (const auto& c : d.cas) out.push_back(c.sha256);
  return out;
}

TEST_CASE("trust bundle: which CAs stay, come and go", "[community][trust]") {
  const seconds grace = hours(1);
  const std::vector<CaUse> secretsOnOld = {{"old", "server"}, {"old", "client"}, {"old", "metrics-exporter"}};

  SECTION("a new database trusts what its Secrets use, each once, with what uses it") {
    auto d = decideTrust({.uses = secretsOnOld, .servedKnown = false, .grace = grace}, kNow);
    REQUIRE(d.cas.size() == 1);
    CHECK(d.cas[0] == ca("old", std::nullopt, {"server", "client", "metrics-exporter"}));
    CHECK_FALSE(d.nextChange);
  }
  SECTION("a new CA in one Secret joins; the old stays while another Secret or a pod uses it") {
    auto d = decideTrust({.previous = {ca("old")},
                          .uses = {{"old", "server"}, {"new", "client"}, {"old", "metrics-exporter"}, {"old", "served by my-0"}},
                          .servedKnown = true,
                          .grace = grace},
                         kNow);
    CHECK(digests(d) == std::vector<std::string>{"old", "new"});
    CHECK(d.cas[0].usedBy == std::vector<std::string>{"server", "metrics-exporter", "served by my-0"});
    CHECK(d.cas[0].unusedSince == std::nullopt);
  }
  SECTION("still served by a pod (its files lag): the old CA stays in use") {
    auto d = decideTrust({.previous = {ca("old"), ca("new")},
                          .uses = {{"new", "server"}, {"new", "client"}, {"new", "metrics-exporter"}, {"old", "served by my-0"}},
                          .servedKnown = true,
                          .grace = grace},
                         kNow);
    CHECK(digests(d) == std::vector<std::string>{"old", "new"});
    CHECK(d.cas[0].unusedSince == std::nullopt);
  }
  const std::vector<CaUse> allOnNew = {{"new", "server"}, {"new", "client"}, {"new", "metrics-exporter"}, {"new", "served by my-0"}};
  SECTION("nothing uses the old CA any more: its grace starts, the next change is when it ends") {
    auto d = decideTrust({.previous = {ca("old"), ca("new")}, .uses = allOnNew, .servedKnown = true, .grace = grace}, kNow);
    CHECK(digests(d) == std::vector<std::string>{"old", "new"});
    CHECK(d.cas[0].unusedSince == kNow);
    CHECK(d.nextChange == grace);
  }
  SECTION("within its grace it stays, and the time left is said") {
    auto d = decideTrust(
        {.previous = {ca("old", kNow - std::chrono::minutes(40)), ca("new")}, .uses = allOnNew, .servedKnown = true, .grace = grace},
        kNow);
    CHECK(digests(d) == std::vector<std::string>{"old", "new"});
    CHECK(d.cas[0].unusedSince == kNow - std::chrono::minutes(40));
    CHECK(d.nextChange == std::chrono::minutes(20));
  }
  SECTION("its grace over, it leaves") {
    auto d = decideTrust({.previous = {ca("old", kNow - grace), ca("new")}, .uses = allOnNew, .servedKnown = true, .grace = grace}, kNow);
    CHECK(digests(d) == std::vector<std::string>{"new"});
    CHECK_FALSE(d.nextChange);
  }
  SECTION("used again within its grace (a rollback): in use, its grace forgotten") {
    auto d = decideTrust(
        {.previous = {ca("old", kNow - std::chrono::minutes(40)), ca("new")}, .uses = {{"old", "server"}}, .servedKnown = true, .grace = grace},
        kNow);
    CHECK(d.cas[0] == ca("old", std::nullopt, {"server"}));
  }
  SECTION("a pod not seen may still serve it: no CA starts its grace or leaves") {
    const std::vector<CaUse> secretsOnly = {{"new", "server"}, {"new", "client"}, {"new", "metrics-exporter"}};
    auto d = decideTrust({.previous = {ca("old"), ca("new")}, .uses = secretsOnly, .servedKnown = false, .grace = grace}, kNow);
    CHECK(d.cas[0] == ca("old"));
    auto d2 = decideTrust({.previous = {ca("old", kNow - hours(5)), ca("new")}, .uses = secretsOnly, .servedKnown = false, .grace = grace},
                          kNow);
    CHECK(digests(d2) == std::vector<std::string>{"old", "new"});
    CHECK(d2.cas[0].unusedSince == kNow - hours(5));
  }
  SECTION("converged: the same inputs decide the same bundle") {
    auto d = decideTrust({.previous = {ca("new")}, .uses = allOnNew, .servedKnown = true, .grace = grace}, kNow);
    CHECK(digests(d) == std::vector<std::string>{"new"});
    CHECK(d.cas[0].unusedSince == std::nullopt);
  }
}

TEST_CASE("trust bundle: the grace is the flag, else the certificates' renewBefore", "[community][trust]") {
  api::MySQL my;
  my.name = "my";
  my.tls = api::TLSConfig{};
  CHECK(retentionOf(my, seconds(90)) == seconds(90));
  CHECK(retentionOf(my, seconds(0)) == hours(24 * 30));  // cert-manager's default: 90 days, renewed with 30 left
  my.tls->certificates = {{.alias = "server", .duration = "2160h", .renewBefore = "360h"},
                          {.alias = "client", .duration = "720h"}};
  CHECK(retentionOf(my, seconds(0)) == hours(24 * 30));  // the exporter's default is the longest
  my.tls->certificates.push_back({.alias = "metrics-exporter", .renewBefore = "1h"});
  CHECK(retentionOf(my, seconds(0)) == hours(360));
}

TEST_CASE("trust bundle: the Secret holds the PEMs in order and its state, and reads back", "[community][trust]") {
  testing::TestPki a, b;
  const std::string da = *certificateDigest(a.ca().certPem), db = *certificateDigest(b.ca().certPem);
  api::MySQL my;
  my.name = "my";
  my.namespace_ = "demo";
  my.uid = "u1";
  const std::vector<TrustedCa> cas = {ca(da, kNow), ca(db)};
  auto s = buildTrustBundle(my, cas, {{da, a.ca().certPem}, {db, b.ca().certPem}});
  REQUIRE(s);
  CHECK(kube::name(*s) == "my-ca-bundle");
  CHECK(kube::isOwnedBy(*s, "u1"));
  CHECK(kube::labels(*s) == api::offshootLabels("my"));
  CHECK(*kube::secretValue(*s, "ca.crt") == a.ca().certPem + b.ca().certPem);
  CHECK(trustedCasOf(*s) == std::vector<TrustedCa>{ca(da, kNow), ca(db)});
  // What the cache keeps of it (secret_summary.h) names the same CAs, in order.
  auto pool = std::make_shared<CaPool>();
  Json cached = *s;
  summarizingSecretTransform({}, pool)(cached);
  CHECK(caDigestsOf(cached) == std::vector<std::string>{da, db});
  CHECK(casOf(cached, *pool) == std::vector<std::string>{a.ca().certPem, b.ca().certPem});

  auto missing = buildTrustBundle(my, cas, {{da, a.ca().certPem}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find(db) != std::string::npos);
  Json bad = *s;
  bad["metadata"]["annotations"][kTrustStateAnnotation] = "not json";
  CHECK(trustedCasOf(bad).empty());
}

}  // namespace
}  // namespace mysqlop::community
