// The health checker with in-memory caches and a scripted probe: what it dials, when it tells
// the reconciler, and that a steady verdict stays quiet.
#include "community-operator/controller/health_checker.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "common/api/conditions.h"
#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/pki/pki.h"
#include "common/testing/test_pki.h"

namespace mysqlop::community {
namespace {

using runtime::Json;
using namespace std::chrono_literals;

runtime::ObjectPtr obj(const std::string& text) { return std::make_shared<const Json>(Json::parse(text)); }

runtime::ObjectPtr secret(const std::string& name, std::map<std::string, std::string> data) {
  Json d = Json::object();
  for (const auto& [k, v] : data) d[k] = kube::base64Encode(v);
  return std::make_shared<const Json>(Json{{"apiVersion", "v1"}, {"kind", "Secret"},
                                           {"metadata", {{"name", name}, {"namespace", "demo"}}}, {"data", d}});
}

// A CA certificate for the Secrets of the fixtures that do not look at it.
const std::string& somePem() {
  static const testing::TestPki pki;
  return pki.ca().certPem;
}

struct Fixture {
  core::FakeClock clock;
  runtime::ObjectCache mysqls, secrets, sts;
  std::mutex mu;
  std::vector<std::string> changes;
  std::atomic<int> probes{0};
  std::atomic<bool> down{false};  // what the scripted server answers
  std::atomic<bool> slow{false};  // each answer takes 50 ms
  std::atomic<bool> hang{false};  // answers only once released (a name lookup that takes its time)
  std::atomic<bool> active{true};  // leading, caches synced
  std::atomic<bool> throws{false};  // the check throws (what a hostile answer once did)
  std::atomic<int> writes{0};        // spec.healthChecker's write checks run
  std::atomic<bool> writeRefused{false};
  std::vector<std::string> written;  // the last write check's statements (checks on the test's thread)
  core::Result<ProbeResult> script(const ProbeTarget& t) {
    if (throws.load()) throw std::out_of_range("stoi");
    if (slow.load()) std::this_thread::sleep_for(50ms);
    while (hang.load()) std::this_thread::sleep_for(5ms);
    if (down.load()) return core::unavailable("cannot connect to " + t.host + ":3306: ERROR 2002: refused");
    return ProbeResult{"10.11.6-MariaDB", "TLSv1.3", "TLS_AES_256_GCM_SHA384"};
  }
  HealthChecker checker{mysqls, secrets, sts,
                        [this](const std::string& k) {
                          std::lock_guard l(mu);
                          changes.push_back(k);
                        },
                        {.interval = 10s, .workers = 2, .probe = [this](const ProbeTarget& t) {
                           ++probes;
                           return script(t);
                         },
                         .runStatements = [this](const ProbeTarget&, const std::vector<std::string>& statements) -> core::Status {
                           ++writes;
                           written = statements;
                           if (writeRefused.load()) {
                             return core::invalid("my.demo.svc:3306 refused \"CREATE DATABASE IF NOT EXISTS kubedb_system\": ERROR 1290: "
                                                  "The MySQL server is running with the --super-read-only option");
                           }
                           return {};
                         },
                         .active = [this] { return active.load(); }},
                        clock};
  Fixture() {
    mysqls.upsert(obj(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":"my","namespace":"demo","uid":"u1"},
      "spec":{"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"authSecret":{"name":"my-auth"},
              "tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}}})"));
    secrets.upsert(secret("my-auth", {{"username", "root"}, {"password", "pw"}}));
    secrets.upsert(secret("my-server-cert", {{"ca.crt", somePem()}, {"tls.crt", "x"}}));
    sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"},"status":{"readyReplicas":1}})"));
  }
  size_t changeCount() {
    std::lock_guard l(mu);
    return changes.size();
  }
  bool waitFor(const std::function<bool()>& pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  // Moves the injected clock a second at a time until pred holds: a worker that re-queues its
  // key a moment after the test advanced the clock (a loaded machine, a sanitizer) still has
  // that key come due, where one jump of a whole interval would have left it a whole interval away.
  bool advanceUntil(const std::function<bool()>& pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      clock.advance(1s);
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

}  // namespace

TEST_CASE("health: the target is the Service name, the auth Secret's account and the server CA", "[community][health]") {
  Fixture f;
  auto t = f.checker.target(*f.mysqls.get("demo/my"));
  REQUIRE(t);
  CHECK(t->host == "my.demo.svc");
  CHECK(t->port == 3306);
  CHECK(t->user == "root");
  CHECK(t->password == "pw");
  REQUIRE(t->tls);
  CHECK(t->tls->caPem == somePem());
  CHECK(t->tls->verifyHostname);
  // TLS without requireSSL: the server is verified all the same (chain and name).
  auto lax = *f.mysqls.get("demo/my");
  lax["spec"].erase("requireSSL");
  auto laxTarget = f.checker.target(lax);
  REQUIRE(laxTarget);
  REQUIRE(laxTarget->tls);
  CHECK(laxTarget->tls->verifyHostname);
  // The primary Service's port as its serviceTemplate sets it (KubeDB's serviceTemplates ports).
  auto moved = lax;
  moved["spec"]["serviceTemplates"] = Json::parse(R"([{"alias": "primary", "spec": {"ports": [{"name": "primary", "port": 3307}]}}])");
  CHECK(f.checker.target(moved)->port == 3307);

  f.secrets.remove("demo/my-server-cert");
  f.secrets.upsert(secret("my-server-cert", {{"tls.crt", "x"}}));
  auto noCa = f.checker.target(*f.mysqls.get("demo/my"));
  REQUIRE_FALSE(noCa);
  CHECK(noCa.error().message == "the server certificate Secret demo/my-server-cert has no ca.crt to verify the server with");
  f.secrets.remove("demo/my-auth");
  auto noAuth = f.checker.target(*f.mysqls.get("demo/my"));
  REQUIRE_FALSE(noAuth);
  CHECK(noAuth.error().message == "the auth Secret demo/my-auth does not exist");
}

TEST_CASE("health: a verdict is told once, a change again, a steady one never", "[community][health]") {
  Fixture f;
  f.checker.start();
  f.checker.trigger("demo/my");
  REQUIRE(f.waitFor([&] { return f.changeCount() == 1; }));
  auto v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK(v->ok);
  CHECK(v->message == "my.demo.svc:3306 answered a query over TLSv1.3 (server 10.11.6-MariaDB)");
  CHECK_FALSE(f.checker.verdict("demo/my", "another-uid"));  // a recreated database starts afresh
  // Every interval (on the injected clock) it checks again; the same answer calls nobody.
  for (int round = 2; round <= 4; ++round) REQUIRE(f.advanceUntil([&] { return f.probes.load() >= round; }));
  CHECK(f.changeCount() == 1);

  f.down = true;
  REQUIRE(f.advanceUntil([&] { return f.changeCount() == 2; }));
  v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK_FALSE(v->ok);
  CHECK(v->message == "cannot connect to my.demo.svc:3306: ERROR 2002: refused");
  f.checker.stop();
}

TEST_CASE("health: spec.healthChecker as KubeDB's — its timeout, a write after the query, failures up to the threshold",
          "[community][health]") {
  Fixture f;
  Json my = *f.mysqls.get("demo/my");
  // Without it: the operator's timeout, a query and no write.
  CHECK(f.checker.target(my)->timeout == 5s);
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.writes.load() == 0);
  my["spec"]["healthChecker"] = {{"periodSeconds", 30}, {"timeoutSeconds", 4}, {"failureThreshold", 3}};
  f.mysqls.upsert(std::make_shared<const Json>(my));
  CHECK(f.checker.target(my)->timeout == 4s);
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.writes.load() == 1);
  CHECK(f.written == dbclient::writeCheckStatements());
  auto v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK(v->ok);
  CHECK(v->message == "my.demo.svc:3306 answered a query and took a write over TLSv1.3 (server 10.11.6-MariaDB)");
  const size_t told = f.changeCount();
  // Two failed checks in a row: the verdict before stands, nobody is told; the third is.
  f.down = true;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(f.checker.check("demo/my"));
    CHECK(f.checker.verdict("demo/my", "u1")->ok);
  }
  CHECK(f.changeCount() == told);
  REQUIRE(f.checker.check("demo/my"));
  CHECK_FALSE(f.checker.verdict("demo/my", "u1")->ok);
  CHECK(f.changeCount() == told + 1);
  // A success starts the count again.
  f.down = false;
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.checker.verdict("demo/my", "u1")->ok);
  f.down = true;
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.checker.verdict("demo/my", "u1")->ok);
  f.down = false;
  // KubeDB's defaults for what is left out: the threshold is 1, the write is made. A server that
  // refuses the write (read-only) fails the check in its words.
  my["spec"]["healthChecker"] = Json::object();
  f.mysqls.upsert(std::make_shared<const Json>(my));
  CHECK(f.checker.target(my)->timeout == 10s);
  f.writeRefused = true;
  REQUIRE(f.checker.check("demo/my"));
  v = f.checker.verdict("demo/my", "u1");
  CHECK_FALSE(v->ok);
  CHECK_THAT(v->message, Catch::StartsWith("the write check failed: ") && Catch::Contains("--super-read-only"));
  // disableWriteCheck: the query alone.
  my["spec"]["healthChecker"] = {{"disableWriteCheck", true}};
  f.mysqls.upsert(std::make_shared<const Json>(my));
  const int writesBefore = f.writes.load();
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.writes.load() == writesBefore);
  CHECK(f.checker.verdict("demo/my", "u1")->ok);
}

