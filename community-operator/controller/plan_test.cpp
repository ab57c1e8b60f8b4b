// The community operator's decisions without an API server: an Observed state in, the ordered
// writes, the status and the Events out. A small in-memory "apply" stands in for the executor,
// so a test can also show that a converged database plans no write at all.
#include "community-operator/controller/plan.h"

#include "common/api/ops_request.h"

#include <catch2/catch.hpp>

#include "common/api/conditions.h"
#include "common/api/events.h"
#include "common/api/naming.h"
#include "common/api/ops_request.h"
#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/object.h"
#include "common/runtime/writes.h"
#include "common/testing/test_pki.h"
#include "community-operator/controller/secret_summary.h"
#include "community-operator/controller/trust_bundle.h"

namespace mysqlop::community {
namespace {

const core::WallTime kNow = core::WallTime{} + std::chrono::hours(24 * 365 * 56);
const char* kUid = "uid-1";

runtime::ObjectPtr ptr(Json j) { return std::make_shared<const Json>(std::move(j)); }

Json mysql(const std::string& spec, const std::string& extraMeta = "") {
  return Json::parse(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":"my","namespace":"demo",
      "uid":"uid-1","generation":2,"finalizers":["kubedb.com"])" + extraMeta + R"(},"spec":)" + spec + "}");
}

Json version(bool deprecated = false, bool exporter = true) {
  Json v = {{"apiVersion", "catalog.kubedb.com/v1alpha1"}, {"kind", "MySQLVersion"}, {"metadata", {{"name", "8.4.3"}}},
            {"spec", {{"version", "8.4.3"}, {"db", {{"image", "mysql:8.4.3"}}}, {"deprecated", deprecated}}}};
  if (exporter) v["spec"]["exporter"] = {{"image", "prom/mysqld-exporter:v0.15.1"}};
  return v;
}

// A Secret; `ours` gives it the database's labels, `owned` an ownerReference to the MySQL.
runtime::ObjectPtr secret(const std::string& name, bool ours = false, bool owned = false,
                          std::map<std::string, std::string> data = {{"password", "pw"}}) {
  Json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", "demo"}}}};
  for (const auto& [k, v] : data) s["data"][k] = kube::base64Encode(v);
  if (ours) {
    for (const auto& [k, v] : api::offshootLabels("my")) kube::setLabel(s, k, v);
    s["metadata"]["annotations"][std::string(api::kAnnotationAuthSecretFor)] = "my";
  }
  if (owned) (void)kube::addOwnerReference(s, {"kubedb.com/v1", "MySQL", "my", kUid, false, true});
  return ptr(std::move(s));
}

const char* kPlain = R"({"version":"8.4.3","storageType":"Ephemeral"})";
const char* kTls = R"({"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"authSecret":{"name":"my-auth"},
    "tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}})";

Observed observed(const Json& my) {
  Observed o;
  o.mysql = ptr(my);
  o.version = ptr(version());
  return o;
}

// A durable MySQL being deleted with `policy`, with its StatefulSet and its data volume.
Observed deletingWithVolume(const std::string& policy) {
  Observed o = observed(mysql(R"({"version":"8.4.3","storageType":"Durable","storage":{},"deletionPolicy":")" + policy + "\"}",
                              R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"));
  Json sts = {{"metadata", {{"name", "my"}, {"namespace", "demo"}}}};
  (void)kube::addOwnerReference(sts, {"apps/v1", "MySQL", "my", kUid, true, true});
  o.statefulSet = ptr(sts);
  Json pvc = {{"metadata", {{"name", "data-my-0"}, {"namespace", "demo"}}}};
  (void)kube::addOwnerReference(pvc, {"kubedb.com/v1", "MySQL", "my", kUid, false, true});
  o.pvcs.push_back(pvc);
  return o;
}

const testing::TestPki& testCa() {
  static const testing::TestPki pki;
  return pki;
}

// The TLS Secrets (their ca.crt `caPem`) and what the pool holds of it.
void holdTlsSecrets(Observed& o, const std::string& caPem) {
  for (const char* n : {"my-server-cert", "my-client-cert", "my-metrics-exporter-cert"}) {
    o.secrets[n] = secret(n, true, true, {{"tls.crt", "x"}, {"ca.crt", caPem}});
  }
  o.caPems[*certificateDigest(caPem)] = caPem;
}

// Every TLS Secret and the exporter configuration, as cert-manager and the enterprise operator
// make them, and the trust bundle the community operator made of their CA.
void addTlsSecrets(Observed& o) {
  holdTlsSecrets(o, testCa().ca().certPem);
  o.secrets["my-metrics-exporter-config"] = secret("my-metrics-exporter-config", true, true, {{"exporter.cnf", "x"}});
  api::MySQL my;
  my.name = "my";
  my.namespace_ = "demo";
  my.uid = kUid;
  o.secrets["my-ca-bundle"] = ptr(*buildTrustBundle(my, {{*certificateDigest(testCa().ca().certPem), std::nullopt, {}}}, o.caPems));
}

std::optional<kube::Condition> condition(const Plan& p, const Observed& o, std::string_view type) {
  if (!p.status) return kube::findStatusCondition(*o.mysql, type);
  return kube::findCondition(p.status->applyTo(o.mysql->value("status", Json::object()), kNow)["conditions"], type);
}

std::string readyReason(const Plan& p, const Observed& o) {
  auto c = condition(p, o, api::kCondReady);
  return c ? c->reason : "<none>";
}

// What each step is, in order: "ensure:Service/my-pods", "delete:StatefulSet/my", ...
std::vector<std::string> stepNames(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) {
    if (auto* e = std::get_if<EnsureStep>(&s)) out.push_back("ensure:" + e->type->kind + "/" + kube::name(e->desired));
    if (std::holds_alternative<CreateAuthSecretStep>(s)) out.push_back("create-auth-secret");
    if (auto* r = std::get_if<RecordAuthSecretStep>(&s)) out.push_back("record-auth-secret:" + r->name);
    if (auto* d = std::get_if<DeleteStep>(&s)) out.push_back("delete:" + d->type->kind + "/" + d->name);
    if (auto* d = std::get_if<DisownStep>(&s)) out.push_back("disown:" + d->type->kind + "/" + kube::name(d->object));
    if (std::holds_alternative<AddFinalizerStep>(s)) out.push_back("add-finalizer");
    if (std::holds_alternative<DropFinalizerStep>(s)) out.push_back("drop-finalizer");
  }
  return out;
}

// How many requests the plan costs: every step but an ensure of a converged object, and the status.
int writes(const Plan& p) {
  int n = p.status ? 1 : 0;
  for (const auto& s : p.steps) {
    auto* e = std::get_if<EnsureStep>(&s);
    if (!e || !runtime::converged(e->cached, e->desired)) ++n;
  }
  return n;
}

