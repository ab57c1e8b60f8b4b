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
  runtime::ObjectCache mysqls, secrets, sts;
  std::mutex mu;
  std::vector<std::string> changes;
  std::atomic<int> probes{0};
  std::atomic<bool> down{false};  // what the scripted server answers
  core::Result<ProbeResult> script(const ProbeTarget& t) {
    if (down.load()) return core::unavailable("cannot connect to " + t.host + ":3306: ERROR 2002: refused");
    return ProbeResult{"10.11.6-MariaDB", "TLSv1.3", "TLS_AES_256_GCM_SHA384"};
  }
  HealthChecker checker{mysqls, secrets, sts,
                        [this](const std::string& k) {
                          std::lock_guard l(mu);
                          changes.push_back(k);
                        },
                        {.interval = 50ms, .workers = 2, .probe = [this](const ProbeTarget& t) {
                           ++probes;
                           return script(t);
                         }}};
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
  REQUIRE(f.waitFor([&] { return f.changeCount() == 1; }));
  auto v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK(v->ok);
  CHECK(v->message == "my.demo.svc:3306 answered a query over TLSv1.3 (server 10.11.6-MariaDB)");
  CHECK_FALSE(f.checker.verdict("demo/my", "another-uid"));  // a recreated database starts afresh
  // Several more periodic rounds with the same answer: no more calls.
  const int seen = f.probes.load();
  REQUIRE(f.waitFor([&] { return f.probes.load() >= seen + 3; }));
  CHECK(f.changeCount() == 1);

  f.down = true;
  REQUIRE(f.waitFor([&] { return f.changeCount() == 2; }));
  v = f.checker.verdict("demo/my", "u1");
  REQUIRE(v);
  CHECK_FALSE(v->ok);
  CHECK(v->message == "cannot connect to my.demo.svc:3306: ERROR 2002: refused");
  f.checker.stop();
}

TEST_CASE("health: no StatefulSet or a halted database is not checked", "[community][health]") {
  Fixture f;
  f.sts.remove("demo/my");
  f.checker.start();
  f.checker.trigger("demo/my");
  std::this_thread::sleep_for(200ms);
  CHECK(f.probes.load() == 0);
  CHECK_FALSE(f.checker.verdict("demo/my", "u1"));
  f.checker.stop();
}

}  // namespace mysqlop::community
