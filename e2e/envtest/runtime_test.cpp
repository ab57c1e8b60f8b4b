// common/runtime against envtest (a real sandbox-apiserver in-process, port 0): informers under
// watch drops, compaction and injected faults; a sample controller end to end; the manager's
// probes and metrics.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/kube/conditions.h"
#include "common/kube/object.h"
#include "common/runtime/manager.h"
#include "common/runtime/writes.h"
#include "e2e/envtest/envtest.h"

namespace mysqlop::runtime {
namespace {

using namespace std::chrono;

// One envtest server per case, with the helpers these tests share.
struct Cluster {
  envtest::Envtest env;
  client::RestConfig cfg = env.config();
  std::unique_ptr<client::RestClient> admin = env.connect();

  Json hook(const std::string& method, const std::string& path, const Json& body = Json::object()) {
    auto r = env.hook(method, path, body);
    REQUIRE(r);
    return *r;
  }
  // Requests counted by the sandbox since the last reset, for one verb and resource.
  int64_t count(const std::string& verb, const std::string& resource) { return env.requests(verb, resource); }
  static Json configMap(const std::string& name, Json labels = Json::object(), Json data = {{"k", "v"}}) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}}, {"data", data}};
  }
  template <typename P>
  bool eventually(P pred, milliseconds limit = milliseconds{15000}) {
    return envtest::eventually(pred, limit);
  }
};

// Records what handlers see, per key.
struct Recorder {
  std::mutex mu;
  std::map<std::string, std::vector<int64_t>> rvs;  // per key, every RV handled
  std::set<std::string> deleted;
  bool duplicate = false;
  EventHandler handler() {
    auto seen = [this](const ObjectPtr& o) {
      std::lock_guard lock(mu);
      auto& v = rvs[objectKey(*o)];
      int64_t rv = std::stoll(kube::resourceVersion(*o));
      if (!v.empty() && rv <= v.back()) duplicate = true;
      v.push_back(rv);
    };
    return {seen, [seen](const ObjectPtr&, const ObjectPtr& o) { seen(o); },
            [this](const ObjectPtr& o) {
              std::lock_guard lock(mu);
              deleted.insert(objectKey(*o));
            }};
  }
};

TEST_CASE("informer: dropped watches resume from the last RV — 1,000 writes, nothing twice, nothing missed",
          "[runtime][informer]") {
  Cluster c;
  Informer inf(*c.admin, kube::kConfigMaps, {.namespace_ = "default"});
  Recorder rec;
  inf.addHandler(rec.handler());
  inf.start();
  REQUIRE(inf.waitForSync(seconds{10}));

  std::set<int64_t> written;
  std::atomic<bool> writing{true};
  std::thread dropper([&] {
    while (writing.load()) {
      c.hook("POST", "drop-watches");
      std::this_thread::sleep_for(milliseconds{25});
    }
  });
  std::vector<Json> cms;
  for (int i = 0; i < 10; ++i) {
    auto r = c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("cm-" + std::to_string(i)));
    REQUIRE(r);
    written.insert(std::stoll(kube::resourceVersion(*r)));
    cms.push_back(*r);
  }
  for (int i = 0; i < 990; ++i) {
    Json& cm = cms[static_cast<size_t>(i % 10)];
    cm["data"]["n"] = std::to_string(i);
    auto r = c.admin->update(kube::kConfigMaps, cm);
    REQUIRE(r);
    cm = *r;
    written.insert(std::stoll(kube::resourceVersion(*r)));
  }
  writing = false;
  dropper.join();

  auto serverList = c.admin->list(kube::kConfigMaps, "default");
  REQUIRE(serverList);
  REQUIRE(c.eventually([&] {
    for (const auto& item : (*serverList)["items"]) {
      auto cached = inf.cache().get(objectKey(item));
      if (!cached || kube::resourceVersion(*cached) != kube::resourceVersion(item)) return false;
    }
    return inf.cache().size() == (*serverList)["items"].size();
  }));
  std::lock_guard lock(rec.mu);
  CHECK_FALSE(rec.duplicate);
  std::set<int64_t> handled;
  for (const auto& [k, v] : rec.rvs) handled.insert(v.begin(), v.end());
  for (int64_t rv : written) {
    if (!handled.count(rv)) FAIL("write at RV " << rv << " never reached a handler");
  }
  inf.stop();
}

