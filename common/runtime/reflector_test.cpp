#include "common/runtime/reflector.h"

#include <catch2/catch.hpp>

#include "common/kube/object.h"
#include "common/runtime/cache.h"
#include "common/runtime/leader_election.h"
#include "common/runtime/writes.h"

namespace mysqlop::runtime {
namespace {

using namespace std::chrono;
using A = Reflector::Action;

TEST_CASE("reflector: list, watch from its RV, re-watch on a normal end, relist on 410",
          "[runtime][reflector]") {
  core::FakeClock clock;
  Reflector r({}, clock, [] { return 0.5; });
  CHECK(r.next().action == A::kList);
  CHECK_FALSE(r.hasSynced());
  r.listed("100");
  CHECK(r.hasSynced());
  auto w = r.next();
  CHECK(w.action == A::kWatch);
  CHECK(w.resourceVersion == "100");
  CHECK(w.timeoutSeconds == 450);  // [300, 600)
  r.observed("105");
  r.observed("");  // events without an RV do not move it
  r.watchEnded({});
  CHECK(r.next().action == A::kWatch);
  CHECK(r.next().resourceVersion == "105");
  r.watchEnded(core::Error(core::ErrorCode::kGone, "too old resource version"));
  CHECK(r.next().action == A::kList);
}

TEST_CASE("reflector: a watch closed at once with nothing seen backs off instead of spinning", "[runtime][reflector]") {
  core::FakeClock clock;
  Reflector r({}, clock, [] { return 0.0; });
  r.listed("10");
  // Closed by the server (or a proxy) the moment it opens: not a normal end.
  for (auto want : {milliseconds{800}, milliseconds{1600}}) {
    REQUIRE(r.next().action == A::kWatch);
    r.watchEnded({});
    auto s = r.next();
    REQUIRE(s.action == A::kWait);
    CHECK(s.wait == want);
    r.waited();
    clock.advance(s.wait);
  }
  // A watch that ran its course (over a second), or saw events, is re-opened at once.
  REQUIRE(r.next().action == A::kWatch);
  clock.advance(seconds{2});
  r.watchEnded({});
  REQUIRE(r.next().action == A::kWatch);
  r.observed("11");
  r.watchEnded({});
  CHECK(r.next().action == A::kWatch);
}

TEST_CASE("reflector: failures back off 0.8 s → 30 s with jitter, forgotten after 2 min",
          "[runtime][reflector]") {
  core::FakeClock clock;
  Reflector r({}, clock, [] { return 0.0; });
  std::vector<nanoseconds> waits;
  for (int i = 0; i < 8; ++i) {
    r.listFailed(core::unavailable("connection refused"));
    auto s = r.next();
    REQUIRE(s.action == A::kWait);
    waits.push_back(s.wait);
    r.waited();
    CHECK(r.next().action == A::kList);
    clock.advance(s.wait);
  }
  CHECK(waits[0] == milliseconds{800});
  CHECK(waits[1] == milliseconds{1600});
  CHECK(waits[5] == milliseconds{25600});
  CHECK(waits[6] == seconds{30});
  clock.advance(minutes{3});
  r.listFailed(core::unavailable("again"));
  CHECK(r.next().wait == milliseconds{800});
  // A failed watch backs off and then watches again from where it was.
  r.waited();
  r.listed("7");
  r.watchEnded(core::timeout("silent server"));
  auto s = r.next();
  CHECK(s.action == A::kWait);
  r.waited();
  CHECK(r.next().action == A::kWatch);
  CHECK(r.next().resourceVersion == "7");

  Reflector jittered({}, clock, [] { return 0.999; });
  jittered.listFailed(core::unavailable("x"));
  CHECK(jittered.next().wait > milliseconds{1500});
  CHECK(jittered.next().wait < milliseconds{1600});
}

TEST_CASE("cache: snapshots and indexes by namespace, label and controller owner", "[runtime][cache]") {
  const bool compact = GENERATE(false, true);
  INFO("compact " << compact);
  ObjectCache c(compact, {labelIndex("app")});
  auto mk = [](const std::string& ns, const std::string& name, const std::string& app, const std::string& owner) {
    Json o = {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", {{"app", app}}}}}};
    if (!owner.empty()) {
      o["metadata"]["ownerReferences"] = Json::array(
          {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "o"}, {"uid", owner}, {"controller", true}}});
    }
    return std::make_shared<const Json>(o);
  };
  c.upsert(mk("a", "x", "db", "u1"));
  c.upsert(mk("a", "y", "web", ""));
  c.upsert(mk("b", "z", "db", "u1"));
  ObjectPtr held = c.get("a/x");
  c.upsert(mk("a", "x", "web", "u2"));  // relabel and re-own
  CHECK((*held)["metadata"]["labels"]["app"] == "db");  // the old snapshot is untouched
  CHECK(c.list("a").size() == 2);
  CHECK(c.byLabel("app", "db").size() == 1);
  CHECK(c.byLabel("app", "web").size() == 2);
  CHECK(c.byOwner("u1").size() == 1);
  CHECK(c.byOwner("u2").size() == 1);
  CHECK(c.list("", *kube::LabelSelector::parse("app=web")).size() == 2);
  ObjectCache::Staged relist(c);
  relist.add(mk("b", "z", "db", "u1"));
  CHECK(c.replace(std::move(relist)).vanished.size() == 2);
  CHECK(c.size() == 1);
  CHECK(c.byLabel("app", "web").empty());
  CHECK(*c.get("b/z") == *mk("b", "z", "db", "u1"));  // the same content, whichever way it is kept
  ObjectPtr previous = c.upsert(mk("b", "z", "web", "u1"));
  REQUIRE(previous);
  CHECK((*previous)["metadata"]["labels"]["app"] == "db");
  CHECK(c.remove("b/z"));
  CHECK(c.byOwner("u1").empty());
  CHECK(c.byLabel("app", "db").empty());
  CHECK_THROWS_AS(c.byLabel("tier", "x"), std::logic_error);  // not indexed: a programming error
  CHECK(splitKey("a/x") == std::pair<std::string, std::string>{"a", "x"});
  CHECK(splitKey("cluster-scoped") == std::pair<std::string, std::string>{"", "cluster-scoped"});
}

TEST_CASE("cache: a relist stored as it arrives reports what it added, changed and removed", "[runtime][cache]") {
  const bool compact = GENERATE(false, true);
  INFO("compact " << compact);
  ObjectCache c(compact, {labelIndex("app")});
  auto mk = [](const std::string& name, const std::string& rv, const std::string& app) {
    return std::make_shared<const Json>(
        Json{{"metadata", {{"namespace", "a"}, {"name", name}, {"resourceVersion", rv}, {"labels", {{"app", app}}}}}});
  };
  c.upsert(mk("same", "1", "db"));
  c.upsert(mk("changed", "1", "db"));
  c.upsert(mk("gone", "1", "db"));
  ObjectCache::Staged staged(c);
  staged.add(mk("same", "1", "db"));
  staged.add(mk("changed", "2", "web"));
  staged.add(mk("new", "3", "web"));
  CHECK(c.size() == 3);  // nothing changes until the swap
  auto r = c.replace(std::move(staged));
  std::map<std::string, std::pair<std::string, std::string>> changed;  // key → (previous rv, current rv)
  for (const auto& ch : r.changed) {
    changed[ch.key] = {ch.previous ? kube::resourceVersion(*ch.previous->object()) : "",
                       kube::resourceVersion(*ch.current.object())};
  }
  CHECK(changed == std::map<std::string, std::pair<std::string, std::string>>{{"a/changed", {"1", "2"}}, {"a/new", {"", "3"}}});
  REQUIRE(r.vanished.size() == 1);
  CHECK(kube::name(*r.vanished.front().object()) == "gone");
  CHECK(c.size() == 3);
  CHECK(c.byLabel("app", "web").size() == 2);  // indexed as stored
  CHECK(c.byLabel("app", "db").size() == 1);
  CHECK(*c.get("a/new") == *mk("new", "3", "web"));
}

TEST_CASE("cache: a compact cache keeps objects of one kind deflated against the first, and gives them back whole",
          "[runtime][cache]") {
  ObjectCache c(true);
  auto sts = [](int i) {  // what an operator makes for database i: the same shape, other names
    const std::string db = "db" + std::to_string(i);
    Json container = {{"name", "mysql"}, {"image", "mysql:8.4.3"},
                      {"args", {"--ssl-ca=/etc/mysql/certs/server/ca.crt", "--ssl-cert=/etc/mysql/certs/server/tls.crt",
                                "--ssl-key=/etc/mysql/certs/server/tls.key", "--require-secure-transport=ON"}},
                      {"volumeMounts", {{{"name", "server-tls"}, {"mountPath", "/etc/mysql/certs/server"}},
                                        {{"name", "data"}, {"mountPath", "/var/lib/mysql"}}}}};
    Json o = {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}};
    o["metadata"] = {{"namespace", "demo"}, {"name", db}, {"uid", "uid-" + std::to_string(i * 7919)},
                     {"resourceVersion", std::to_string(1000 + i)},
                     {"labels", {{"app.kubernetes.io/instance", db}, {"app.kubernetes.io/managed-by", "kubedb.com"}}}};
    o["spec"] = {{"serviceName", db + "-pods"}, {"replicas", 1}};
    o["spec"]["template"]["spec"]["containers"] = Json::array({container});
    o["spec"]["template"]["spec"]["volumes"] =
        Json::array({{{"name", "server-tls"}, {"secret", {{"secretName", db + "-server-cert"}}}}});
    o["data"] = {{"secret", "first-object-data-" + std::to_string(i)}};
    return std::make_shared<const Json>(std::move(o));
  };
  size_t packed = 0;
  for (int i = 0; i < 200; ++i) {
    auto o = sts(i);
    packed += Json::to_msgpack(*o).size();
    c.upsert(o);
  }
  for (int i : {0, 1, 117, 199}) CHECK(*c.get("demo/db" + std::to_string(i)) == *sts(i));
  INFO("MessagePack " << packed << " bytes, kept " << c.storedBytes());
  CHECK(c.storedBytes() * 4 < packed);
  // A relist of the same versions changes nothing; a new version is seen as one.
  ObjectCache::Staged staged(c);
  for (int i = 0; i < 200; ++i) {
    Json o = *sts(i);
    if (i == 5) o["metadata"]["resourceVersion"] = "9";
    staged.add(std::make_shared<const Json>(std::move(o)));
  }
  auto r = c.replace(std::move(staged));
  REQUIRE(r.changed.size() == 1);
  CHECK(r.changed.front().key == "demo/db5");
  CHECK(r.vanished.empty());
}