// The executor, in memory: what the caches would hold after the plan was applied.
void applyInMemory(Observed& o, const Plan& p) {
  Json my = *o.mysql;
  for (const auto& s : p.steps) {
    if (auto* e = std::get_if<EnsureStep>(&s)) {
      Json obj = e->cached ? runtime::mergeDesired(*e->cached, e->desired) : e->desired;
      const std::string name = kube::name(obj);
      if (e->type->kind == "Service") o.services[name] = ptr(obj);
      if (e->type->kind == "ServiceAccount") o.serviceAccount = ptr(obj);
      if (e->type->kind == "Role") o.role = ptr(obj);
      if (e->type->kind == "RoleBinding") o.roleBinding = ptr(obj);
      if (e->type->kind == "StatefulSet") o.statefulSet = ptr(obj);
      if (e->type->kind == "Secret") o.secrets[name] = ptr(obj);
    }
    if (std::holds_alternative<CreateAuthSecretStep>(s)) o.secrets["my-auth"] = secret("my-auth", true);
    if (auto* r = std::get_if<RecordAuthSecretStep>(&s)) my["spec"]["authSecret"]["name"] = r->name;
    if (std::holds_alternative<AddFinalizerStep>(s)) kube::addFinalizer(my, api::kFinalizer);
  }
  if (p.status) my["status"] = p.status->applyTo(my.value("status", Json::object()), kNow);
  o.mysql = ptr(my);
}

bool hasEvent(const std::vector<EventSpec>& events, std::string_view reason, bool warning) {
  for (const auto& e : events) {
    if (e.reason == reason && e.warning == warning) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("plan: a new plain MySQL gets its objects in KubeDB's order, then converges to zero writes",
          "[community][plan]") {
  Observed o = observed(mysql(kPlain));
  Plan p = plan(o, kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"ensure:ServiceAccount/my", "ensure:Role/my", "ensure:RoleBinding/my",
                                                 "ensure:Service/my-pods", "ensure:Service/my", "create-auth-secret",
                                                 "record-auth-secret:my-auth", "ensure:StatefulSet/my"});
  CHECK(p.triggerHealth);
  CHECK(readyReason(p, o) == api::kReasonReadinessCheckPending);
  CHECK(p.onStatusWrite.empty());  // a pending check is not news

  // The StatefulSet reports a ready replica and the health checker has spoken.
  applyInMemory(o, p);
  Json sts = *o.statefulSet;
  sts["metadata"]["generation"] = 1;
  sts["status"] = {{"observedGeneration", 1}, {"readyReplicas", 1}};
  o.statefulSet = ptr(sts);
  o.health = HealthFacts{true, "my.demo.svc:3306 answered a query over a plain connection (server 11)"};
  p = plan(o, kNow);
  CHECK_FALSE(p.triggerHealth);
  CHECK(readyReason(p, o) == api::kReasonReadinessCheckSucceeded);
  CHECK(condition(p, o, api::kCondProvisioningStarted)->reason == api::kReasonProvisioningStarted);
  CHECK(condition(p, o, api::kCondReplicaReady)->reason == api::kReasonAllReplicasReady);
  CHECK(condition(p, o, api::kCondAcceptingConnection)->reason == api::kReasonAcceptingConnection);
  CHECK(condition(p, o, api::kCondProvisioned)->reason == api::kReasonProvisioned);
  CHECK(p.status->applyTo(o.mysql->value("status", Json::object()), kNow)["phase"] == "Ready");
  CHECK(hasEvent(p.onStatusWrite, api::kReasonReadinessCheckSucceeded, false));
  CHECK(writes(p) == 1);  // the status only

  applyInMemory(o, p);
  p = plan(o, kNow);
  CHECK(writes(p) == 0);
  CHECK_FALSE(p.status);
  CHECK(p.onStatusWrite.empty());
}

TEST_CASE("plan: what stops provisioning, which blocker wins, and what is made before it", "[community][plan]") {
  struct Row {
    std::string name;
    std::function<void(Observed&)> setup;
    std::string_view reason;
    std::string message;  // a part of the Ready message
    bool warning;
    std::vector<std::string> steps;
  };
  const std::vector<std::string> offshoots = {"ensure:ServiceAccount/my", "ensure:Role/my", "ensure:RoleBinding/my",
                                              "ensure:Service/my-pods", "ensure:Service/my"};
  auto with = [&](std::vector<std::string> extra) {
    auto all = offshoots;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  const std::vector<Row> rows = {
      {"an invalid spec: nothing is made, every field named",
       [](Observed& o) { o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"replicas":3})")); },
       api::kReasonInvalidSpec, "spec.replicas: Invalid value: 3: a standalone server has 1 replica (a group: spec.topology); spec.requireSSL",
       true, {}},
      {"invalid beats a missing version",
       [](Observed& o) {
         o.mysql = ptr(mysql(R"({"version":"9.9","storageType":"Durable"})"));
         o.version = nullptr;
       },
       api::kReasonInvalidSpec, "spec.storage: Required value", true, {}},
      {"an unknown version",
       [](Observed& o) { o.version = nullptr; },
       api::kReasonVersionNotFound, "spec.version: MySQLVersion \"8.4.3\" not found", true, {}},
      {"a malformed catalog entry",
       [](Observed& o) {
         Json v = version();
         v["spec"].erase("db");
         o.version = ptr(v);
       },
       api::kReasonVersionNotFound, "MySQLVersion \"8.4.3\" is malformed: spec.db.image: Required value", true, {}},
      {"monitoring without an exporter image in the catalog",
       [](Observed& o) {
         o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","monitor":{"agent":"prometheus.io/operator"}})"));
         o.version = ptr(version(false, /*exporter=*/false));
       },
       api::kReasonInvalidSpec, "spec.monitor: MySQLVersion \"8.4.3\" has no spec.exporter.image", true, {}},
      {"the user's auth Secret is missing",
       [](Observed& o) { o.mysql = ptr(mysql(kTls)); },
       api::kReasonAuthSecretMissing, "spec.authSecret.name: Secret demo/my-auth does not exist", true, offshoots},
      {"the user's auth Secret has no password",
       [](Observed& o) {
         o.mysql = ptr(mysql(kTls));
         o.secrets["my-auth"] = secret("my-auth", false, false, {{"username", "root"}});
       },
       api::kReasonAuthSecretMissing, "Secret demo/my-auth has no key \"password\"", true, offshoots},
      {"someone else's Secret under the auth Secret's name is left alone",
       [](Observed& o) { o.secrets["my-auth"] = secret("my-auth"); },
       api::kReasonAuthSecretConflict, "intended secret demo/my-auth already exists and does not belong to MySQL demo/my",
       true, offshoots},
      {"the TLS gate names every missing Secret",
       [](Observed& o) {
         o.mysql = ptr(mysql(kTls));
         o.secrets["my-auth"] = secret("my-auth", true);
         o.secrets["my-client-cert"] = secret("my-client-cert", true, true);
       },
       api::kReasonWaitingForTLSSecrets,
       "wait for all necessary secrets for db demo/my: Secrets my-server-cert, my-client-cert, my-metrics-exporter-cert, "
       "my-metrics-exporter-config (made by cert-manager and the enterprise operator; see condition TLSCertificatesReady)",
       false, offshoots},
      {"the TLS gate for the last missing Secret",
       [](Observed& o) {
         o.mysql = ptr(mysql(kTls));
         o.secrets["my-auth"] = secret("my-auth", true);
         addTlsSecrets(o);
         o.secrets.erase("my-metrics-exporter-config");
       },
       api::kReasonWaitingForTLSSecrets,
       "wait for all necessary secrets for db demo/my: Secrets my-server-cert, my-client-cert, my-metrics-exporter-cert, "
       "my-metrics-exporter-config (made by",
       false, offshoots},
      {"halted: the workload is not made",
       [](Observed& o) { o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","halted":true})")); },
       api::kReasonDatabaseHalted, "MySQL demo/my is halted", false,
       with({"create-auth-secret", "record-auth-secret:my-auth"})},
      {"every TLS Secret exists: the StatefulSet is made",
       [](Observed& o) {
         o.mysql = ptr(mysql(kTls));
         o.secrets["my-auth"] = secret("my-auth", true);
         addTlsSecrets(o);
       },
       api::kReasonReadinessCheckPending, "waiting for the first health check", false, with({"ensure:StatefulSet/my"})},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    Observed o = observed(mysql(kPlain));
    r.setup(o);
    Plan p = plan(o, kNow);
    CHECK(readyReason(p, o) == r.reason);
    CHECK_THAT(condition(p, o, api::kCondReady)->message, Catch::Contains(r.message));
    CHECK(stepNames(p) == r.steps);
    if (r.reason == api::kReasonReadinessCheckPending || r.reason == api::kReasonWaitingForTLSSecrets) {
      CHECK_FALSE(hasEvent(p.onStatusWrite, r.reason, r.warning));  // an expected wait: the condition says it
    } else {
      CHECK(hasEvent(p.onStatusWrite, r.reason, r.warning));
    }
    // Said once: the same facts again write nothing and say nothing.
    applyInMemory(o, p);
    Plan again = plan(o, kNow);
    CHECK_FALSE(again.status);
    CHECK(again.onStatusWrite.empty());
  }
}