TEST_CASE("informer: after compaction a 410 relists and reports what vanished as deleted",
          "[runtime][informer]") {
  Cluster c;
  for (int i = 0; i < 5; ++i) REQUIRE(c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("cm-" + std::to_string(i))));
  Informer inf(*c.admin, kube::kConfigMaps, {.namespace_ = "default"});
  Recorder rec;
  inf.addHandler(rec.handler());
  inf.start();
  REQUIRE(inf.waitForSync(seconds{10}));
  c.hook("DELETE", "counters");
  // Hold the informer's next watch back, end the current one, and meanwhile delete an object
  // and forget the history: the resumed watch gets 410 and must relist.
  c.hook("POST", "faults", {{"verb", "watch"}, {"path", "/api/v1/namespaces/default/configmaps"}, {"delayMs", 1500}, {"count", 1}});
  c.hook("POST", "drop-watches");
  std::this_thread::sleep_for(milliseconds{300});
  REQUIRE(c.admin->remove(kube::kConfigMaps, "default", "cm-3"));
  c.hook("POST", "compact");
  REQUIRE(c.eventually([&] {
    std::lock_guard lock(rec.mu);
    return rec.deleted.count("default/cm-3") == 1;
  }));
  CHECK_FALSE(inf.cache().get("default/cm-3"));
  CHECK(inf.cache().get("default/cm-2"));
  CHECK(c.count("list", "configmaps") >= 1);  // it relisted
  inf.stop();
}

TEST_CASE("informer: injected 500s and a 429 back off (no tight loop) and recover", "[runtime][informer]") {
  Cluster c;
  REQUIRE(c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("one")));
  c.hook("DELETE", "counters");
  c.hook("POST", "faults", {{"verb", "list"}, {"path", "/api/v1/namespaces/default/configmaps"}, {"code", 500}, {"count", 2}});
  c.hook("POST", "faults", {{"verb", "list"}, {"path", "/api/v1/namespaces/default/configmaps"}, {"code", 429}, {"retryAfter", 1}, {"count", 1}});
  InformerOptions o{.namespace_ = "default"};
  o.reflector.backoff.initial = milliseconds{100};
  Informer inf(*c.admin, kube::kConfigMaps, o);
  auto start = steady_clock::now();
  inf.start();
  REQUIRE(inf.waitForSync(seconds{10}));
  auto took = steady_clock::now() - start;
  CHECK(took >= milliseconds{700});  // 100 + 200 + 400 ms at least
  CHECK(c.count("list", "configmaps") == 4);  // three failures, one success: no tight loop
  CHECK(inf.cache().get("default/one"));
  inf.stop();
}

// The sample controller: every ConfigMap labelled mirror=yes gets an owned copy <name>-mirror.
struct Mirror {
  static Json desired(const Json& src) {
    Json copy = Cluster::configMap(kube::name(src) + "-mirror", {{"mirror-of", kube::name(src)}},
                                   src.value("data", Json::object()));
    REQUIRE(kube::addOwnerReference(copy, kube::makeOwnerReference(src, true)));
    return copy;
  }
};

