// Who may read /metrics: the token is reviewed by the API server, the user's access to the path
// is reviewed by RBAC, each answer with its HTTP status; decisions are cached by the token's
// digest for a while, a failed review is not. And the HTTPS identity, re-read when its files change.
#include "common/runtime/metrics_auth.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/pki/pki.h"
#include "common/runtime/serving_cert.h"

namespace mysqlop::runtime {
namespace {

using Json = nlohmann::json;

// An API server in memory: tokens it knows, the users RBAC lets read /metrics.
struct FakeApi {
  std::map<std::string, std::string> users;  // token → user name
  std::set<std::string> readers;
  int tokenReviews = 0, accessReviews = 0;
  bool failAccess = false;
  Json lastAccess;

  Reviewer reviewer() {
    return Reviewer{
        [this](const Json& r) -> core::Result<Json> {
          ++tokenReviews;
          auto it = users.find(r["spec"]["token"].get<std::string>());
          Json status = {{"authenticated", it != users.end()}};
          if (it != users.end()) status["user"] = {{"username", it->second}, {"groups", {"system:authenticated"}}, {"uid", "u-1"}};
          return Json{{"status", status}};
        },
        [this](const Json& r) -> core::Result<Json> {
          ++accessReviews;
          lastAccess = r;
          if (failAccess) return core::Error(core::ErrorCode::kUnavailable, "connection refused");
          return Json{{"status", {{"allowed", readers.count(r["spec"]["user"].get<std::string>()) > 0}}}};
        }};
  }
};

}  // namespace

TEST_CASE("metrics auth: no token 401, unknown token 401, not allowed 403, allowed 200", "[runtime][metrics-auth]") {
  core::FakeClock clock;
  FakeApi api;
  api.users = {{"t-prom", "system:serviceaccount:monitoring:prometheus"}, {"t-app", "system:serviceaccount:demo:app"}};
  api.readers = {"system:serviceaccount:monitoring:prometheus"};
  MetricsAuthorizer auth(api.reviewer(), clock);

  CHECK(auth.check("", "get", "/metrics").status == 401);
  CHECK(auth.check("Basic dXNlcjpwYXNz", "get", "/metrics").status == 401);
  CHECK(api.tokenReviews == 0);  // nothing to review
  auto unknown = auth.check("Bearer nope", "get", "/metrics");
  CHECK(unknown.status == 401);
  CHECK(unknown.message.find("nope") == std::string::npos);
  auto app = auth.check("Bearer t-app", "get", "/metrics");
  CHECK(app.status == 403);
  CHECK(app.message == "Forbidden: user \"system:serviceaccount:demo:app\" may not get /metrics");
  CHECK(auth.check("bearer  t-prom ", "get", "/metrics").status == 200);
  // The access review asks about the path and verb, for the user the token review named.
  CHECK(api.lastAccess["spec"]["nonResourceAttributes"] == Json{{"path", "/metrics"}, {"verb", "get"}});
  CHECK(api.lastAccess["spec"]["groups"] == Json{"system:authenticated"});
  CHECK(api.lastAccess["spec"]["uid"] == "u-1");
  CHECK(api.lastAccess["spec"].dump().find("t-prom") == std::string::npos);  // the token is not passed on
}

TEST_CASE("metrics auth: decisions are cached for a while, a failed review is asked again", "[runtime][metrics-auth]") {
  core::FakeClock clock;
  FakeApi api;
  api.users = {{"t", "alice"}};
  MetricsAuthorizer auth(api.reviewer(), clock, {.allowedTtl = std::chrono::seconds(60), .deniedTtl = std::chrono::seconds(10)});

  CHECK(auth.check("Bearer t", "get", "/metrics").status == 403);
  CHECK(auth.check("Bearer t", "get", "/metrics").status == 403);
  CHECK(api.accessReviews == 1);
  // A RoleBinding made now is seen once the refusal expires.
  api.readers = {"alice"};
  clock.advance(std::chrono::seconds(11));
  CHECK(auth.check("Bearer t", "get", "/metrics").status == 200);
  CHECK(api.accessReviews == 2);
  api.readers.clear();
  clock.advance(std::chrono::seconds(30));
  CHECK(auth.check("Bearer t", "get", "/metrics").status == 200);  // still within the minute
  CHECK(api.accessReviews == 2);
  clock.advance(std::chrono::seconds(31));
  CHECK(auth.check("Bearer t", "get", "/metrics").status == 403);
  CHECK(api.accessReviews == 3);

  // Another path is another question.
  api.readers = {"alice"};
  CHECK(auth.check("Bearer t", "get", "/other").status == 200);
  CHECK(api.accessReviews == 4);

  // The API server cannot answer: 500, not remembered.
  api.failAccess = true;
  clock.advance(std::chrono::seconds(120));
  CHECK(auth.check("Bearer t", "get", "/metrics").status == 500);
  api.failAccess = false;
  CHECK(auth.check("Bearer t", "get", "/metrics").status == 200);
}

TEST_CASE("metrics auth: the cache stays bounded", "[runtime][metrics-auth]") {
  core::FakeClock clock;
  FakeApi api;
  for (int i = 0; i < 100; ++i) api.users["t" + std::to_string(i)] = "user" + std::to_string(i);  // known, not readers
  MetricsAuthorizer auth(api.reviewer(), clock, {.maxEntries = 8, .reviewBurst = 1000});
  for (int i = 0; i < 100; ++i) CHECK(auth.check("Bearer t" + std::to_string(i), "get", "/metrics").status == 403);
  CHECK(api.tokenReviews == 100);
  // The most recent ones are remembered, the oldest forgotten.
  CHECK(auth.check("Bearer t99", "get", "/metrics").status == 403);
  CHECK(api.tokenReviews == 100);
  CHECK(auth.check("Bearer t0", "get", "/metrics").status == 403);
  CHECK(api.tokenReviews == 101);
}

TEST_CASE("metrics auth: hostile tokens cost no review, a flood is limited, and never evicts a reader", "[runtime][metrics-auth]") {
  core::FakeClock clock;
  FakeApi api;
  api.users = {{"t-prom", "prometheus"}};
  api.readers = {"prometheus"};
  MetricsAuthorizer auth(api.reviewer(), clock, {.maxEntries = 4, .reviewsPerSecond = 5, .reviewBurst = 10});
  CHECK(auth.check("Bearer t-prom", "get", "/metrics").status == 200);
  CHECK(api.tokenReviews == 1);
  clock.advance(std::chrono::seconds(50));  // the reader's decision has 10 s left: the soonest to go
  // Not a bearer token (RFC 6750): refused without asking the API server.
  for (const std::string& bad : std::vector<std::string>{"Bearer a b", "Bearer {\"x\":1}", "Bearer abc=def", "Bearer \x01\x02", "Bearer " + std::string(20000, 'a')}) {
    INFO(bad.substr(0, 20));
    auto d = auth.check(bad, "get", "/metrics");
    CHECK(d.status == 401);
    CHECK(d.message == "Unauthorized: not a bearer token");
  }
  CHECK(auth.check("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "get", "/metrics").status == 401);  // a JWT's shape: asked
  CHECK(api.tokenReviews == 2);
  // A flood of random tokens: ten reviews at once, then 429 without asking, five a second after.
  int limited = 0;
  for (int i = 0; i < 200; ++i) limited += auth.check("Bearer r" + std::to_string(i), "get", "/metrics").status == 429 ? 1 : 0;
  CHECK(api.tokenReviews == 2 + 9);  // the burst of ten (refilled meanwhile), less the review above
  CHECK(limited == 200 - 9);
  clock.advance(std::chrono::seconds(1));
  CHECK(auth.check("Bearer r-after", "get", "/metrics").status == 401);
  // The reader's decision is still cached: none of that pushed it out.
  const int before = api.tokenReviews;
  CHECK(auth.check("Bearer t-prom", "get", "/metrics").status == 200);
  CHECK(api.tokenReviews == before);
}

TEST_CASE("serving certificate: read from a directory, a key that is not the certificate's refused",
          "[runtime][metrics-auth]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("serving-cert-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    const fs::path tmp = dir / (name + ".tmp");
    std::ofstream(tmp) << text;
    fs::rename(tmp, dir / name);
  };
  auto pair = [&](const std::string& cn) {
    auto key = pki::generateKey({.algorithm = pki::KeyAlgorithm::kEcdsa}).value();
    const auto now = core::systemClock().now();
    auto cert = pki::issueCertificate({.subject = {.commonName = cn}, .dnsNames = {cn}, .notBefore = now,
                                       .notAfter = now + std::chrono::hours(1)},
                                      key, std::nullopt)
                    .value();
    return std::pair{cert.toPem(), key.toPem(pki::KeyEncoding::kPkcs8).value()};
  };
  auto [crt1, key1] = pair("one");
  CHECK_FALSE(ServingCertificate::fromDirectory(dir.string()));  // nothing there yet
  write("tls.crt", crt1);
  write("tls.key", key1);
  auto id = ServingCertificate::fromDirectory(dir.string());
  REQUIRE(id);
  CHECK((*id)->currentPem() == crt1);
  // A key that is not the certificate's is refused at start.
  auto [crt2, key2] = pair("two");
  write("tls.key", key2);
  CHECK_FALSE(ServingCertificate::fromDirectory(dir.string()));
  fs::remove_all(dir);
}

}  // namespace mysqlop::runtime