TEST_CASE("plan: a MySQL waiting for the user's auth Secret looks for it again, and goes on once it exists", "[community][plan]") {
  Observed o = observed(mysql(kTls));  // names Secret my-auth, which does not exist yet
  Plan p = plan(o, kNow);
  CHECK(readyReason(p, o) == api::kReasonAuthSecretMissing);
  CHECK(p.requeueAfter == std::chrono::milliseconds(kUserSecretRecheck));
  applyInMemory(o, p);
  o.secrets["my-auth"] = secret("my-auth", false, false, {{"username", "root"}, {"password", "mine"}});
  Plan found = plan(o, kNow);
  CHECK(readyReason(found, o) == api::kReasonWaitingForTLSSecrets);
  CHECK_FALSE(found.requeueAfter);
}

TEST_CASE("plan: the TLS Secrets appearing one by one cost one status write, then the StatefulSet's", "[community][plan]") {
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth", true);
  Plan p = plan(o, kNow);
  REQUIRE(p.status);  // Provisioning, waiting for the TLS Secrets
  applyInMemory(o, p);
  int statusWrites = 0;
  for (const char* n : {"my-server-cert", "my-client-cert", "my-metrics-exporter-cert"}) {
    o.secrets[n] = secret(n, true, true, {{"tls.crt", "x"}});
    p = plan(o, kNow);
    statusWrites += p.status ? 1 : 0;
    CHECK(readyReason(p, o) == api::kReasonWaitingForTLSSecrets);
    applyInMemory(o, p);
  }
  CHECK(statusWrites == 0);
  addTlsSecrets(o);
  p = plan(o, kNow);
  CHECK(readyReason(p, o) == api::kReasonReadinessCheckPending);
  CHECK(p.status);
}

TEST_CASE("plan: the finalizer comes first, even for an invalid spec", "[community][plan]") {
  Json my = mysql(R"({"storageType":"Ephemeral"})");
  my["metadata"].erase("finalizers");
  Plan p = plan(observed(my), kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"add-finalizer"});
  CHECK(readyReason(p, observed(my)) == api::kReasonInvalidSpec);
}

TEST_CASE("plan: health verdicts, replicas and the StatefulSet's own status", "[community][plan]") {
  Observed o = observed(mysql(kPlain));
  applyInMemory(o, plan(o, kNow));
  Json sts = *o.statefulSet;
  sts["metadata"]["generation"] = 2;
  sts["status"] = {{"observedGeneration", 1}, {"readyReplicas", 1}};  // about an older spec
  o.statefulSet = ptr(sts);
  o.health = HealthFacts{false, "cannot connect to my.demo.svc:3306: refused"};
  Plan p = plan(o, kNow);
  CHECK(condition(p, o, api::kCondReplicaReady)->reason == api::kReasonSomeReplicasNotReady);
  CHECK(readyReason(p, o) == api::kReasonReadinessCheckFailed);
  CHECK(condition(p, o, api::kCondAcceptingConnection)->reason == api::kReasonNotAcceptingConnection);
  CHECK(hasEvent(p.onStatusWrite, api::kReasonReadinessCheckFailed, /*warning=*/true));
  CHECK_FALSE(condition(p, o, api::kCondProvisioned));
}

TEST_CASE("plan: a changed spec rewrites the StatefulSet and checks the database again", "[community][plan]") {
  Observed o = observed(mysql(kPlain));
  o.version = ptr(version(/*deprecated=*/true));
  applyInMemory(o, plan(o, kNow));
  o.health = HealthFacts{true, "ok"};
  o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","authSecret":{"name":"my-auth"},
      "podTemplate":{"spec":{"args":["--max-connections=50"]}}})"));
  Plan p = plan(o, kNow);
  const EnsureStep* sts = nullptr;
  for (const auto& s : p.steps) {
    if (auto* e = std::get_if<EnsureStep>(&s); e && e->type->kind == "StatefulSet") sts = e;
  }
  REQUIRE(sts);
  CHECK_FALSE(runtime::converged(sts->cached, sts->desired));
  CHECK(hasEvent(sts->onWrite, "DeprecatedVersion", /*warning=*/true));
  CHECK(p.triggerHealth);
  CHECK(readyReason(p, o) == api::kReasonReadinessCheckPending);  // the old verdict says nothing of the new pods
}

TEST_CASE("plan: monitoring turned off removes our stats Service, never someone else's", "[community][plan]") {
  Observed o = observed(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","monitor":{"agent":"prometheus.io/operator"}})"));
  Plan p = plan(o, kNow);
  auto names = stepNames(p);
  CHECK(std::count(names.begin(), names.end(), "ensure:Service/my-stats") == 1);
  applyInMemory(o, p);
  o.mysql = ptr(mysql(kPlain));
  p = plan(o, kNow);
  names = stepNames(p);
  CHECK(std::count(names.begin(), names.end(), "delete:Service/my-stats") == 1);

  Json foreign = *o.services["my-stats"];
  kube::removeOwnerReference(foreign, kUid);
  o.services["my-stats"] = ptr(foreign);
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:Service/my-stats") == 0);
}