TEST_CASE("sample controller: owned copies follow their source, are re-created, and are collected",
          "[runtime][controller]") {
  Cluster c;
  auto mgr = Manager::create(c.cfg, {.name = "mirror-test", .metricsBindAddress = "127.0.0.1:0",
                                     .healthBindAddress = "127.0.0.1:0"});
  REQUIRE(mgr);
  Manager& m = **mgr;
  Informer& sources = m.informer(kube::kConfigMaps, {.labelSelector = "mirror=yes"});
  Informer& copies = m.informer(kube::kConfigMaps, {.labelSelector = "mirror-of"});
  std::atomic<int> reconciles{0};
  std::mutex mu;
  std::set<std::string> running;
  std::atomic<bool> overlap{false};
  Controller& ctl = m.controller({.name = "mirror", .workers = 3}, [&](const Request& r, std::stop_token) -> core::Result<ReconcileResult> {
    {
      std::lock_guard lock(mu);
      if (!running.insert(r.key()).second) overlap = true;
    }
    ++reconciles;
    auto src = sources.cache().get(r.key());
    core::Result<ReconcileResult> out = ReconcileResult{};
    if (src) {
      auto copy = copies.cache().get(r.namespace_, r.name + "-mirror");
      auto w = createOrUpdate(m.client(), kube::kConfigMaps, copy, Mirror::desired(*src));
      if (!w) out = w.error();
    }
    std::lock_guard lock(mu);
    running.erase(r.key());
    return out;
  });
  ctl.watchPrimary(sources);
  ctl.watchOwned(copies, "", "ConfigMap");
  std::thread runner([&] { CHECK(m.run() == 0); });

  auto copyData = [&](const std::string& key) -> std::string {
    auto r = c.admin->get(kube::kConfigMaps, "default", "src-mirror");
    return r ? (*r)["data"].value(key, "") : "<none>";
  };
  REQUIRE(c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("src", {{"mirror", "yes"}}, {{"k", "1"}})));
  CHECK(c.eventually([&] { return copyData("k") == "1"; }));
  REQUIRE(c.admin->patch(kube::kConfigMaps, "default", "src", kube::PatchType::kMerge, {{"data", {{"k", "2"}}}}));
  CHECK(c.eventually([&] { return copyData("k") == "2"; }));
  // Somebody deletes the copy: the owned-object watch brings it back.
  REQUIRE(c.admin->remove(kube::kConfigMaps, "default", "src-mirror"));
  CHECK(c.eventually([&] { return copyData("k") == "2"; }));
  // Somebody edits the copy: restored.
  REQUIRE(c.admin->patch(kube::kConfigMaps, "default", "src-mirror", kube::PatchType::kMerge, {{"data", {{"k", "x"}}}}));
  CHECK(c.eventually([&] { return copyData("k") == "2"; }));

  // A converged object re-reconciled writes nothing.
  CHECK(c.eventually([&] { return ctl.queue().len() == 0; }));
  std::this_thread::sleep_for(milliseconds{300});
  c.hook("DELETE", "counters");
  int before = reconciles.load();
  for (int i = 0; i < 5; ++i) {
    ctl.enqueue({"default", "src"});
    std::this_thread::sleep_for(milliseconds{40});
  }
  CHECK(c.eventually([&] { return reconciles.load() >= before + 3 && ctl.queue().len() == 0; }));
  std::this_thread::sleep_for(milliseconds{200});
  for (const char* verb : {"create", "update", "patch", "delete"}) {
    INFO(verb);
    CHECK(c.count(verb, "configmaps") == 0);
  }

  // Deleting the source: the API server's garbage collector removes the copy.
  REQUIRE(c.admin->remove(kube::kConfigMaps, "default", "src"));
  CHECK(c.eventually([&] { return copyData("k") == "<none>"; }));
  CHECK_FALSE(overlap.load());

  // Probes and metrics.
  httplib::Client health("127.0.0.1", m.healthPort());
  auto ready = health.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  httplib::Client metrics("127.0.0.1", m.metricsPort());
  // The copy's deletion just queued its owner once more: the queue drains back to 0.
  std::string body;
  CHECK(c.eventually([&] {
    auto text = metrics.Get("/metrics");
    body = text ? text->body : "";
    return body.find("workqueue_depth{name=\"mirror\"} 0") != std::string::npos;
  }));
  for (const char* name : {"controller_runtime_reconcile_total{controller=\"mirror\",result=\"success\"}",
                           "controller_runtime_reconcile_time_seconds_bucket", "workqueue_adds_total{name=\"mirror\"}",
                           "workqueue_depth{name=\"mirror\"} 0", "workqueue_queue_duration_seconds_bucket",
                           "rest_client_requests_total{code=\"200\",method=\"GET\"}",
                           "rest_client_requests_total{code=\"201\",method=\"POST\"}"}) {
    INFO(name);
    CHECK(body.find(name) != std::string::npos);
  }
  m.stop();
  runner.join();
}