TEST_CASE("health: spec.healthChecker.periodSeconds spaces the checks of its database", "[community][health]") {
  Fixture f;
  Json my = *f.mysqls.get("demo/my");
  my["spec"]["healthChecker"] = {{"periodSeconds", 30}, {"disableWriteCheck", true}};
  f.mysqls.upsert(std::make_shared<const Json>(my));
  f.checker.start();
  f.checker.trigger("demo/my");
  REQUIRE(f.waitFor([&] { return f.probes.load() == 1; }));
  // Past the operator's 10 s interval, not yet at 30 s: no second check.
  for (int i = 0; i < 20; ++i) {
    f.clock.advance(1s);
    std::this_thread::sleep_for(5ms);
  }
  CHECK(f.probes.load() == 1);
  CHECK(f.advanceUntil([&] { return f.probes.load() >= 2; }));
  f.checker.stop();
}

TEST_CASE("health: nothing is dialled while no pod of the StatefulSet is ready", "[community][health]") {
  Fixture f;
  f.sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"},"status":{"replicas":1}})"));
  CHECK(f.checker.check("demo/my"));
  CHECK(f.probes.load() == 0);
  auto v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK(v->noReadyPod);
  CHECK_FALSE(v->ok);
  CHECK(v->message == "no pod of StatefulSet demo/my is ready");

  f.sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"},"status":{"replicas":1,"readyReplicas":1}})"));
  CHECK(f.checker.check("demo/my"));
  CHECK(f.probes.load() == 1);
  v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK_FALSE(v->noReadyPod);
  CHECK(v->ok);
}