TEST_CASE("plan: monitor.agent prometheus.io/operator gets a ServiceMonitor where the cluster serves them, else an Event",
          "[community][plan]") {
  const std::string spec = R"({"version":"8.4.3","storageType":"Ephemeral","monitor":{"agent":"prometheus.io/operator",
      "prometheus":{"serviceMonitor":{"labels":{"release":"prometheus"},"interval":"30s"}}}})";
  Observed o = observed(mysql(spec));
  // No monitoring.coreos.com in this cluster: the stats Service alone, and a Warning when it is made.
  Plan p = plan(o, kNow);
  auto names = stepNames(p);
  CHECK(std::count(names.begin(), names.end(), "ensure:ServiceMonitor/my-stats") == 0);
  bool warned = false;
  for (const auto& s : p.steps) {
    auto* e = std::get_if<EnsureStep>(&s);
    if (e && kube::name(e->desired) == "my-stats") warned = hasEvent(e->onWrite, api::kEventServiceMonitorUnavailable, true);
  }
  CHECK(warned);
  // Served: KubeDB's ServiceMonitor for the stats Service, the user's labels and interval.
  o.serviceMonitorsServed = true;
  p = plan(o, kNow);
  const EnsureStep* sm = nullptr;
  for (const auto& s : p.steps) {
    auto* e = std::get_if<EnsureStep>(&s);
    if (e && e->type->kind == "ServiceMonitor") sm = e;
  }
  REQUIRE(sm);
  CHECK(kube::name(sm->desired) == "my-stats");
  CHECK(sm->desired["metadata"]["labels"]["release"] == "prometheus");
  CHECK(sm->desired["spec"]["selector"]["matchLabels"]["kubedb.com/role"] == "stats");
  CHECK(sm->desired["spec"]["endpoints"][0] == Json{{"port", "metrics"}, {"path", "/metrics"}, {"interval", "30s"}, {"honorLabels", true}});
  CHECK(sm->desired["spec"]["namespaceSelector"]["matchNames"] == Json::array({"demo"}));
  // Converged: nothing written. The agent changed: ours goes, never someone else's.
  Json made = sm->desired;
  o.serviceMonitor = ptr(made);
  applyInMemory(o, p);
  CHECK(writes(plan(o, kNow)) == 0);
  o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","monitor":{"agent":"prometheus.io/builtin"}})"));
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:ServiceMonitor/my-stats") == 1);
  kube::removeOwnerReference(made, kUid);
  o.serviceMonitor = ptr(made);
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:ServiceMonitor/my-stats") == 0);
}

TEST_CASE("plan: halting deletes our StatefulSet and keeps everything else", "[community][plan]") {
  Observed o = observed(mysql(kPlain));
  applyInMemory(o, plan(o, kNow));
  o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","authSecret":{"name":"my-auth"},"halted":true})"));
  Plan p = plan(o, kNow);
  auto names = stepNames(p);
  REQUIRE(names.back() == "delete:StatefulSet/my");
  const auto& del = std::get<DeleteStep>(p.steps.back());
  CHECK(del.propagation == "Background");
  CHECK(del.event->reason == "Halted");
  CHECK(condition(p, o, api::kCondHalted)->reason == api::kReasonHalted);
  CHECK(condition(p, o, api::kCondAcceptingConnection)->reason == api::kReasonNotAcceptingConnection);
  CHECK(readyReason(p, o) == api::kReasonDatabaseHalted);
  CHECK(p.status->applyTo(o.mysql->value("status", Json::object()), kNow)["phase"] == "Halted");
}

TEST_CASE("plan: deletion follows the policy", "[community][plan]") {
  struct Row {
    const char* policy;
    std::vector<std::string> steps;
    std::string terminated;  // the Terminated Event's message
  };
  const std::vector<Row> rows = {
      {"Delete",
       {"delete:StatefulSet/my", "delete:PersistentVolumeClaim/data-my-0", "disown:Secret/my-server-cert", "drop-finalizer"},
       "MySQL demo/my deleted with deletionPolicy Delete: removed StatefulSet my, PVC data-my-0"},
      {"Halt",
       {"delete:StatefulSet/my", "disown:PersistentVolumeClaim/data-my-0", "disown:Secret/my-server-cert", "drop-finalizer"},
       "MySQL demo/my deleted with deletionPolicy Halt: removed StatefulSet my"},
      {"WipeOut",
       {"delete:StatefulSet/my", "delete:PersistentVolumeClaim/data-my-0", "delete:Secret/my-auth",
        "delete:Secret/my-server-cert", "drop-finalizer"},
       "MySQL demo/my deleted with deletionPolicy WipeOut: removed StatefulSet my, PVC data-my-0, Secret my-auth, Secret "
       "my-server-cert"},
  };
  for (const auto& r : rows) {
    INFO(r.policy);
    Observed o = deletingWithVolume(r.policy);
    o.secrets["my-auth"] = secret("my-auth", /*ours=*/true);
    o.secrets["my-server-cert"] = secret("my-server-cert", true, /*owned=*/true);
    o.secrets["users-own"] = secret("users-own");  // a user's Secret: never touched
    Plan p = plan(o, kNow);
    CHECK(stepNames(p) == r.steps);
    CHECK(std::get<DropFinalizerStep>(p.steps.back()).event.message == r.terminated);
    CHECK(p.forgetHealth);
    CHECK_FALSE(p.status);
  }
}

TEST_CASE("plan: a deletion removes the volumes only once the pods are gone", "[community][plan]") {
  Observed o = deletingWithVolume("Delete");
  o.pods["my-0"] = ptr({{"metadata", {{"name", "my-0"}, {"namespace", "demo"}}}});
  Plan p = plan(o, kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"delete:StatefulSet/my"});
  CHECK(p.requeueAfter == std::chrono::seconds(1));
  o.statefulSet = nullptr;  // gone; its pod still stopping
  CHECK(stepNames(plan(o, kNow)).empty());
  o.pods.clear();
  CHECK(stepNames(plan(o, kNow)) == std::vector<std::string>{"delete:PersistentVolumeClaim/data-my-0", "drop-finalizer"});
}