TEST_CASE("event recorder: repeats aggregate into one Event, bursts are limited, keys never leak",
          "[runtime][events]") {
  Cluster c;
  auto cm = c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("target"));
  REQUIRE(cm);
  core::FakeClock clock;
  EventRecorder rec(*c.admin, "test-operator", "pod-1", clock);
  for (int i = 0; i < 3; ++i) rec.event(*cm, kEventNormal, "Provisioned", "the database is ready");
  rec.event(*cm, kEventWarning, "IssuerNotReady", "issuer demo/ca is not Ready");
  rec.event(*cm, kEventWarning, "Leak", "-----BEGIN " + std::string("PRIVATE") + " KEY-----\nMII...");  // a fake PEM
  auto events = c.admin->list(kube::kEvents, "default", {.fieldSelector = "involvedObject.name=target"});
  REQUIRE(events);
  std::map<std::string, Json> byReason;
  for (const auto& e : (*events)["items"]) byReason[e["reason"]] = e;
  REQUIRE(byReason.size() == 2);  // the private-key message was refused
  CHECK(byReason["Provisioned"]["count"] == 3);
  CHECK(byReason["Provisioned"]["type"] == "Normal");
  CHECK(byReason["Provisioned"]["involvedObject"]["uid"] == kube::uid(*cm));
  CHECK(byReason["Provisioned"]["source"]["component"] == "test-operator");
  CHECK(byReason["IssuerNotReady"]["count"] == 1);
  // The 25-event burst per object and reason, then silence until tokens refill (1 per 5 min).
  for (int i = 0; i < 40; ++i) rec.event(*cm, kEventNormal, "Spam", "message " + std::to_string(i));
  auto spam = c.admin->list(kube::kEvents, "default", {.fieldSelector = "reason=Spam"});
  REQUIRE(spam);
  CHECK((*spam)["items"].size() == 25);
  clock.advance(std::chrono::minutes{5});
  rec.event(*cm, kEventNormal, "Spam", "after the refill");
  CHECK((*c.admin->list(kube::kEvents, "default", {.fieldSelector = "reason=Spam"}))["items"].size() == 26);
}

TEST_CASE("event recorder: what it remembers stays bounded", "[runtime][events]") {
  Cluster c;
  auto cm = c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("target"));
  REQUIRE(cm);
  core::FakeClock clock;
  EventRecorder rec(*c.admin, "test-operator", "pod-1", clock);
  // Events about 5,000 different objects (uids) in a burst: never more than the bound.
  Json obj = *cm;
  for (int i = 0; i < 5000; ++i) {
    obj["metadata"]["uid"] = "uid-" + std::to_string(i);
    rec.event(obj, kEventNormal, "Provisioned", "ready");
    if (i % 500 == 0) {
      auto [seen, buckets] = rec.remembered();
      CHECK(seen <= EventRecorder::kMaxRemembered);
      CHECK(buckets <= EventRecorder::kMaxRemembered);
    }
  }
  auto [seen, buckets] = rec.remembered();
  CHECK(seen <= EventRecorder::kMaxRemembered);
  CHECK(buckets <= EventRecorder::kMaxRemembered);
  // An hour and more later, one more Event: the rest is forgotten (expired, buckets full again).
  clock.advance(std::chrono::hours(3));
  obj["metadata"]["uid"] = "uid-last";
  rec.event(obj, kEventNormal, "Provisioned", "ready");
  CHECK(rec.remembered() == std::pair<size_t, size_t>{1, 1});
}