TEST_CASE("health: a database without a StatefulSet, halted or deleted is not checked", "[community][health]") {
  Fixture f;
  CHECK(f.checker.check("demo/my"));  // the fixture's database is checked
  CHECK(f.probes.load() == 1);
  REQUIRE(f.checker.verdict("demo/my", "u1"));

  f.sts.remove("demo/my");
  CHECK_FALSE(f.checker.check("demo/my"));

  f.sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"},"status":{"readyReplicas":1}})"));
  Json halted = *f.mysqls.get("demo/my");
  halted["spec"]["halted"] = true;
  f.mysqls.upsert(std::make_shared<const Json>(halted));
  CHECK_FALSE(f.checker.check("demo/my"));
  CHECK(f.probes.load() == 1);

  f.mysqls.remove("demo/my");
  CHECK_FALSE(f.checker.check("demo/my"));
  CHECK_FALSE(f.checker.verdict("demo/my", "u1"));  // forgotten with the database
  CHECK(f.probes.load() == 1);
}

TEST_CASE("health: nothing is checked until the checker is active (leading, caches synced)", "[community][health]") {
  Fixture f;
  f.active = false;
  f.secrets.remove("demo/my-auth");  // as a cache still filling would hold it
  f.checker.start();
  f.checker.trigger("demo/my");
  std::this_thread::sleep_for(100ms);
  f.clock.advance(1s);
  std::this_thread::sleep_for(100ms);
  CHECK(f.probes.load() == 0);
  CHECK(f.changeCount() == 0);  // no verdict, so no "auth Secret does not exist"
  CHECK_FALSE(f.checker.verdict("demo/my", "u1"));
  f.secrets.upsert(secret("my-auth", {{"username", "root"}, {"password", "pw"}}));
  f.active = true;
  f.clock.advance(1s);
  REQUIRE(f.waitFor([&] { return f.probes.load() == 1; }));
  REQUIRE(f.waitFor([&] { return f.changeCount() == 1; }));
  CHECK(f.checker.verdict("demo/my", "u1")->ok);
  f.checker.stop();
}

TEST_CASE("health: a check that throws does not end its worker, the database is checked again", "[community][health]") {
  Fixture f;
  f.throws = true;
  f.checker.start();
  f.checker.trigger("demo/my");
  REQUIRE(f.waitFor([&] { return f.probes.load() >= 1; }));
  f.throws = false;
  CHECK(f.advanceUntil([&] { return f.probes.load() >= 2; }));  // at the next interval
  CHECK(f.waitFor([&] { return f.changeCount() >= 1; }));  // and its verdict is told
  f.checker.stop();
}

TEST_CASE("health: stopping does not wait for the queued checks", "[community][health]") {
  Fixture f;
  f.slow = true;
  for (int i = 0; i < 20; ++i) {
    const std::string n = "db" + std::to_string(i);
    f.mysqls.upsert(obj(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":")" + n +
                        R"(","namespace":"demo","uid":"u)" + n + R"("},"spec":{"version":"8.4.3","storageType":"Ephemeral"}})"));
    f.secrets.upsert(secret(n + "-auth", {{"username", "root"}, {"password", "pw"}}));
    f.sts.upsert(obj(R"({"metadata":{"name":")" + n + R"(","namespace":"demo"},"status":{"readyReplicas":1}})"));
  }
  f.checker.start();
  for (int i = 0; i < 20; ++i) f.checker.trigger("demo/db" + std::to_string(i));
  REQUIRE(f.waitFor([&] { return f.probes.load() >= 1; }));
  f.checker.stop();
  CHECK(f.probes.load() <= 2);  // the checks in flight (two workers), not the twenty queued
}

