// The health checker with in-memory caches and a scripted probe: what it dials, when it tells
// the reconciler, and that a steady verdict stays quiet.
#include "community-operator/controller/health_checker.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/kube/base64.h"

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

struct Fixture {
  core::FakeClock clock;
  runtime::ObjectCache mysqls, secrets, sts;
  std::mutex mu;
  std::vector<std::string> changes;
  std::atomic<int> probes{0};
  std::atomic<bool> down{false};  // what the scripted server answers
  std::atomic<bool> slow{false};  // each answer takes 50 ms
  core::Result<ProbeResult> script(const ProbeTarget& t) {
    if (slow.load()) std::this_thread::sleep_for(50ms);
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
                         }},
                        clock};
  Fixture() {
    mysqls.upsert(obj(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":"my","namespace":"demo","uid":"u1"},
      "spec":{"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"authSecret":{"name":"my-auth"},
              "tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}}})"));
    secrets.upsert(secret("my-auth", {{"username", "root"}, {"password", "pw"}}));
    secrets.upsert(secret("my-server-cert", {{"ca.crt", "CA PEM"}, {"tls.crt", "x"}}));
    sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"}})"));
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
  CHECK(t->tls->caPem == "CA PEM");
  CHECK(t->tls->verifyHostname);  // requireSSL

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
  for (int round = 2; round <= 4; ++round) {
    f.clock.advance(10s);
    REQUIRE(f.waitFor([&] { return f.probes.load() >= round; }));
  }
  CHECK(f.changeCount() == 1);

  f.down = true;
  f.clock.advance(10s);
  REQUIRE(f.waitFor([&] { return f.changeCount() == 2; }));
  v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK_FALSE(v->ok);
  CHECK(v->message == "cannot connect to my.demo.svc:3306: ERROR 2002: refused");
  f.checker.stop();
}

TEST_CASE("health: a database without a StatefulSet, halted or deleted is not checked", "[community][health]") {
  Fixture f;
  CHECK(f.checker.check("demo/my"));  // the fixture's database is checked
  CHECK(f.probes.load() == 1);
  REQUIRE(f.checker.verdict("demo/my", "u1"));

  f.sts.remove("demo/my");
  CHECK_FALSE(f.checker.check("demo/my"));

  f.sts.upsert(obj(R"({"metadata":{"name":"my","namespace":"demo"}})"));
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

TEST_CASE("health: stopping does not wait for the queued checks", "[community][health]") {
  Fixture f;
  f.slow = true;
  for (int i = 0; i < 20; ++i) {
    const std::string n = "db" + std::to_string(i);
    f.mysqls.upsert(obj(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":")" + n +
                        R"(","namespace":"demo","uid":"u)" + n + R"("},"spec":{"version":"8.4.3","storageType":"Ephemeral"}})"));
    f.secrets.upsert(secret(n + "-auth", {{"username", "root"}, {"password", "pw"}}));
    f.sts.upsert(obj(R"({"metadata":{"name":")" + n + R"(","namespace":"demo"}})"));
  }
  f.checker.start();
  for (int i = 0; i < 20; ++i) f.checker.trigger("demo/db" + std::to_string(i));
  REQUIRE(f.waitFor([&] { return f.probes.load() >= 1; }));
  f.checker.stop();
  CHECK(f.probes.load() <= 2);  // the checks in flight (two workers), not the twenty queued
}

}  // namespace mysqlop::community