TEST_CASE("write helpers: status conditions re-read on 409, finalizers, unchanged objects not written",
          "[runtime][writes]") {
  Cluster c;
  auto cm = c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("obj", {{"a", "1"}}));
  REQUIRE(cm);
  auto cached = std::make_shared<const Json>(*cm);
  // Desired equal to what is there: no write.
  c.hook("DELETE", "counters");
  auto same = createOrUpdate(*c.admin, kube::kConfigMaps, cached, Cluster::configMap("obj", {{"a", "1"}}));
  REQUIRE(same);
  CHECK(*same == WriteOutcome::kUnchanged);
  CHECK(c.count("update", "configmaps") == 0);
  // A change is written with the cached RV; a stale cache gets Conflict (to requeue).
  auto changed = createOrUpdate(*c.admin, kube::kConfigMaps, cached, Cluster::configMap("obj", {{"b", "2"}}));
  REQUIRE(changed);
  CHECK(*changed == WriteOutcome::kUpdated);
  auto stale = createOrUpdate(*c.admin, kube::kConfigMaps, cached, Cluster::configMap("obj", {{"c", "3"}}));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == core::ErrorCode::kConflict);
  auto now = c.admin->get(kube::kConfigMaps, "default", "obj");
  REQUIRE(now);
  CHECK((*now)["metadata"]["labels"] == Json{{"a", "1"}, {"b", "2"}});  // merged, not replaced

  auto fin = ensureFinalizer(*c.admin, kube::kConfigMaps, *now, "test.example.com/hold");
  REQUIRE(fin);
  CHECK(*fin);
  now = c.admin->get(kube::kConfigMaps, "default", "obj");
  CHECK(kube::hasFinalizer(*now, "test.example.com/hold"));
  CHECK_FALSE(*ensureFinalizer(*c.admin, kube::kConfigMaps, *now, "test.example.com/hold"));
  CHECK(*dropFinalizer(*c.admin, kube::kConfigMaps, *now, "test.example.com/hold"));

  // Status: a Lease has no status subresource here, so use a Namespace (it has one).
  REQUIRE(c.admin->create(kube::kNamespaces, "", {{"metadata", {{"name", "st"}}}}));
  int attempts = 0;
  auto wrote = updateStatus(*c.admin, kube::kNamespaces, "", "st", [&](Json& obj) {
    if (++attempts == 1) {
      // Someone else writes in between: our first write must conflict and be retried.
      Json other = obj;
      other["metadata"]["labels"]["x"] = "y";
      REQUIRE(c.admin->update(kube::kNamespaces, other));
    }
    return kube::setStatusCondition(obj, {"Ready", "True", "Tested", "", 0, ""}, std::chrono::system_clock::now());
  });
  REQUIRE(wrote);
  CHECK(*wrote);
  CHECK(attempts == 2);
  auto ns = c.admin->get(kube::kNamespaces, "", "st");
  REQUIRE(ns);
  CHECK(kube::findStatusCondition(*ns, "Ready")->status == "True");
  auto again = updateStatus(*c.admin, kube::kNamespaces, "", "st", [&](Json& obj) {
    return kube::setStatusCondition(obj, {"Ready", "True", "Tested", "", 0, ""}, std::chrono::system_clock::now());
  });
  REQUIRE(again);
  CHECK_FALSE(*again);  // nothing changed: nothing written
}