TEST_CASE("plan: another KubeDB database's Secrets of the same name are never ours", "[community][plan]") {
  // A KubeDB MariaDB `my` in the namespace: its Secrets carry instance=my and managed-by=kubedb.com.
  auto mariadb = [](const std::string& name) {
    Json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", "demo"}}}, {"data", {{"password", "eA=="}}}};
    kube::setLabel(s, "app.kubernetes.io/name", "mariadbs.kubedb.com");
    kube::setLabel(s, std::string(api::kLabelInstance), "my");
    kube::setLabel(s, std::string(api::kLabelManagedBy), std::string(api::kLabelManagedByValue));
    return ptr(std::move(s));
  };
  // WipeOut deletes only what is ours: not the MariaDB's, not a labelled Secret we did not mark.
  Observed o = observed(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","deletionPolicy":"WipeOut"})",
                              R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"));
  o.secrets["my-auth"] = mariadb("my-auth");
  o.secrets["my-mariadb-cert"] = mariadb("my-mariadb-cert");
  Json unmarked = *secret("my-config", /*ours=*/true);
  unmarked["metadata"].erase("annotations");
  o.secrets["my-config"] = ptr(unmarked);
  o.secrets["my-server-cert"] = secret("my-server-cert", false, /*owned=*/true);
  CHECK(stepNames(plan(o, kNow)) == std::vector<std::string>{"delete:Secret/my-server-cert", "drop-finalizer"});

  // A MySQL `my` does not take the MariaDB's my-auth for its own.
  o = observed(mysql(kPlain));
  o.secrets["my-auth"] = mariadb("my-auth");
  Plan p = plan(o, kNow);
  CHECK(readyReason(p, o) == api::kReasonAuthSecretConflict);
  for (const auto& n : stepNames(p)) CHECK(n.find("Secret/my-auth") == std::string::npos);
}

TEST_CASE("plan: WipeOut waits for the enterprise operator's finalizer, and says so when it lasts", "[community][plan]") {
  // The enterprise operator's finalizer is still there: nothing is deleted yet, we come back.
  Json obj = mysql(R"({"version":"8.4.3","storageType":"Ephemeral","deletionPolicy":"WipeOut"})",
                   R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")");
  obj["metadata"]["finalizers"] = {"kubedb.com", "mysqlop.io/tls-certificates"};
  Observed o = observed(obj);
  o.secrets["my-server-cert"] = secret("my-server-cert", true, true);
  Plan p = plan(o, core::parseTime("2026-01-01T00:00:10Z").value());
  CHECK(stepNames(p).empty());
  CHECK(!p.status);
  CHECK(p.requeueAfter == std::chrono::seconds(30));

  // Half a minute later the status says what is awaited and how to go on without it.
  p = plan(o, core::parseTime("2026-01-01T00:00:30Z").value());
  CHECK(stepNames(p).empty());
  auto blocked = condition(p, o, api::kCondDeletionBlocked);
  REQUIRE(blocked);
  CHECK(blocked->reason == api::kReasonWaitingForCertificateRemoval);
  CHECK(blocked->message ==
        "MySQL demo/my waits for the enterprise operator to remove its Certificates (finalizer mysqlop.io/tls-certificates); "
        "if the enterprise operator is no longer installed, remove that finalizer: kubectl patch mysql my -n demo "
        "--type=merge -p '{\"metadata\":{\"finalizers\":[\"kubedb.com\"]}}'");
  REQUIRE(p.onStatusWrite.size() == 1);
  CHECK(p.onStatusWrite[0].reason == "DeletionBlocked");

  // Gone: the Secrets go, then our finalizer.
  obj["metadata"]["finalizers"] = {"kubedb.com"};
  o.mysql = ptr(obj);
  p = plan(o, core::parseTime("2026-01-01T00:00:31Z").value());
  CHECK(stepNames(p) == std::vector<std::string>{"delete:Secret/my-server-cert", "drop-finalizer"});

  // Other policies do not wait: the Certificates follow the MySQL through their owner references.
  obj["metadata"]["finalizers"] = {"kubedb.com", "mysqlop.io/tls-certificates"};
  obj["spec"]["deletionPolicy"] = "Delete";
  o.mysql = ptr(obj);
  p = plan(o, core::parseTime("2026-01-01T00:00:10Z").value());
  CHECK(stepNames(p) == std::vector<std::string>{"disown:Secret/my-server-cert", "drop-finalizer"});
}

TEST_CASE("plan: a deletion the policy refuses says so once and removes nothing", "[community][plan]") {
  struct Row {
    const char* spec;
    std::string_view reason;
    std::string message;
  };
  const std::vector<Row> rows = {
      {R"({"version":"8.4.3","storageType":"Ephemeral","deletionPolicy":"DoNotTerminate"})", api::kReasonDoNotTerminate,
       "MySQL demo/my is not deleted because its deletionPolicy is DoNotTerminate; to delete it, set another policy, e.g. "
       "kubectl patch mysql my -n demo --type=merge -p '{\"spec\":{\"deletionPolicy\":\"Delete\"}}'"},
      {R"({"version":"8.4.3","deletionPolicy":"Delete","terminationPolicy":"WipeOut"})", api::kReasonInvalidDeletionPolicy,
       "its deletion policy cannot be read: spec.terminationPolicy: Invalid value: \"WipeOut\": conflicts with "
       "spec.deletionPolicy \"Delete\""},
      {R"({"version":"8.4.3","deletionPolicy":"Keep"})", api::kReasonInvalidDeletionPolicy,
       "spec.deletionPolicy: Unsupported value: \"Keep\""},
  };
  for (const auto& r : rows) {
    INFO(r.spec);
    Observed o = observed(mysql(r.spec, R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"));
    o.statefulSet = ptr({{"metadata", {{"name", "my"}, {"namespace", "demo"}, {"ownerReferences", {{{"uid", kUid}}}}}}});
    Plan p = plan(o, kNow);
    CHECK(stepNames(p).empty());
    auto blocked = condition(p, o, api::kCondDeletionBlocked);
    REQUIRE(blocked);
    CHECK(blocked->reason == r.reason);
    CHECK_THAT(blocked->message, Catch::Contains(r.message));
    CHECK(hasEvent(p.onStatusWrite, "DeletionBlocked", true));
    // The rest of the status is left as it is.
    CHECK_FALSE(condition(p, o, api::kCondReady));

    applyInMemory(o, p);
    Plan again = plan(o, kNow);
    CHECK_FALSE(again.status);
    CHECK(again.onStatusWrite.empty());
  }
}

TEST_CASE("plan: a MySQL without our finalizer is let go", "[community][plan]") {
  Json my = mysql(kPlain, R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")");
  my["metadata"].erase("finalizers");
  Plan p = plan(observed(my), kNow);
  CHECK(p.steps.empty());
  CHECK_FALSE(p.status);
}

TEST_CASE("plan: the Secrets a MySQL names", "[community][plan]") {
  CHECK(referencedSecrets(mysql(kPlain)) == std::set<std::string>{"my-auth"});
  CHECK(referencedSecrets(mysql(kTls)) == std::set<std::string>{"my-auth", "my-server-cert", "my-client-cert",
                                                                "my-metrics-exporter-cert", "my-metrics-exporter-config"});
  CHECK(referencedSecrets(mysql(R"({"version":"8.4.3","authSecret":{"name":"mine"}})")) == std::set<std::string>{"mine"});
  CHECK(referencedSecrets(mysql(R"({"version":8})")) == std::set<std::string>{"my-auth"});  // unparsable: the default
}

TEST_CASE("plan: what the pods serve reaches status.tls, with Events for reloads and refusals", "[community][plan][tls]") {
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth", true);
  addTlsSecrets(o);
  applyInMemory(o, plan(o, kNow));
  Json sts = *o.statefulSet;
  sts["status"] = {{"observedGeneration", 0}, {"readyReplicas", 1}};
  o.statefulSet = ptr(sts);
  ServedCertificate s{"my-0", "0A", "2027-01-01T00:00:00Z", "CN=ca", true, "", "", ""};
  o.health = HealthFacts{true, "ok", std::vector<ServedCertificate>{s}};
  Plan p = plan(o, kNow);
  CHECK(condition(p, o, api::kCondServedCertificatesCurrent)->reason == api::kReasonServedCurrent);
  CHECK(p.onStatusWrite.size() == 1);  // Ready only: nothing reloaded yet
  applyInMemory(o, p);

  // The server refused to reload a renewed certificate: a Warning, once.
  s = {"my-0", "0A", "2027-01-01T00:00:00Z", "CN=ca", false, "", "ReloadFailed", "refused \"FLUSH SSL\""};
  o.health->served = std::vector<ServedCertificate>{s};
  p = plan(o, kNow);
  CHECK(condition(p, o, api::kCondServedCertificatesCurrent)->reason == api::kReasonReloadFailed);
  REQUIRE(p.onStatusWrite.size() == 1);
  CHECK(p.onStatusWrite[0] == EventSpec{true, "ReloadFailed", "pod my-0: refused \"FLUSH SSL\""});
  applyInMemory(o, p);
  CHECK(plan(o, kNow).onStatusWrite.empty());

  // A served certificate close to expiry: a Warning, once.
  s = {"my-0", "0A", "2027-01-01T00:00:00Z", "CN=ca", true, "", "", "", "ExpiresSoon"};
  o.health->served = std::vector<ServedCertificate>{s};
  p = plan(o, kNow);
  CHECK(condition(p, o, api::kCondServedCertificatesExpiring)->reason == api::kReasonExpiresSoon);
  REQUIRE(p.onStatusWrite.size() == 1);
  CHECK(p.onStatusWrite[0].warning);
  CHECK(p.onStatusWrite[0].reason == "CertificateExpiring");
  applyInMemory(o, p);
  CHECK(plan(o, kNow).onStatusWrite.empty());

  // Then a reload brought it: a Normal Event naming the new certificate.
  s = {"my-0", "0B", "2027-03-01T00:00:00Z", "CN=ca", true, "2026-11-29T10:00:00Z", "", ""};
  o.health->served = std::vector<ServedCertificate>{s};
  p = plan(o, kNow);
  REQUIRE(p.onStatusWrite.size() == 1);
  CHECK(p.onStatusWrite[0].reason == "TLSReloaded");
  CHECK(p.onStatusWrite[0].message ==
        "pod my-0 reloaded its TLS material and serves the Secret's certificate (serial 0B, until 2027-03-01T00:00:00Z)");
  applyInMemory(o, p);
  CHECK(writes(plan(o, kNow)) == 0);
}

TEST_CASE("plan: a server that cannot reload is restarted, one pod at a time, only when that helps",
          "[community][plan][tls]") {
  testing::TestPki pki;
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth", true);
  addTlsSecrets(o);
  o.secrets["my-server-cert"] = secret("my-server-cert", true, true, {{"tls.crt", pki.issue({.commonName = "my"}).certPem}});
  applyInMemory(o, plan(o, kNow));
  ServedCertificate old{"my-0", "0A", "2027-01-01T00:00:00Z", "CN=ca", false, "", "ReloadUnsupported",
                        "server 5.7.44 cannot reload TLS without a restart"};
  o.health = HealthFacts{true, "ok", std::vector<ServedCertificate>{old}};
  auto pod = [](const char* created, bool deleting = false, const char* name = "my-0", bool ready = true) {
    Json p = {{"metadata", {{"name", name}, {"namespace", "demo"}, {"creationTimestamp", created}}},
              {"status", {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
    if (deleting) p["metadata"]["deletionTimestamp"] = "2026-11-29T00:00:00Z";
    return ptr(p);
  };
  o.pods["my-0"] = pod("2020-01-01T00:00:00Z");  // started before the certificate was issued
  Plan p = plan(o, kNow);
  auto names = stepNames(p);
  REQUIRE(std::count(names.begin(), names.end(), "delete:Pod/my-0") == 1);
  const auto& restart = std::get<DeleteStep>(p.steps.back());
  REQUIRE(restart.event);
  CHECK(restart.event->warning);
  CHECK(restart.event->reason == "RestartingPod");
  CHECK_THAT(restart.event->message, Catch::Contains("server 5.7.44 cannot reload TLS"));

  o.pods["my-0"] = pod("2099-01-01T00:00:00Z");  // started after it: a restart brings nothing newer
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:Pod/my-0") == 0);
  o.pods["my-0"] = pod("2020-01-01T00:00:00Z", /*deleting=*/true);  // already going
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:Pod/my-0") == 0);
  // Another pod back but not Ready yet (the one restarted before): wait for it.
  o.pods["my-0"] = pod("2020-01-01T00:00:00Z");
  o.pods["my-1"] = pod("2099-01-01T00:00:00Z", false, "my-1", /*ready=*/false);
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:Pod/my-0") == 0);
  o.pods.erase("my-1");
  o.pods["my-0"] = pod("2020-01-01T00:00:00Z");
  o.health->served->front().reason = "ReloadFailed";  // a refusal is reported, never "fixed" by a restart
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:Pod/my-0") == 0);
  // While a MySQLOpsRequest runs (the pause marker), the request alone restarts pods.
  o.health->served->front().reason = "ReloadUnsupported";
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:Pod/my-0") == 1);
  Json paused = *o.mysql;
  paused["metadata"]["annotations"][std::string(api::kAnnotationPausedBy)] = "op";
  o.mysql = ptr(paused);
  names = stepNames(plan(o, kNow));
  CHECK(std::count(names.begin(), names.end(), "delete:Pod/my-0") == 0);
}

}  // namespace mysqlop::community

namespace mysqlop::community {

TEST_CASE("plan: a pod on an older template is said, with what differs, until it is restarted", "[community][plan]") {
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth", true);
  addTlsSecrets(o);
  applyInMemory(o, plan(o, kNow));
  REQUIRE(o.statefulSet);
  Json sts = *o.statefulSet;
  sts["metadata"]["generation"] = 2;
  sts["status"] = {{"observedGeneration", 1}, {"readyReplicas", 1}, {"updateRevision", "my-new"}};
  o.statefulSet = ptr(sts);
  // The pod runs the template as it was before requireSSL: without --require-secure-transport=ON.
  Json podSpec = sts["spec"]["template"]["spec"];
  Json args = Json::array();
  for (const auto& a : podSpec["containers"][0]["args"]) {
    if (a != "--require-secure-transport=ON") args.push_back(a);
  }
  podSpec["containers"][0]["args"] = args;
  Json pod = {{"metadata", {{"name", "my-0"}, {"namespace", "demo"}, {"labels", {{"controller-revision-hash", "my-old"}}}}},
              {"spec", podSpec}};
  o.pods["my-0"] = ptr(pod);
  // The StatefulSet controller has not seen the template yet: nothing is said.
  CHECK_FALSE(condition(plan(o, kNow), o, api::kCondPodTemplateOutdated));
  sts["status"]["observedGeneration"] = 2;
  o.statefulSet = ptr(sts);
  Plan p = plan(o, kNow);
  auto c = condition(p, o, api::kCondPodTemplateOutdated);
  REQUIRE(c);
  CHECK(c->status == "True");
  CHECK(c->reason == api::kReasonRestartRequired);
  CHECK_THAT(c->message, Catch::Contains("my-0 (container mysql args: +--require-secure-transport=ON)"));
  CHECK_THAT(c->message, Catch::Contains("MySQLOpsRequest"));
  applyInMemory(o, p);
  CHECK(writes(plan(o, kNow)) == 0);  // said once
  pod["metadata"]["labels"]["controller-revision-hash"] = "my-new";  // restarted on the new template
  o.pods["my-0"] = ptr(pod);
  p = plan(o, kNow);
  CHECK_FALSE(condition(p, o, api::kCondPodTemplateOutdated));
}

TEST_CASE("plan: what differs between a pod and its template", "[community][plan]") {
  const Json tmpl = Json::parse(R"({"containers": [{"name": "mysql", "image": "mysql:8.4.3", "args": ["--a", "--b"]},
                                                   {"name": "exporter", "image": "exp:1"}],
                                    "volumes": [{"name": "tls-volume"}, {"name": "tmp"}]})");
  const Json pod = Json::parse(R"({"containers": [{"name": "mysql", "image": "mysql:8.0.35", "args": ["--a", "--c"]},
                                                  {"name": "sidecar", "image": "s:1"}],
                                   "volumes": [{"name": "tmp"}, {"name": "old"}, {"name": "data", "persistentVolumeClaim": {"claimName": "data-my-0"}}]})");
  CHECK(templateDifferences(pod, tmpl) ==
        "container exporter added, container mysql image mysql:8.0.35 -> mysql:8.4.3, container mysql args: +--b ---c, "
        "container sidecar removed, volume tls-volume added, volume old removed");
  CHECK(templateDifferences(tmpl, tmpl) == "its template changed");
}

}  // namespace mysqlop::community

namespace mysqlop::community {
namespace {

Json groupPod(const std::string& name, const std::string& startedAt, const std::string& role = "") {
  Json p = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"namespace", "demo"}}},
            {"status", {{"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})},
                        {"containerStatuses", Json::array({{{"name", "mysql"}, {"state", {{"running", {{"startedAt", startedAt}}}}}}})}}}};
  for (const auto& [k, v] : api::offshootLabels("my")) kube::setLabel(p, k, v);
  if (!role.empty()) kube::setLabel(p, std::string(api::kLabelRole), role);
  return p;
}