TEST_CASE("health: stopping gives a check in flight a grace, then leaves it behind", "[community][health]") {
  Fixture f;
  f.hang = true;
  f.checker.start();
  f.checker.trigger("demo/my");
  REQUIRE(f.waitFor([&] { return f.probes.load() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(f.checker.stop(100ms));  // the probe still hangs: not waited for past the grace
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  f.hang = false;
  CHECK(f.checker.stop());  // the left-behind worker ends once its probe answers
}

namespace {

// A TLS database whose server Secret holds `secretCert`, and a scripted server presenting
// `served` until a reload statement makes it present `afterReload`.
struct TlsFixture {
  testing::TestPki pki;
  testing::KeyPair v1 = pki.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30});
  testing::KeyPair v2 = pki.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30});
  core::FakeClock clock{core::systemClock().now()};
  runtime::ObjectCache mysqls, secrets, sts;
  std::mutex mu;
  std::string served, afterReload;
  std::string version = "10.11.6-MariaDB";
  std::optional<std::string> refuse;  // the server's answer to the reload statement
  bool down = false;                   // the server does not answer at all
  std::vector<std::string> statements;
  int changes = 0;
  prometheus::Registry registry;
  // The Secret cache as main() makes it: certificates summarized, CAs pooled (one at most here,
  // so that another CA pushes the server's out).
  size_t poolCapacity;
  std::shared_ptr<CaPool> pool = std::make_shared<CaPool>(poolCapacity);
  bool verifying = false;  // the probe and the reload connection verify the server with the target's CA
  bool signs(const ProbeTarget& t) {
    if (!verifying || !t.tls) return true;
    auto c = pki::parseCertificate(served);
    auto cas = pki::parseCertificateChain(t.tls->caPem);
    if (!c || !cas) return false;
    return std::any_of(cas->begin(), cas->end(), [&](const pki::Certificate& ca) { return pki::signedBy(*c, ca); });
  }
  std::vector<std::string> passwordTo;  // what was sent the password: a server the connection verified
  std::function<void(Json&)> transform = summarizingSecretTransform({"username", "password"}, pool);
  Json apiServerSecret;  // the server Secret as the API server holds it
  int rereads = 0;
  std::string probedCa;  // what the last probe verified the server with
  HealthChecker checker{mysqls, secrets, sts, [this](const std::string&) { ++changes; },
                        {.probe = [this](const ProbeTarget& t) -> core::Result<ProbeResult> {
                           if (down) return core::unavailable("cannot connect to " + t.host);
                           {
                             std::lock_guard l(mu);
                             if (!signs(t)) {
                               return core::unavailable("cannot connect to " + t.host +
                                                        ":3306: ERROR 2026: TLS/SSL error: self-signed certificate in certificate chain");
                             }
                           }
                           probedCa = t.tls ? t.tls->caPem : "";
                           passwordTo.push_back(served);
                           return ProbeResult{version, "TLSv1.3", "x"};
                         },
                         .fetchServed = [this](const std::string& host, int, std::chrono::seconds) -> core::Result<std::string> {
                           std::lock_guard l(mu);
                           if (host != "my-0.my-pods.demo.svc") return core::unavailable("unexpected host " + host);
                           return served;
                         },
                         .runStatement = [this](const ProbeTarget& t, const std::string& sql) -> core::Status {
                           std::lock_guard l(mu);
                           if (!signs(t)) return core::unavailable("TLS/SSL error: self-signed certificate in certificate chain");
                           statements.push_back(t.host + ": " + sql);
                           passwordTo.push_back(served);
                           if (refuse) return core::Error(core::ErrorCode::kInvalid, *refuse);
                           served = afterReload;
                           return {};
                         },
                         .metrics = &registry,
                         .caPool = pool,
                         .rereadSecret = [this](const std::string& ns, const std::string& name) -> runtime::ObjectPtr {
                           ++rereads;
                           if (ns != "demo" || name != "my-server-cert") return nullptr;
                           Json s = apiServerSecret;
                           transform(s);
                           return std::make_shared<const Json>(std::move(s));
                         }},
                        clock};
  explicit TlsFixture(size_t capacity = 1) : poolCapacity(capacity) {
    mysqls.upsert(obj(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":"my","namespace":"demo","uid":"u1"},
      "spec":{"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"authSecret":{"name":"my-auth"},
              "tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}}})"));
    secrets.upsert(secret("my-auth", {{"username", "root"}, {"password", "pw"}}));
    sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"},"status":{"readyReplicas":1}})"));
    holdInSecret(v1);
    served = afterReload = v1.certPem;
  }
  // The database's trust bundle as the reconciler keeps it (trust_bundle.h): these CAs, owned by it.
  void trustBundle(const std::vector<std::string>& pems, const std::string& ns = "demo", const std::string& uid = "u1") {
    std::string all;
    for (const auto& p : pems) all += p;
    Json b = *secret("my-ca-bundle", {{"ca.crt", all}});
    b["metadata"]["namespace"] = ns;
    b["metadata"]["labels"] = {{"app.kubernetes.io/name", "mysqls.kubedb.com"}, {"app.kubernetes.io/instance", "my"},
                               {"app.kubernetes.io/managed-by", "kubedb.com"}};
    b["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"}, {"name", "my"},
                                                     {"uid", uid}, {"controller", true}}});
    transform(b);
    secrets.upsert(std::make_shared<const Json>(std::move(b)));
  }
  void holdInSecret(const testing::KeyPair& k, const std::string& caPem = "") {
    apiServerSecret = *secret("my-server-cert", {{"ca.crt", caPem.empty() ? pki.ca().certPem : caPem}, {"tls.crt", k.certPem}, {"tls.key", k.keyPem}});
    Json cached = apiServerSecret;
    transform(cached);
    secrets.upsert(std::make_shared<const Json>(std::move(cached)));
  }
  ServedCertificate pod() {
    auto v = checker.verdict("demo/my", "u1");
    REQUIRE(v);
    REQUIRE(v->served);
    REQUIRE(v->served->size() == 1);
    return v->served->front();
  }
  std::string serial(const testing::KeyPair& k) { return pki::inspect(*pki::parseCertificate(k.certPem)).serialHex; }
};

}  // namespace

TEST_CASE("health: each pod's served certificate is compared with the Secret's, no reload when they match",
          "[community][health][tls]") {
  TlsFixture f;
  REQUIRE(f.checker.check("demo/my"));
  auto s = f.pod();
  CHECK(s.pod == "my-0");
  CHECK(s.matchesSecret);
  CHECK(s.serialNumber == f.serial(f.v1));
  CHECK(s.issuer == "CN=mysqlop-test-ca");
  CHECK(s.reason.empty());
  CHECK(f.statements.empty());
  CHECK(f.changes == 1);
  REQUIRE(f.checker.check("demo/my"));  // the same again: nobody is told
  CHECK(f.changes == 1);
}

TEST_CASE("health: the server is verified with its Secret's CA, kept once in the pool, read again when the pool let it go",
          "[community][health][tls]") {
  TlsFixture f;
  const auto cached = f.secrets.get("demo/my-server-cert");
  REQUIRE(cached);
  CHECK_FALSE((*cached)["data"].contains("ca.crt"));  // no PEM in the cache: a digest and the pool
  CHECK_FALSE((*cached)["data"].contains("tls.crt"));
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.probedCa == f.pki.ca().certPem);
  CHECK(f.rereads == 0);
  CHECK(f.pod().matchesSecret);

  testing::TestPki other;
  f.pool->put(other.ca().certPem);  // a second CA: the pool of one lets the server's go
  REQUIRE_FALSE(caOf(*cached, *f.pool));
  f.probedCa.clear();
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.rereads == 1);
  CHECK(f.probedCa == f.pki.ca().certPem);
  CHECK(caOf(*cached, *f.pool) == f.pki.ca().certPem);  // put back by the transform
}