TEST_CASE("manager: a leader's metrics show leadership, errors and retries", "[runtime][manager]") {
  Cluster c;
  auto mgr = Manager::create(c.cfg, {.name = "metrics-test", .metricsBindAddress = "127.0.0.1:0",
                                     .healthBindAddress = "0", .leaderElection = true,
                                     .leaderElectionNamespace = "default", .exitOnLostLease = false});
  REQUIRE(mgr);
  Manager& m = **mgr;
  Informer& cms = m.informer(kube::kConfigMaps, {.namespace_ = "default", .labelSelector = "flaky"});
  std::atomic<int> calls{0};
  Controller& ctl = m.controller({.name = "flaky"}, [&](const Request&, std::stop_token) -> core::Result<ReconcileResult> {
    if (++calls == 1) return core::unavailable("first attempt fails");
    return ReconcileResult{};
  });
  ctl.watchPrimary(cms);
  std::thread runner([&] { m.run(); });
  REQUIRE(c.eventually([&] { return m.isLeader(); }));
  REQUIRE(c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("f", {{"flaky", "yes"}})));
  REQUIRE(c.eventually([&] { return calls.load() >= 2; }));
  auto lease = c.admin->get(kube::kLeases, "default", "metrics-test-leader");
  REQUIRE(lease);
  CHECK((*lease)["spec"]["holderIdentity"] == m.identity());
  httplib::Client metrics("127.0.0.1", m.metricsPort());
  // The second reconcile has begun; its result is counted when it returns.
  std::string body;
  CHECK(c.eventually([&] {
    auto text = metrics.Get("/metrics");
    body = text ? text->body : "";
    return body.find("controller_runtime_reconcile_total{controller=\"flaky\",result=\"success\"} 1") != std::string::npos;
  }));
  for (const char* line : {"leader_election_master_status{name=\"metrics-test-leader\"} 1",
                           "controller_runtime_reconcile_errors_total{controller=\"flaky\"} 1",
                           "controller_runtime_reconcile_total{controller=\"flaky\",result=\"error\"} 1",
                           "controller_runtime_reconcile_total{controller=\"flaky\",result=\"success\"} 1",
                           "workqueue_retries_total{name=\"flaky\"} 1"}) {
    INFO(line);
    CHECK(body.find(line) != std::string::npos);
  }
  m.stop();
  runner.join();
  // A clean stop releases the lease.
  auto released = c.admin->get(kube::kLeases, "default", "metrics-test-leader");
  REQUIRE(released);
  CHECK((*released)["spec"]["holderIdentity"] == "");
}