std::vector<LabelPodStep> labelSteps(const Plan& p) {
  std::vector<LabelPodStep> out;
  for (const auto& s : p.steps) {
    if (const auto* l = std::get_if<LabelPodStep>(&s)) out.push_back(*l);
  }
  return out;
}

}  // namespace

TEST_CASE("plan: a group's pods carry their member's role, never on facts older than their mysqld", "[community][plan][group]") {
  const char* spec = R"({"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"authSecret":{"name":"my-auth"},"replicas":3,
      "topology":{"mode":"GroupReplication","group":{"name":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}},
      "tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}})";
  Observed o = observed(mysql(spec));
  o.secrets["my-auth"] = secret("my-auth", true);
  addTlsSecrets(o);
  applyInMemory(o, plan(o, kNow));
  REQUIRE(o.statefulSet);
  GroupFacts g;
  g.members = {{"my-0", "ONLINE", "PRIMARY"}, {"my-1", "ONLINE", "SECONDARY"}, {"my-2", "RECOVERING", ""}};
  g.primary = "my-0";
  g.online = 2;
  g.majority = true;
  g.reason = std::string(api::kReasonGroupMemberNotOnline);
  g.observedAt = *core::parseTime("2026-12-07T10:00:30Z");
  o.health = HealthFacts{true, "ok"};
  o.health->group = g;
  // my-0's mysqld started after the members were asked (it was restarted since): no role yet, and
  // the one it carried goes; my-1 gets standby; my-2, not ONLINE, none.
  o.pods["my-0"] = ptr(groupPod("my-0", "2026-12-07T10:00:40Z", "primary"));
  o.pods["my-1"] = ptr(groupPod("my-1", "2026-12-07T09:00:00Z"));
  o.pods["my-2"] = ptr(groupPod("my-2", "2026-12-07T09:00:00Z", "standby"));
  auto labels = labelSteps(plan(o, kNow));
  REQUIRE(labels.size() == 3);
  CHECK((labels[0].pod == "my-0" && !labels[0].role));
  CHECK((labels[1].pod == "my-1" && labels[1].role == std::optional<std::string>("standby")));
  CHECK((labels[2].pod == "my-2" && !labels[2].role));
  // Asked again after it started: primary.
  o.health->group->observedAt = *core::parseTime("2026-12-07T10:00:50Z");
  o.pods["my-0"] = ptr(groupPod("my-0", "2026-12-07T10:00:40Z"));
  labels = labelSteps(plan(o, kNow));
  REQUIRE_FALSE(labels.empty());
  CHECK((labels[0].pod == "my-0" && labels[0].role == std::optional<std::string>("primary")));
  // Without a majority nobody is primary.
  o.health->group->majority = false;
  o.pods["my-0"] = ptr(groupPod("my-0", "2026-12-07T10:00:40Z", "primary"));
  o.pods["my-1"] = ptr(groupPod("my-1", "2026-12-07T09:00:00Z", "standby"));
  labels = labelSteps(plan(o, kNow));
  REQUIRE(labels.size() == 3);
  for (const auto& l : labels) CHECK_FALSE(l.role);
}

}  // namespace mysqlop::community