TEST_CASE("health: a renewed Secret makes the pod reload, and the new certificate is checked", "[community][health][tls]") {
  TlsFixture f;
  REQUIRE(f.checker.check("demo/my"));
  f.holdInSecret(f.v2);   // cert-manager renewed it; the pod's files follow
  f.afterReload = f.v2.certPem;
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements == std::vector<std::string>{"my-0.my-pods.demo.svc: FLUSH SSL"});
  auto s = f.pod();
  CHECK(s.matchesSecret);
  CHECK(s.serialNumber == f.serial(f.v2));
  CHECK(s.lastReloadTime == core::formatTime(f.clock.now()));
  CHECK(f.changes == 2);

  // MySQL is asked in its own words.
  f.version = "8.4.3";
  f.holdInSecret(f.v1);
  f.afterReload = f.v1.certPem;
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements.back() == "my-0.my-pods.demo.svc: ALTER INSTANCE RELOAD TLS");
  CHECK(f.pod().matchesSecret);
}

TEST_CASE("health: after an issuer change the server, still presenting the old CA's certificate, is reloaded",
          "[community][health][tls]") {
  TlsFixture f(8);
  f.verifying = true;
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.pod().matchesSecret);
  // A new CA: the Secret holds its certificate and CA; the server still presents v1 (old CA).
  testing::TestPki neu;
  testing::KeyPair v3 = neu.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30});
  f.holdInSecret(v3, neu.ca().certPem);
  f.afterReload = v3.certPem;
  // Without the old CA in the database's own trust bundle nothing verifies the server: it is
  // neither sent the password nor reloaded (no other CA the operator has seen counts).
  f.passwordTo.clear();
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.passwordTo.empty());
  CHECK(f.statements.empty());
  CHECK_FALSE(f.checker.verdict("demo/my", "u1")->ok);
  // The bundle holds both (the reconciler keeps the old one while a pod serves it).
  f.trustBundle({f.pki.ca().certPem, neu.ca().certPem});
  REQUIRE(f.checker.check("demo/my"));
  // Reloaded over a connection verified with the bundle, which holds the CA of what it presented.
  CHECK(f.statements == std::vector<std::string>{"my-0.my-pods.demo.svc: FLUSH SSL"});
  auto v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK(v->ok);
  CHECK(f.pod().caSha256 == *certificateDigest(neu.ca().certPem));
  CHECK(f.pod().matchesSecret);
  CHECK(f.pod().serialNumber == pki::inspect(*pki::parseCertificate(v3.certPem)).serialHex);

  // A server presenting a certificate no CA seen before signed: not reloaded, reported failing.
  testing::TestPki stranger;
  f.served = stranger.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30}).certPem;
  f.statements.clear();
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements.empty());
  CHECK_FALSE(f.checker.verdict("demo/my", "u1")->ok);
}

TEST_CASE("health: another namespace's Secret with our labels and a foreign CA is never trusted", "[community][health][tls]") {
  // Issue 32: the cache's pool holds every CA any Secret with our labels carries, in any
  // namespace. A tenant's Secret must not make the checker trust the tenant's CA for this database:
  // a server presenting that CA's certificate (the tenant's, at the victim's address) is never sent
  // the root password, nor asked to reload.
  TlsFixture f(8);
  f.verifying = true;
  REQUIRE(f.checker.check("demo/my"));
  REQUIRE(f.checker.verdict("demo/my", "u1")->ok);
  testing::TestPki tenant;
  Json planted = *secret("my-server-cert", {{"ca.crt", tenant.ca().certPem}, {"tls.crt", f.v1.certPem}});
  planted["metadata"]["namespace"] = "tenant";
  planted["metadata"]["labels"] = {{"app.kubernetes.io/name", "mysqls.kubedb.com"}, {"app.kubernetes.io/instance", "my"},
                                   {"app.kubernetes.io/managed-by", "kubedb.com"}};
  f.transform(planted);
  f.secrets.upsert(std::make_shared<const Json>(planted));
  f.trustBundle({tenant.ca().certPem}, "tenant", "u-tenant");  // the tenant's "bundle" for its own "my"
  REQUIRE(f.pool->get(*certificateDigest(tenant.ca().certPem)));  // the pool does hold it
  f.served = tenant.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30}).certPem;
  f.passwordTo.clear();
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.passwordTo.empty());
  CHECK(f.statements.empty());
  CHECK_FALSE(f.checker.verdict("demo/my", "u1")->ok);
  // Nor does a bundle of the right name that this MySQL does not own.
  f.trustBundle({tenant.ca().certPem}, "demo", "u-someone-else");
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.passwordTo.empty());
}