TEST_CASE("leader election decisions", "[runtime][leader]") {
  CHECK(decideLease(false, "", 0, {}, "me") == LeaseAction::kCreate);
  CHECK(decideLease(true, "me", 15, seconds{100}, "me") == LeaseAction::kRenew);
  CHECK(decideLease(true, "", 1, {}, "me") == LeaseAction::kAcquire);  // released
  CHECK(decideLease(true, "other", 15, seconds{14}, "me") == LeaseAction::kWait);
  CHECK(decideLease(true, "other", 15, seconds{15}, "me") == LeaseAction::kAcquire);  // expired
}

TEST_CASE("write helpers: server-defaulted fields do not make a converged object look changed",
          "[runtime][writes]") {
  Json live = Json::parse(R"({"metadata": {"name": "my", "labels": {"a": "1", "extra": "x"}, "resourceVersion": "7"},
      "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.12", "sessionAffinity": "None",
               "ports": [{"name": "db", "port": 3306, "protocol": "TCP", "targetPort": "db"}]}})");
  Json desired = Json::parse(R"({"metadata": {"name": "my", "labels": {"a": "1"}},
      "spec": {"type": "ClusterIP", "ports": [{"name": "db", "port": 3306, "targetPort": "db"}]}})");
  CHECK(satisfies(live, mergeDesired(live, desired)));
  Json changedPort = desired;
  changedPort["spec"]["ports"][0]["port"] = 3307;
  CHECK_FALSE(satisfies(live, mergeDesired(live, changedPort)));
  Json extraPort = desired;
  extraPort["spec"]["ports"].push_back({{"name", "x"}, {"port", 1}});
  CHECK_FALSE(satisfies(live, mergeDesired(live, extraPort)));
  Json label = desired;
  label["metadata"]["labels"]["b"] = "2";
  CHECK_FALSE(satisfies(live, mergeDesired(live, label)));
}

}  // namespace
}  // namespace mysqlop::runtime