namespace mysqlop::community {
namespace {

const EnsureStep* bundleStep(const Plan& p) {
  for (const auto& s : p.steps) {
    if (auto* e = std::get_if<EnsureStep>(&s); e && kube::name(e->desired) == "my-ca-bundle") return e;
  }
  return nullptr;
}

std::vector<std::string> bundleDigests(const Observed& o) { return caDigestsOf(*o.secret("my-ca-bundle")); }

HealthFacts servedBy(const std::string& caPem) {
  ServedCertificate s{.pod = "my-0", .serialNumber = "01", .matchesSecret = true};
  s.caSha256 = *certificateDigest(caPem);
  return {.ok = true, .message = "ok", .served = std::vector<ServedCertificate>{s}};
}

}  // namespace

TEST_CASE("plan: the trust bundle comes before the StatefulSet, takes a new CA at once and lets the old one go after its grace",
          "[community][plan][trust]") {
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth");
  addTlsSecrets(o);
  o.secrets.erase("my-ca-bundle");
  o.caRetention = std::chrono::hours(1);
  const std::string a = testCa().ca().certPem, da = *certificateDigest(a);

  Plan p = plan(o, kNow);
  auto names = stepNames(p);
  auto at = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  REQUIRE(at("ensure:Secret/my-ca-bundle") < static_cast<long>(names.size()));
  CHECK(at("ensure:Secret/my-ca-bundle") < at("ensure:StatefulSet/my"));
  CHECK(*kube::secretValue(bundleStep(p)->desired, "ca.crt") == a);
  // The pods' ca.crt is the bundle's, in both volumes.
  const Json sts = std::get<EnsureStep>(p.steps[static_cast<size_t>(at("ensure:StatefulSet/my"))]).desired;
  CHECK(sts.dump().find(R"({"secret":{"items":[{"key":"ca.crt","path":"ca.crt"}],"name":"my-ca-bundle"}})") != std::string::npos);
  applyInMemory(o, p);
  CHECK_FALSE(bundleStep(plan(o, kNow)));  // converged: no write

  // The CA re-keyed: every Secret now carries B; my-0 still serves A's certificate.
  testing::TestPki rekeyed;
  const std::string b = rekeyed.ca().certPem, db = *certificateDigest(b);
  holdTlsSecrets(o, b);
  o.health = servedBy(a);
  p = plan(o, kNow);
  REQUIRE(bundleStep(p));
  REQUIRE(bundleStep(p)->onWrite.size() == 1);
  CHECK(bundleStep(p)->onWrite[0].reason == api::kEventTrustBundleChanged);
  CHECK_THAT(bundleStep(p)->onWrite[0].message, Catch::Contains("added sha256:" + db.substr(0, 16)));
  applyInMemory(o, p);
  CHECK(bundleDigests(o) == std::vector<std::string>{da, db});
  const Json trusted = o.mysql->at("status").at("tls").at("trustedCAs");
  CHECK(trusted[0]["sha256"] == da);
  CHECK(trusted[0]["usedBy"] == Json::array({"served by my-0"}));
  CHECK(trusted[1]["usedBy"] == Json::array({"server", "client", "metrics-exporter"}));
  CHECK_FALSE(trusted[0].contains("unusedSince"));
  auto rotating = kube::findStatusCondition(*o.mysql, api::kCondCARotationInProgress);
  REQUIRE(rotating);
  CHECK(rotating->status == "True");
  CHECK_THAT(rotating->message, Catch::Contains("holds 2 CAs") && Catch::Contains("used by served by my-0"));

  // my-0 reloaded and serves B: A's grace starts (recorded, no Event), a reconcile is due when it ends.
  o.health = servedBy(b);
  p = plan(o, kNow);
  REQUIRE(bundleStep(p));
  CHECK(bundleStep(p)->onWrite.empty());
  // ... and clients that pin A alone are told.
  CHECK(hasEvent(p.onStatusWrite, api::kEventServingNewCa, false));
  CHECK(p.requeueAfter == std::chrono::hours(1));
  applyInMemory(o, p);
  CHECK(bundleDigests(o) == std::vector<std::string>{da, db});
  CHECK(o.mysql->at("status").at("tls").at("trustedCAs")[0]["leavesAfter"] == core::formatTime(kNow + std::chrono::hours(1)));
  CHECK_FALSE(bundleStep(plan(o, kNow + std::chrono::minutes(30))));  // within its grace: nothing to write

  // Its grace over: A leaves, said in an Event.
  p = plan(o, kNow + std::chrono::hours(1));
  REQUIRE(bundleStep(p));
  CHECK_THAT(bundleStep(p)->onWrite.at(0).message, Catch::Contains("removed sha256:" + da.substr(0, 16)));
  applyInMemory(o, p);
  CHECK(bundleDigests(o) == std::vector<std::string>{db});
  rotating = kube::findStatusCondition(*o.mysql, api::kCondCARotationInProgress);
  REQUIRE(rotating);
  CHECK(rotating->status == "False");
  CHECK(rotating->reason == api::kReasonOneCATrusted);
}

TEST_CASE("plan: a Secret named like the trust bundle that is not the database's stops it, untouched", "[community][plan][trust]") {
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth");
  addTlsSecrets(o);
  o.secrets["my-ca-bundle"] = secret("my-ca-bundle", false, false, {{"ca.crt", "someone's"}});
  Plan p = plan(o, kNow);
  CHECK(readyReason(p, o) == api::kReasonTrustBundleConflict);
  CHECK_THAT(condition(p, o, api::kCondReady)->message, Catch::Contains("Secret demo/my-ca-bundle exists and does not belong"));
  for (const auto& n : stepNames(p)) {
    CHECK(n != "ensure:Secret/my-ca-bundle");
    CHECK(n != "ensure:StatefulSet/my");
  }
}

TEST_CASE("plan: the issuer's new CA enters the trust bundle before any certificate of it exists", "[community][plan][trust]") {
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth");
  addTlsSecrets(o);
  const std::string a = testCa().ca().certPem;
  o.health = servedBy(a);
  testing::TestPki rekeyed;
  const std::string b = rekeyed.ca().certPem, db = *certificateDigest(b);
  // The enterprise operator publishes the CA its issuer signs with now.
  o.secrets["my-issuer-ca"] = secret("my-issuer-ca", true, true, {{"ca.crt", b}});
  o.caPems[db] = b;
  Plan p = plan(o, kNow);
  REQUIRE(bundleStep(p));
  applyInMemory(o, p);
  CHECK(bundleDigests(o) == std::vector<std::string>{*certificateDigest(a), db});
  CHECK(o.mysql->at("status").at("tls").at("trustedCAs")[1]["usedBy"] == Json::array({"issuer"}));
  // Not the MySQL's: not an input.
  Observed other = observed(mysql(kTls));
  other.secrets = o.secrets;
  other.secrets["my-issuer-ca"] = secret("my-issuer-ca", true, false, {{"ca.crt", b}});
  addTlsSecrets(other);  // the bundle of A alone
  other.health = servedBy(a);
  other.caPems[db] = b;
  p = plan(other, kNow);
  CHECK_FALSE(bundleStep(p));  // stays A alone
  applyInMemory(other, p);
  CHECK(other.mysql->at("status").at("tls").at("trustedCAs").size() == 1);
}

TEST_CASE("plan: TLS removed takes the trust bundle away, never someone else's", "[community][plan][trust]") {
  Observed o = observed(mysql(kTls));
  o.secrets["my-auth"] = secret("my-auth");
  addTlsSecrets(o);
  o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","authSecret":{"name":"my-auth"}})"));
  auto names = stepNames(plan(o, kNow));
  CHECK(std::find(names.begin(), names.end(), "delete:Secret/my-ca-bundle") != names.end());
  o.secrets["my-ca-bundle"] = secret("my-ca-bundle", true, false, {{"ca.crt", "someone's"}});
  names = stepNames(plan(o, kNow));
  CHECK(std::find(names.begin(), names.end(), "delete:Secret/my-ca-bundle") == names.end());
}

}  // namespace mysqlop::community