TEST_CASE("health: a changed trust bundle reaches every pod by reloads while the kubelet catches up",
          "[community][health][tls]") {
  TlsFixture f(8);
  f.version = "8.4.3";
  f.trustBundle({f.pki.ca().certPem});
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements.empty());  // first seen: nothing changed
  const std::string a = *certificateDigest(f.pki.ca().certPem);
  auto loaded = [&] { return f.checker.verdict("demo/my", "u1")->loadedCas; };
  CHECK(loaded() == std::vector<std::string>{a});
  testing::TestPki next;
  f.trustBundle({f.pki.ca().certPem, next.ca().certPem});  // a new CA, before any leaf of it
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements == std::vector<std::string>{"my-0.my-pods.demo.svc: ALTER INSTANCE RELOAD TLS"});
  CHECK(loaded() == std::vector<std::string>{a});  // not said to be loaded yet
  f.clock.advance(60s);
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements.size() == 2);  // still within the kubelet's refresh: again
  f.clock.advance(61s);
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements.size() == 2);  // past it, and my-0 reloaded in its second half: loaded, no more
  CHECK(loaded() == std::vector<std::string>{a, *certificateDigest(next.ca().certPem)});

  // A reload the server refuses is no reload: the window ends, yet the CA is not said loaded and
  // the reloads go on until one goes through.
  testing::TestPki third;
  f.trustBundle({f.pki.ca().certPem, next.ca().certPem, third.ca().certPem});
  f.refuse = "my-0.my-pods.demo.svc:3306 refused \"ALTER INSTANCE RELOAD TLS\": ERROR 3888: Failed to set up SSL";
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.checker.check("demo/my"));
    f.clock.advance(40s);
  }
  CHECK(loaded().size() == 2);
  f.refuse.reset();
  REQUIRE(f.checker.check("demo/my"));  // reloads
  REQUIRE(f.checker.check("demo/my"));  // and says so
  CHECK(loaded().size() == 3);
  CHECK(f.pod().matchesSecret);
  CHECK(f.pod().lastReloadTime.empty());  // a reload for the trust is not a certificate's
}

TEST_CASE("health: the trust bundle's CAs are in the expiry gauge while they are in it", "[community][health][tls]") {
  TlsFixture f(8);
  testing::TestPki next;
  f.trustBundle({f.pki.ca().certPem, next.ca().certPem});
  REQUIRE(f.checker.check("demo/my"));
  auto metrics = [&] { return prometheus::TextSerializer().Serialize(f.registry.Collect()); };
  auto series = [&](const std::string& pem) {
    const auto notAfter = std::chrono::duration_cast<std::chrono::seconds>(
                              pki::inspect(*pki::parseCertificate(pem)).notAfter.time_since_epoch()).count();
    return fmt::format(R"(mysqlop_certificate_expiration_timestamp_seconds{{alias="ca:{}",mysql="my",namespace="demo",pod="",source="bundle"}} {})",
                       certificateDigest(pem)->substr(0, 16), notAfter);
  };
  CHECK_THAT(metrics(), Catch::Contains(series(f.pki.ca().certPem)) && Catch::Contains(series(next.ca().certPem)));
  f.trustBundle({next.ca().certPem});  // the old one left
  REQUIRE(f.checker.check("demo/my"));
  CHECK_THAT(metrics(), !Catch::Contains(series(f.pki.ca().certPem)) && Catch::Contains(series(next.ca().certPem)));
}

TEST_CASE("health: files that lag behind the Secret are retried without new news", "[community][health][tls]") {
  TlsFixture f;
  REQUIRE(f.checker.check("demo/my"));
  f.holdInSecret(f.v2);  // the pod's files still hold v1: a reload brings v1 again
  REQUIRE(f.checker.check("demo/my"));
  auto s = f.pod();
  CHECK_FALSE(s.matchesSecret);
  CHECK(s.reason == api::kReasonServedOutdated);
  CHECK_THAT(s.message, Catch::Contains("the pod's files are not refreshed yet"));
  CHECK(s.lastReloadTime.empty());  // no reload brought the Secret's certificate yet
  const int told = f.changes;
  f.clock.advance(1s);
  REQUIRE(f.checker.check("demo/my"));  // retried: asked again, nothing new to tell
  CHECK(f.statements.size() == 2);
  CHECK(f.changes == told);
  f.afterReload = f.v2.certPem;  // the kubelet has synced the volume
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.pod().matchesSecret);
  CHECK(f.changes == told + 1);
}

TEST_CASE("health: a reload the server refuses or cannot do is reported, the old certificate still named",
          "[community][health][tls]") {
  TlsFixture f;
  f.holdInSecret(f.v2);
  f.refuse = "my-0.my-pods.demo.svc:3306 refused \"FLUSH SSL\": ERROR 1105: Failed to refresh SSL cipher";
  REQUIRE(f.checker.check("demo/my"));
  auto s = f.pod();
  CHECK_FALSE(s.matchesSecret);
  CHECK(s.reason == api::kReasonReloadFailed);
  CHECK_THAT(s.message, Catch::Contains("ERROR 1105") && Catch::Contains("it still serves serial " + f.serial(f.v1)));
  CHECK(s.serialNumber == f.serial(f.v1));

  f.refuse.reset();
  f.version = "5.7.44";
  const size_t asked = f.statements.size();
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.statements.size() == asked);  // nothing to ask an old server
  CHECK(f.pod().reason == api::kReasonReloadUnsupported);
  CHECK_THAT(f.pod().message, Catch::Contains("cannot reload TLS without a restart"));
}

TEST_CASE("health: a served certificate close to its expiry, or past it, is reported", "[community][health][tls]") {
  TlsFixture f;  // a 30-day certificate, a 7-day warning window
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.pod().expiry.empty());
  f.clock.advance(std::chrono::hours(24 * 24));
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.pod().expiry == api::kReasonExpiresSoon);
  CHECK(f.changes == 2);  // news: the reconciler writes the condition
  f.clock.advance(std::chrono::hours(24 * 7));
  REQUIRE(f.checker.check("demo/my"));
  CHECK(f.pod().expiry == api::kReasonExpired);
  CHECK(f.pod().matchesSecret);  // the Secret holds it too: the renewal is what is missing
}