TEST_CASE("manager: /readyz names a failing check, never why (no cluster ID, no licence reason)", "[runtime][manager]") {
  Cluster c;
  auto mgr = Manager::create(c.cfg, {.name = "readyz-test", .metricsBindAddress = "0", .healthBindAddress = "127.0.0.1:0"});
  REQUIRE(mgr);
  Manager& m = **mgr;
  std::atomic<bool> valid{false};
  m.addReadyCheck("licence", [&]() -> std::optional<std::string> {
    if (valid) return std::nullopt;
    return std::string("licence invalid for cluster 6f1c2d3e-0000-4000-8000-000000000001: expired");
  });
  std::thread runner([&] { m.run(); });
  REQUIRE(c.eventually([&] { return m.healthPort() > 0; }));
  httplib::Client health("127.0.0.1", m.healthPort());
  auto r = health.Get("/readyz");
  REQUIRE(r);
  CHECK(r->status == 500);
  CHECK(r->body == "not ready: licence\n");
  // Why is for the log (and the operator's conditions and metrics), whoever reaches this port.
  CHECK(m.notReady() == std::vector<std::string>{"licence: licence invalid for cluster 6f1c2d3e-0000-4000-8000-000000000001: expired"});
  valid = true;
  r = health.Get("/readyz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "ok");
  m.stop();
  runner.join();
}

TEST_CASE("manager: an API server unavailable past the cache-sync timeout does not leave the operator idle",
          "[runtime][manager]") {
  Cluster c;
  // Lists fail with 503 for longer than the controller's cache-sync timeout (1 s): three
  // failures back off 0.8 s, 1.6 s, 3.2 s at most.
  c.hook("POST", "faults", {{"verb", "list"}, {"path", "/api/v1/namespaces/default/configmaps"}, {"code", 503}, {"count", 3}});
  auto mgr = Manager::create(c.cfg, {.name = "idle-test", .metricsBindAddress = "0", .healthBindAddress = "127.0.0.1:0"});
  REQUIRE(mgr);
  Manager& m = **mgr;
  Informer& cms = m.informer(kube::kConfigMaps, {.namespace_ = "default"});
  std::atomic<int> reconciled{0};
  Controller& ctl = m.controller({.name = "patient", .cacheSyncTimeout = std::chrono::seconds{1}},
                                 [&](const Request& r, std::stop_token) -> core::Result<ReconcileResult> {
                                   if (r.name == "after-outage") ++reconciled;
                                   return ReconcileResult{};
                                 });
  ctl.watchPrimary(cms);
  std::thread runner([&] { m.run(); });
  REQUIRE(c.eventually([&] { return m.healthPort() > 0; }));
  httplib::Client health("127.0.0.1", m.healthPort());
  // While the lists fail, readiness says what is missing.
  auto during = health.Get("/readyz");
  REQUIRE(during);
  CHECK(during->status == 500);
  // The port names the check; why is the process's to log.
  CHECK_THAT(during->body, Catch::StartsWith("not ready: informers"));
  CHECK(during->body.find("configmaps") == std::string::npos);
  const auto why = m.notReady();
  CHECK(std::find(why.begin(), why.end(), "informer configmaps not synced") != why.end());
  // The API recovers: the controller starts by itself and a ConfigMap made now is reconciled.
  REQUIRE(c.eventually([&] { return ctl.running(); }, milliseconds{20000}));
  REQUIRE(c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("after-outage")));
  CHECK(c.eventually([&] { return reconciled.load() > 0; }));
  CHECK(c.eventually([&] {
    auto r = health.Get("/readyz");
    return r && r->status == 200;
  }));
  m.stop();
  runner.join();
}

TEST_CASE("controller: a Retry-After of 0 on every attempt backs off instead of spinning", "[runtime][manager]") {
  Cluster c;
  REQUIRE(c.admin->create(kube::kConfigMaps, "default", Cluster::configMap("throttled")));
  // Every write the reconciler tries is answered 429 with Retry-After: 0.
  c.hook("POST", "faults", {{"verb", "update"}, {"path", "/api/v1/namespaces/default/configmaps/throttled"}, {"code", 429},
                            {"retryAfter", 0}, {"count", 100000}});
  auto mgr = Manager::create(c.cfg, {.name = "throttled", .metricsBindAddress = "0", .healthBindAddress = "0"});
  REQUIRE(mgr);
  Manager& m = **mgr;
  Informer& cms = m.informer(kube::kConfigMaps, {.namespace_ = "default"});
  std::atomic<int> attempts{0};
  Controller& ctl = m.controller({.name = "throttled"}, [&](const Request& r, std::stop_token) -> core::Result<ReconcileResult> {
    if (r.name != "throttled") return ReconcileResult{};
    ++attempts;
    auto cm = c.admin->get(kube::kConfigMaps, "default", "throttled");
    if (!cm) return cm.error();
    auto updated = c.admin->update(kube::kConfigMaps, *cm);
    if (!updated) return updated.error();
    return ReconcileResult{};
  });
  ctl.watchPrimary(cms);
  std::thread runner([&] { m.run(); });
  REQUIRE(c.eventually([&] { return attempts.load() > 0; }));
  std::this_thread::sleep_for(milliseconds{2000});
  // The key's backoff (5 ms doubling) gives about ten attempts in two seconds; a Retry-After of
  // 0 taken literally would give thousands.
  CHECK(attempts.load() <= 15);
  m.stop();
  runner.join();
}