TEST_CASE("health: expiry gauges per Secret and per served certificate, reloads counted, all gone with the database",
          "[community][health][tls]") {
  TlsFixture f;
  auto metrics = [&] { return prometheus::TextSerializer().Serialize(f.registry.Collect()); };
  auto notAfterOf = [](const std::string& pem) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                              pki::inspect(*pki::parseCertificate(pem)).notAfter.time_since_epoch()).count());
  };
  const auto notAfter = notAfterOf(f.v1.certPem);
  // A server that does not answer: what its Secrets hold is still exported.
  f.down = true;
  REQUIRE(f.checker.check("demo/my"));
  CHECK_THAT(metrics(), Catch::Contains(R"(mysqlop_certificate_expiration_timestamp_seconds{alias="server",mysql="my",namespace="demo",pod="",source="secret"} )" + notAfter));
  CHECK_THAT(metrics(), !Catch::Contains(R"(source="served")"));
  f.down = false;
  REQUIRE(f.checker.check("demo/my"));
  const std::string m = metrics();
  CHECK_THAT(m, Catch::Contains(R"(mysqlop_certificate_expiration_timestamp_seconds{alias="server",mysql="my",namespace="demo",pod="",source="secret"} )" + notAfter));
  CHECK_THAT(m, Catch::Contains(R"(mysqlop_certificate_expiration_timestamp_seconds{alias="server",mysql="my",namespace="demo",pod="my-0",source="served"} )" + notAfter));
  f.holdInSecret(f.v2);
  f.afterReload = f.v2.certPem;
  REQUIRE(f.checker.check("demo/my"));
  CHECK_THAT(metrics(), Catch::Contains(R"(mysqlop_tls_reloads_total{mysql="my",namespace="demo",result="success"} 1)"));
  f.checker.forget("demo/my");
  CHECK_THAT(metrics(), !Catch::Contains(R"(mysql="my")"));
}

}  // namespace mysqlop::community