TEST_CASE("manager: a controller whose CRD is installed only after the start runs once it is", "[runtime][manager]") {
  Cluster c;
  const kube::ResourceType widgets{{"example.com", "v1", "widgets"}, "Widget", true};
  auto mgr = Manager::create(c.cfg, {.name = "crd-later", .metricsBindAddress = "0", .healthBindAddress = "127.0.0.1:0"});
  REQUIRE(mgr);
  Manager& m = **mgr;
  Informer& inf = m.informer(widgets, {.namespace_ = "default"});
  std::atomic<int> reconciled{0};
  Controller& ctl = m.controller({.name = "widgets", .cacheSyncTimeout = std::chrono::seconds{1}},
                                 [&](const Request&, std::stop_token) -> core::Result<ReconcileResult> {
                                   ++reconciled;
                                   return ReconcileResult{};
                                 });
  ctl.watchPrimary(inf);
  std::thread runner([&] { m.run(); });
  REQUIRE(c.eventually([&] { return m.healthPort() > 0; }));
  std::this_thread::sleep_for(milliseconds{1500});  // past the sync timeout, no CRD
  CHECK_FALSE(ctl.running());
  httplib::Client health("127.0.0.1", m.healthPort());
  auto waiting = health.Get("/readyz");
  REQUIRE(waiting);
  CHECK(waiting->status == 500);
  CHECK(waiting->body == "not ready: informers, controllers\n");
  const auto why = m.notReady();
  CHECK(std::find(why.begin(), why.end(), "informer widgets.example.com not synced") != why.end());
  Json crd = {{"apiVersion", "apiextensions.k8s.io/v1"}, {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.example.com"}}},
              {"spec", {{"group", "example.com"}, {"scope", "Namespaced"},
                        {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}, {"listKind", "WidgetList"}}},
                        {"versions", Json::array({{{"name", "v1"}, {"served", true}, {"storage", true},
                                                   {"schema", {{"openAPIV3Schema", {{"type", "object"},
                                                                                    {"x-kubernetes-preserve-unknown-fields", true}}}}}}})}}}};
  REQUIRE(c.admin->create(kube::kCustomResourceDefinitions, "", crd));
  REQUIRE(c.eventually([&] { return ctl.running(); }, milliseconds{40000}));
  REQUIRE(c.admin->create(widgets, "default", {{"apiVersion", "example.com/v1"}, {"kind", "Widget"},
                                                {"metadata", {{"name", "w"}, {"namespace", "default"}}}}));
  CHECK(c.eventually([&] { return reconciled.load() > 0; }));
  m.stop();
  runner.join();
}

TEST_CASE("manager: /readyz fails until the caches sync", "[runtime][manager]") {
  Cluster c;
  c.hook("POST", "faults", {{"verb", "list"}, {"path", "/api/v1/secrets"}, {"delayMs", 1500}, {"count", 1}});
  auto mgr = Manager::create(c.cfg, {.name = "ready-test", .metricsBindAddress = "0",
                                     .healthBindAddress = "127.0.0.1:0"});
  REQUIRE(mgr);
  Manager& m = **mgr;
  m.informer(kube::kSecrets);
  std::thread runner([&] { m.run(); });
  REQUIRE(c.eventually([&] { return m.healthPort() > 0; }));
  httplib::Client health("127.0.0.1", m.healthPort());
  auto early = health.Get("/readyz");
  REQUIRE(early);
  CHECK(early->status == 500);
  CHECK(early->body == "not ready: informers\n");
  CHECK(m.notReady() == std::vector<std::string>{"informer secrets not synced"});
  CHECK(c.eventually([&] {
    auto r = health.Get("/readyz");
    return r && r->status == 200;
  }));
  auto healthz = health.Get("/healthz");
  REQUIRE(healthz);
  CHECK(healthz->status == 200);
  m.stop();
  runner.join();
}

}  // namespace
}  // namespace mysqlop::runtime