namespace mysqlop::community {
namespace {

core::Result<std::string> noCertificate(const std::string& host, int port, std::chrono::seconds) {
  return core::unavailable(host + ":" + std::to_string(port) + ": not asked in this test");
}

// A group of three whose members answer as scripted: my-2 OFFLINE until it is told to start.
struct GroupFixture {
  testing::TestPki pki;
  testing::KeyPair server = pki.issue({.commonName = "my.demo.svc", .serverAuth = true, .validDays = 30});
  core::FakeClock clock{core::systemClock().now()};
  runtime::ObjectCache mysqls, secrets, sts;
  std::mutex mu;
  std::map<std::string, std::string> state = {{"my-0", "ONLINE"}, {"my-1", "ONLINE"}, {"my-2", "OFFLINE"}};
  std::vector<std::string> ran;  // "my-N: statement"
  std::atomic<int> asked{0};
  std::atomic<int> changes{0};
  bool joinHangs = false;  // a START that does not return until released
  std::string refuseJoin;  // this member's START is refused (it stays in ERROR)
  std::atomic<bool> release{false};
  std::string primary = "my-0";
  std::atomic<bool> probeHangs{false};  // the probe through the primary Service waits until released
  std::atomic<bool> probing{false};     // it has been entered
  HealthChecker checker{mysqls, secrets, sts, [this](const std::string&) { ++changes; },
                        {.interval = 10s, .workers = 1, .probe = [this](const ProbeTarget&) -> core::Result<ProbeResult> {
                           probing = true;
                           while (probeHangs && !release.load()) std::this_thread::sleep_for(5ms);
                           return ProbeResult{"9.7.4-2", "TLSv1.3", "TLS_AES_256_GCM_SHA384"};
                         },
                         .fetchServed = [this](const std::string&, int, std::chrono::seconds) -> core::Result<std::string> { return server.certPem; },
                         .group = {.query = [this](const ProbeTarget& t, const std::vector<std::string>&) -> core::Result<std::vector<dbclient::Rows>> {
                                     ++asked;
                                     std::lock_guard l(mu);
                                     const std::string me = t.host.substr(0, t.host.find('.'));
                                     std::vector<dbclient::Rows> out(4);
                                     out[0] = {{std::to_string(me.back() - '0' + 1), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee:1-9"}};
                                     if (state[me] == "ONLINE") {
                                       for (const auto& [pod, st] : state) {
                                         if (st == "ONLINE") out[1].push_back({pod + ".my-pods.demo.svc", st, pod == primary ? "PRIMARY" : "SECONDARY", pod == me ? "1" : "0"});
                                       }
                                     } else {
                                       out[1].push_back({me + ".my-pods.demo.svc", state[me], "", "1"});
                                     }
                                     out[2] = {{"/CN=my.demo.svc"}};
                                     out[3] = {{"mysqlop_repl"}};
                                     return out;
                                   },
                                   .run = [this](const ProbeTarget& t, const std::vector<std::string>& statements) -> core::Status {
                                     const std::string me = t.host.substr(0, t.host.find('.'));
                                     for (const auto& s : statements) {
                                       {
                                         std::lock_guard l(mu);
                                         ran.push_back(me + ": " + s);
                                       }
                                       if (s != "START GROUP_REPLICATION") continue;
                                       if (me == refuseJoin) return core::invalid(t.host + ":3306 refused \"START GROUP_REPLICATION\": ERROR 3092");
                                       while (joinHangs && !release.load()) std::this_thread::sleep_for(5ms);
                                       std::lock_guard l(mu);
                                       state[me] = "ONLINE";
                                     }
                                     return {};
                                   },
                                   // No group channel is asked here (group_test covers the roll-over).
                                   .fetchClientCert = noCertificate,
                                   .fetchGroupCert = noCertificate},
                         .groupWatch = 20ms},
                        clock};
  GroupFixture() {
    mysqls.upsert(obj(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":"my","namespace":"demo","uid":"u1"},
      "spec":{"version":"9.7.4","storageType":"Ephemeral","requireSSL":true,"authSecret":{"name":"my-auth"},"replicas":3,
              "topology":{"mode":"GroupReplication","group":{"name":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}},
              "tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}}})"));
    secrets.upsert(secret("my-auth", {{"username", "root"}, {"password", "pw"}}));
    secrets.upsert(secret("my-server-cert", {{"ca.crt", pki.ca().certPem}, {"tls.crt", server.certPem}}));
    sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"},"status":{"readyReplicas":3}})"));
  }
  std::optional<GroupFacts> group() {
    auto v = checker.verdict("demo/my", "u1");
    return v ? v->group : std::nullopt;
  }
  // Whether the verdict names `pod` as the primary within two seconds.
  bool toldPrimary(const std::string& pod) {
    for (int i = 0; i < 200; ++i) {
      if (auto g = group(); g && g->primary == pod) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

}  // namespace

TEST_CASE("health: a group's members are asked and driven, the roles told before a join",
          "[community][health][group]") {
  GroupFixture f;
  // A first check records a verdict; my-2 joins in it.
  REQUIRE(f.checker.check("demo/my"));
  REQUIRE(f.group());
  CHECK(f.group()->reason == api::kReasonGroupOnline);
  CHECK(f.group()->primary == "my-0");
  {
    std::lock_guard l(f.mu);
    CHECK(std::find(f.ran.begin(), f.ran.end(), "my-2: START GROUP_REPLICATION") != f.ran.end());
  }

  // my-1 restarts: while its join hangs, what the members said before it is already told.
  {
    std::lock_guard l(f.mu);
    f.state["my-1"] = "OFFLINE";
  }
  f.joinHangs = true;
  const int before = f.changes.load();
  std::thread t([&] { f.checker.check("demo/my"); });
  REQUIRE(f.checker.verdict("demo/my", "u1"));
  bool told = false;
  for (int i = 0; i < 200 && !told; ++i) {
    auto g = f.group();
    told = g && g->reason == api::kReasonGroupMemberNotOnline && f.changes.load() > before;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(told);
  f.release = true;
  t.join();
  CHECK(f.group()->reason == api::kReasonGroupOnline);
}

TEST_CASE("health: a new primary is told before the rest of the check, which can wait on a member that has gone",
          "[community][health][group]") {
  GroupFixture f;
  {
    std::lock_guard l(f.mu);
    f.state["my-2"] = "ONLINE";
  }
  REQUIRE(f.checker.check("demo/my"));
  REQUIRE(f.group());
  CHECK(f.group()->primary == "my-0");
  // The group elects my-1 (nothing for the operator to do); the probe through the Service, still
  // on the old primary, hangs until its timeout.
  {
    std::lock_guard l(f.mu);
    f.primary = "my-1";
  }
  f.probeHangs = true;
  std::thread t([&] { f.checker.check("demo/my"); });
  CHECK(f.toldPrimary("my-1"));
  f.release = true;
  t.join();
}

TEST_CASE("health: while a probe waits on a member that has gone, the members are asked again and a new primary told",
          "[community][health][group]") {
  GroupFixture f;
  {
    std::lock_guard l(f.mu);
    f.state["my-2"] = "ONLINE";
  }
  REQUIRE(f.checker.check("demo/my"));  // a verdict to tell changes to
  f.probing = false;
  f.probeHangs = true;
  std::thread t([&] { f.checker.check("demo/my"); });
  for (int i = 0; i < 200 && !f.probing; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(f.probing);
  // The group elects my-1 after the check asked the members, while its probe hangs.
  {
    std::lock_guard l(f.mu);
    f.primary = "my-1";
  }
  CHECK(f.toldPrimary("my-1"));
  f.release = true;
  t.join();
  // The check's own verdict ends with what the members said last, not what they said first.
  REQUIRE(f.group());
  CHECK(f.group()->primary == "my-1");
}

TEST_CASE("health: a group not whole is checked again within seconds, a whole one at the interval", "[community][health][group]") {
  auto ticks = [](GroupFixture& f, int seconds) {
    for (int i = 0; i < seconds; ++i) {
      f.clock.advance(1s);
      std::this_thread::sleep_for(30ms);
    }
  };
  auto waitAsked = [](GroupFixture& f, int n) {
    for (int i = 0; i < 300 && f.asked.load() < n; ++i) std::this_thread::sleep_for(10ms);
    return f.asked.load() >= n;
  };
  SECTION("my-2 cannot join: looked at again after 2 s, not 10") {
    GroupFixture f;
    f.refuseJoin = "my-2";
    f.checker.start();
    f.checker.trigger("demo/my");
    REQUIRE(waitAsked(f, 6));  // asked, acted, asked again
    std::this_thread::sleep_for(50ms);
    const int n = f.asked.load();
    ticks(f, 3);
    CHECK(waitAsked(f, n + 3));
    CHECK(f.group()->reason == api::kReasonGroupMemberNotOnline);
    f.checker.stop();
  }
  SECTION("every member ONLINE: nothing more until the interval") {
    GroupFixture f;
    {
      std::lock_guard l(f.mu);
      f.state["my-2"] = "ONLINE";
    }
    f.checker.start();
    f.checker.trigger("demo/my");
    REQUIRE(waitAsked(f, 3));
    std::this_thread::sleep_for(50ms);
    const int n = f.asked.load();
    ticks(f, 5);
    CHECK(f.asked.load() == n);
    ticks(f, 6);
    CHECK(waitAsked(f, n + 3));
    f.checker.stop();
  }
}

}  // namespace mysqlop::community
