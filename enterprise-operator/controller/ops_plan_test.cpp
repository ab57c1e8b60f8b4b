#include "enterprise-operator/controller/ops_plan.h"

#include <catch2/catch.hpp>

#include "common/api/conditions.h"
#include "common/core/time_format.h"
#include "common/pki/pki.h"

namespace mysqlop::enterprise::ops {
namespace {

runtime::ObjectPtr ptr(Json j) { return std::make_shared<const Json>(std::move(j)); }

Json requestObj(const char* spec, const Json& status = Json::object()) {
  Json r = {{"apiVersion", "ops.kubedb.com/v1alpha1"},
            {"kind", "MySQLOpsRequest"},
            {"metadata", {{"name", "op"}, {"namespace", "demo"}, {"uid", "r"}, {"generation", 1},
                          {"creationTimestamp", "2026-12-06T08:00:00Z"}}},
            {"spec", Json::parse(spec)}};
  if (!status.empty()) r["status"] = status;
  return r;
}

// A TLS MySQL as the community operator leaves it Ready (generation 3, seen).
Json tlsMySQL(const char* phase = "Ready") {
  return {{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"},
          {"metadata", {{"name", "my"}, {"namespace", "demo"}, {"uid", "u"}, {"generation", 3}}},
          {"spec", {{"version", "9.7.4"}, {"storageType", "Ephemeral"}, {"requireSSL", true},
                    {"tls", {{"issuerRef", {{"apiGroup", "cert-manager.io"}, {"kind", "Issuer"}, {"name", "ca"}}}}}}},
          {"status", {{"phase", phase}, {"observedGeneration", 3},
                      {"conditions", {{{"type", "TLSCertificatesReady"}, {"status", "True"}, {"reason", "CertificatesIssued"},
                                       {"message", "ok"}, {"observedGeneration", 3}}}}}}};
}
Json plainMySQL() {
  Json m = tlsMySQL();
  m["spec"].erase("tls");
  m["spec"].erase("requireSSL");
  return m;
}

Json cond(const char* type, const char* status, const char* reason = "R", const char* message = "m") {
  return {{"type", type}, {"status", status}, {"reason", reason}, {"message", message}, {"lastTransitionTime", "2026-12-06T08:00:00Z"}};
}

// One request against one database, with what its status says so far.
struct Case {
  Json request;
  api::OpsRequest op;
  Json mysql;
  Facts f;
  Case(const char* spec, Json db, Json status = Json::object()) : request(requestObj(spec, status)), mysql(std::move(db)) {
    auto parsed = api::parseOpsRequest(request);
    REQUIRE(parsed);
    op = *parsed;
    f.ns = "demo";
    f.name = "op";
    f.db = "my";
    f.progress.status = request.value("status", Json::object());
    f.op = &op;
    f.mysql = &mysql;
  }
  void done(const char* type, const char* reason = "R") { f.progress.status["conditions"].push_back(cond(type, "True", reason)); }
};

constexpr const char* kAddTLS = R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"},
  "tls": {"requireSSL": true, "issuerRef": {"kind": "Issuer", "name": "ca"}}})";
constexpr const char* kRotate = R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"rotateCertificates": true}})";
constexpr const char* kRemove = R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"remove": true}})";
constexpr const char* kRestart = R"({"type": "Restart", "databaseRef": {"name": "my"}, "timeout": "5m"})";

std::vector<std::string> conditionTypes(const StepPlan& p) {
  std::vector<std::string> out;
  for (const auto& w : p.writes) {
    if (const auto* c = std::get_if<SetCondition>(&w)) out.push_back(c->type + (c->ok ? "=True" : "=False") + ":" + c->reason);
  }
  return out;
}

TEST_CASE("ops plan: a request runs only when valid, its database there and its spec as it started", "[enterprise][ops-plan]") {
  const Json r = requestObj(kRestart);
  CHECK(admit(r, std::string("spec.type: Required value"), ptr(tlsMySQL())) ==
        Failure{"InvalidOpsRequest", "The MySQLOpsRequest is invalid: spec.type: Required value"});
  CHECK(admit(r, std::nullopt, nullptr) == Failure{"DatabaseNotFound", "spec.databaseRef.name: MySQL demo/my does not exist"});
  Json going = tlsMySQL();
  going["metadata"]["deletionTimestamp"] = "2026-12-06T08:00:00Z";
  CHECK(admit(r, std::nullopt, ptr(going))->message == "spec.databaseRef.name: MySQL demo/my is being deleted");
  CHECK_FALSE(admit(r, std::nullopt, ptr(tlsMySQL())));
  // Edited once started: a request runs once, as made.
  Json edited = requestObj(kRestart, {{"phase", "Progressing"}, {"observedGeneration", 1}});
  edited["metadata"]["generation"] = 2;
  auto refused = admit(edited, std::nullopt, ptr(tlsMySQL()));
  REQUIRE(refused);
  CHECK(refused->reason == "InvalidOpsRequest");
  CHECK_THAT(refused->message, Catch::StartsWith("spec changed after the request started (generation 2, started at 1)"));
  edited["status"]["phase"] = "Pending";  // not started: the newest spec is the one that runs
  CHECK_FALSE(admit(edited, std::nullopt, ptr(tlsMySQL())));
}

TEST_CASE("ops plan: a request that has not started waits, fails, is skipped or starts", "[enterprise][ops-plan]") {
  LicenceState valid{true, "cluster", "", "ACME", std::nullopt};
  auto start = [&](Case& c, std::vector<runtime::ObjectPtr> others = {}, LicenceState lic = {}, std::optional<bool> podsCurrent = {}) {
    if (lic.clusterId.empty()) lic = LicenceState{true, "cluster", "", "ACME", std::nullopt};
    others.push_back(ptr(c.request));
    return planStart(c.f, StartFacts{&c.request, others, lic, podsCurrent});
  };
  SECTION("an earlier request of the database goes first") {
    Case c(kRestart, tlsMySQL());
    Json earlier = requestObj(kRestart);
    earlier["metadata"]["name"] = "first";
    earlier["metadata"]["creationTimestamp"] = "2026-12-06T07:00:00Z";
    auto p = start(c, {ptr(earlier)});
    CHECK(p.kind == StartPlan::Kind::kPending);
    CHECK(p.reason == "WaitingForOtherOpsRequest");
    CHECK(p.message == "waiting for MySQLOpsRequest demo/first to finish: one operation at a time per database, in creation order");
  }
  SECTION("a database paused by another request") {
    Case c(kRestart, tlsMySQL());
    c.mysql["metadata"]["annotations"][std::string(api::kAnnotationPausedBy)] = "other";
    auto p = start(c);
    CHECK(p == StartPlan{StartPlan::Kind::kPending, "WaitingForOtherOpsRequest", "MySQL demo/my is paused by MySQLOpsRequest demo/other",
                         "WaitingForOtherOpsRequest", "MySQL demo/my is paused by MySQLOpsRequest demo/other"});
  }
  SECTION("no licence, no operation") {
    Case c(kRestart, tlsMySQL());
    auto p = start(c, {}, LicenceState{false, "cluster", "expired", "", std::nullopt});
    CHECK(p.kind == StartPlan::Kind::kPending);
    CHECK(p.reason == "LicenseInvalid");
    CHECK_THAT(p.message, Catch::StartsWith("No operation runs without a valid licence: licence invalid for cluster cluster"));
  }
  SECTION("a reconfiguration the database cannot take fails, naming the MySQL's field") {
    Case c(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"requireSSL": true}})", plainMySQL());
    auto p = start(c);
    CHECK(p.kind == StartPlan::Kind::kFail);
    CHECK(p.reason == "InvalidOpsRequest");
    CHECK_THAT(p.message, Catch::StartsWith("MySQL demo/my cannot be reconfigured as asked: spec.tls.issuerRef"));
  }
  SECTION("nothing to change: skipped only when every pod runs the current template too") {
    Case c(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"requireSSL": true}})", tlsMySQL());
    REQUIRE(mayBeNothingToDo(c.f));
    auto p = start(c, {}, valid, true);
    CHECK(p == StartPlan{StartPlan::Kind::kSkip, "NothingToChange", "MySQL demo/my already is as asked: nothing to change",
                         "NothingToChange", "MySQL demo/my already is as asked"});
    CHECK(start(c, {}, valid, false).kind == StartPlan::Kind::kStart);
    // A rotation always has something to do.
    Case rotate(kRotate, tlsMySQL());
    CHECK_FALSE(mayBeNothingToDo(rotate.f));
  }
  SECTION("apply: IfReady waits for a Ready database; Always does not") {
    Case c(kRestart, tlsMySQL("Provisioning"));
    auto p = start(c);
    CHECK(p.kind == StartPlan::Kind::kPending);
    CHECK(p.reason == "WaitingForDatabaseReady");
    CHECK(p.message == "waiting for MySQL demo/my to be Ready (it is Provisioning); with apply: Always the request starts at once");
    Case always(R"({"type": "Restart", "databaseRef": {"name": "my"}, "apply": "Always"})", tlsMySQL("Provisioning"));
    CHECK(start(always).kind == StartPlan::Kind::kStart);
  }
  SECTION("it starts") {
    Case c(kAddTLS, plainMySQL());
    CHECK(start(c) == StartPlan{StartPlan::Kind::kStart, "OpsRequestProgressingStarted",
                                "Controller has started to Progress the MySQLOpsRequest: demo/op", "Starting",
                                "Start processing ReconfigureTLS of MySQL demo/my"});
  }
}

TEST_CASE("ops plan: pause, then the spec as asked, with what was done recorded before it is done", "[enterprise][ops-plan]") {
  SECTION("pause: the marker and the condition, then wait for the cache to show it") {
    Case c(kAddTLS, plainMySQL());
    auto p = planPause(c.f);
    CHECK(p.then == StepPlan::Then::kWait);
    CHECK(p.writes.size() == 3);
    CHECK(std::holds_alternative<PauseDatabase>(p.writes[0]));
    CHECK(conditionTypes(p) == std::vector<std::string>{"DatabasePaused=True:SuccessfullyPausedDatabase"});
    c.done("DatabasePaused");
    // Recorded, but the marker is gone (removed by hand): put back, no second Event.
    p = planPause(c.f);
    CHECK(p == StepPlan{StepPlan::Then::kWait, {PauseDatabase{}}, "pausing the database", ""});
    c.mysql["metadata"]["annotations"][std::string(api::kAnnotationPausedBy)] = "op";
    CHECK(planPause(c.f) == StepPlan{});
  }
  SECTION("adding TLS: the intent, then the update") {
    Case c(kAddTLS, plainMySQL());
    auto p = planSpec(c.f);
    CHECK(p.then == StepPlan::Then::kWait);
    CHECK(p.why == "waiting for the updated MySQL spec");
    REQUIRE(p.writes.size() == 2);
    CHECK(std::get<SetCondition>(p.writes[0]) ==
          SetCondition{"TLSConfigUpdated", false, "SuccessfullyAddedTLSConfig", "updating MySQL demo/my: added TLS to it"});
    CHECK(std::get<UpdateDatabaseSpec>(p.writes[1]) == UpdateDatabaseSpec{"SuccessfullyAddedTLSConfig", "added TLS to"});
    // The write went through but its condition did not (a conflict): once the cache shows the
    // spec, the condition says what was done — added, not "updated" (the spec has TLS by now).
    c.f.progress.status["conditions"].push_back(cond("TLSConfigUpdated", "False", "SuccessfullyAddedTLSConfig"));
    c.mysql = tlsMySQL();
    c.mysql["metadata"]["generation"] = 4;
    p = planSpec(c.f);
    CHECK(p == StepPlan{StepPlan::Then::kNext,
                        {SetCondition{"TLSConfigUpdated", true, "SuccessfullyAddedTLSConfig", "MySQL demo/my is as asked (generation 4)"}},
                        "", ""});
  }
  SECTION("the cache still shows the old spec after the update: no second intent") {
    Case c(kRemove, tlsMySQL());
    c.done("TLSConfigUpdated", "SuccessfullyRemovedTLSConfig");
    auto p = planSpec(c.f);
    CHECK(p == StepPlan{StepPlan::Then::kWait,
                        {UpdateDatabaseSpec{"SuccessfullyRemovedTLSConfig", "removed the TLS configuration of"}},
                        "waiting for the updated MySQL spec", ""});
  }
  SECTION("an issuer change updates; a rotation alone and a Restart change no spec") {
    Case c(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"issuerRef": {"kind": "ClusterIssuer", "name": "ca2"}}})",
           tlsMySQL());
    CHECK(std::get<UpdateDatabaseSpec>(planSpec(c.f).writes.back()).reason == "SuccessfullyUpdatedTLSConfig");
    Case rotate(kRotate, tlsMySQL());
    CHECK(planSpec(rotate.f) == StepPlan{});
    Case restart(kRestart, tlsMySQL());
    CHECK(planSpec(restart.f) == StepPlan{});
  }
  SECTION("a spec already as asked, never written by this request: said so") {
    Case c(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"requireSSL": true}})", tlsMySQL());
    CHECK(conditionTypes(planSpec(c.f)) == std::vector<std::string>{"TLSConfigUpdated=True:SuccessfullyUpdatedTLSConfig"});
  }
  SECTION("the database changed under the request so that it cannot be reconfigured") {
    Case c(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"requireSSL": true}})", plainMySQL());
    auto p = planSpec(c.f);
    CHECK(p.then == StepPlan::Then::kFail);
    CHECK(p.reason == "InvalidOpsRequest");
    CHECK_THAT(p.why, Catch::StartsWith("the MySQL cannot be reconfigured as asked: spec.tls.issuerRef"));
  }
}

Json certificate(const std::string& name, int64_t revision, bool ready = true, bool issuing = false) {
  Json c = {{"metadata", {{"name", name}, {"namespace", "demo"}, {"generation", 1},
                          {"ownerReferences", {{{"apiVersion", "kubedb.com/v1"}, {"uid", "u"}, {"controller", true}, {"kind", "MySQL"}, {"name", "my"}}}}}},
            {"status", {{"revision", revision},
                        {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"reason", "Ready"},
                                         {"message", "up to date"}, {"observedGeneration", 1}}}}}}};
  if (issuing) c["status"]["conditions"].push_back({{"type", "Issuing"}, {"status", "True"}, {"reason", "ManuallyTriggered"}});
  return c;
}

Certificates threeCertificates(int64_t revision) {
  Certificates out;
  for (const char* n : {"my-server-cert", "my-client-cert", "my-metrics-exporter-cert"}) out[n] = ptr(certificate(n, revision));
  return out;
}

TEST_CASE("ops plan: a rotation notes each revision, asks for each once, then waits for them synced", "[enterprise][ops-plan]") {
  Case c(kRotate, tlsMySQL());
  Certificates certs = threeCertificates(2);
  certs["my-client-cert"] = ptr(certificate("my-client-cert", 2, /*ready=*/false));
  CHECK(planRotation(c.f, certs) ==
        StepPlan{StepPlan::Then::kWait, {}, "waiting for Certificate my-client-cert to be issued before it is rotated", ""});
  certs = threeCertificates(2);
  auto p = planRotation(c.f, certs);
  CHECK(p == StepPlan{StepPlan::Then::kWait,
                      {RecordRevisions{{{"my-client-cert", 2}, {"my-metrics-exporter-cert", 2}, {"my-server-cert", 2}}}},
                      "noting the Certificates' revisions", ""});
  c.f.progress.status["certificateRevisions"] = {{"my-client-cert", 2}, {"my-metrics-exporter-cert", 2}, {"my-server-cert", 2}};
  // One already issuing (asked before a crash), one already past: only the third is asked.
  certs["my-server-cert"] = ptr(certificate("my-server-cert", 2, true, /*issuing=*/true));
  certs["my-metrics-exporter-cert"] = ptr(certificate("my-metrics-exporter-cert", 3));
  p = planRotation(c.f, certs);
  CHECK(p.then == StepPlan::Then::kWait);
  CHECK(p.why == "waiting for cert-manager to re-issue the Certificates");
  REQUIRE(p.writes.size() == 3);
  CHECK(std::get<TriggerIssuance>(p.writes[0]) == TriggerIssuance{"my-client-cert", 2});
  CHECK(std::get<Announce>(p.writes[1]) ==
        Announce{false, "IssuingCertificates", "Asked cert-manager to re-issue Certificates my-client-cert, my-metrics-exporter-cert, my-server-cert"});
  CHECK(conditionTypes(p) == std::vector<std::string>{"IssueCertificates=True:SuccessfullyTriggeredIssuance"});
  certs.erase("my-server-cert");
  CHECK(planRotation(c.f, certs).why == "waiting for Certificate my-server-cert");
  c.done("IssueCertificates");
  CHECK(planRotation(c.f, certs) == StepPlan{});

  // Synced: each past its noted revision, issued for this generation.
  certs = threeCertificates(3);
  certs["my-server-cert"] = ptr(certificate("my-server-cert", 2));
  CHECK_THAT(planSync(c.f, certs).why, Catch::Contains("re-issue Certificate my-server-cert"));
  certs = threeCertificates(3);
  CHECK(conditionTypes(planSync(c.f, certs)) == std::vector<std::string>{"CertificateSynced=True:ReconfigureTLS"});
  CHECK(planSync(c.f, certs).then == StepPlan::Then::kNext);
  // TLS removed: synced once ours are gone, with no CertificateSynced to say.
  Case removed(kRemove, plainMySQL());
  CHECK(planSync(removed.f, {}) == StepPlan{});
  Case restart(kRestart, tlsMySQL());
  CHECK(planSync(restart.f, certs) == StepPlan{});
}

Json statefulSet(const char* revision, int64_t replicas = 3) {
  return {{"metadata", {{"name", "my"}, {"generation", 2}}},
          {"spec", {{"replicas", replicas}}},
          {"status", {{"observedGeneration", 2}, {"updateRevision", revision}}}};
}
Json pod(const char* name, const char* revision, const char* created = "2026-12-06T08:00:00Z", bool ready = true) {
  return {{"metadata", {{"name", name}, {"uid", std::string("uid-") + name}, {"labels", {{"controller-revision-hash", revision}}},
                        {"creationTimestamp", created}}},
          {"status", {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
}

TEST_CASE("ops plan: pods restart from the top, one Ready pod at a time, only when their template changed", "[enterprise][ops-plan]") {
  const Json sts = statefulSet("my-new");
  SECTION("no StatefulSet, or one not yet staged") {
    Case c(kAddTLS, tlsMySQL());
    CHECK(planPods(c.f, {}) == StepPlan{StepPlan::Then::kWait, {}, "waiting for StatefulSet demo/my", ""});
    c.mysql["metadata"]["generation"] = 4;
    CHECK_THAT(planPods(c.f, {&sts, {}}).why, Catch::Contains("generation 4"));
  }
  SECTION("ReconfigureTLS: outdated pods restart, highest ordinal first") {
    Case c(kAddTLS, tlsMySQL());
    auto p = planPods(c.f, {&sts, {pod("my-0", "my-old"), pod("my-1", "my-old"), pod("my-2", "my-new")}});
    CHECK(p == StepPlan{StepPlan::Then::kWait,
                        {DeletePod{"my-1", "uid-my-1"}, Announce{false, "RestartingPod", "Restarting Pod: demo/my-1"},
                         SetCondition{"RestartStatefulSet", false, "RestartingPods", "restarting pod my-1 (2 of 3 still to restart)"}},
                        "restarting pod my-1", ""});
    CHECK_THAT(planPods(c.f, {&sts, {pod("my-0", "my-old"), pod("my-2", "my-new")}}).why, Catch::Contains("pod 1 to be created"));
    c.f.progress.status["conditions"].push_back(cond("RestartStatefulSet", "False", "RestartingPods"));
    auto allNew = std::vector<Json>{pod("my-0", "my-new"), pod("my-1", "my-new"), pod("my-2", "my-new")};
    CHECK(conditionTypes(planPods(c.f, {&sts, allNew})) == std::vector<std::string>{"RestartStatefulSet=True:SuccessfullyRestartedStatefulSet"});
  }
  SECTION("ReconfigureTLS where only certificates changed: no restart") {
    Case c(kRotate, tlsMySQL());
    CHECK(planPods(c.f, {&sts, {pod("my-0", "my-new"), pod("my-1", "my-new"), pod("my-2", "my-new")}}) == StepPlan{});
  }
  SECTION("Restart: every pod created before the request started") {
    Case c(kRestart, tlsMySQL(), {{"phase", "Progressing"}, {"startTime", "2026-12-06T09:00:00Z"}});
    auto p = planPods(c.f, {&sts, {pod("my-0", "my-new"), pod("my-1", "my-new"), pod("my-2", "my-new", "2026-12-06T09:00:05Z")}});
    CHECK(p.why == "restarting pod my-1");
    p = planPods(c.f, {&sts, {pod("my-0", "my-new", "2026-12-06T09:00:09Z"), pod("my-1", "my-new", "2026-12-06T09:00:07Z"),
                              pod("my-2", "my-new", "2026-12-06T09:00:05Z")}});
    CHECK(conditionTypes(p) == std::vector<std::string>{"RestartStatefulSet=True:SuccessfullyRestartedStatefulSet"});
    c.done("RestartStatefulSet");
    CHECK(planPods(c.f, {}) == StepPlan{});
  }
  SECTION("a group: one member at a time while every member is ONLINE, the primary last") {
    Case c(kRestart, tlsMySQL(), {{"phase", "Progressing"}, {"startTime", "2026-12-06T09:00:00Z"}});
    const std::vector<Json> old = {pod("my-0", "my-new"), pod("my-1", "my-new"), pod("my-2", "my-new")};
    using Members = std::map<std::string, std::string>;
    PodsFacts in{&sts, old, Members{{"my-0", "ONLINE SECONDARY"}, {"my-1", "ONLINE SECONDARY"}, {"my-2", "ONLINE PRIMARY"}}};
    // my-2 is the highest ordinal but the primary: my-1 goes first.
    CHECK(planPods(c.f, in).why == "restarting pod my-1");
    // A member not ONLINE holds every restart back, even one whose pod is Ready.
    in.members = Members{{"my-0", "ONLINE SECONDARY"}, {"my-1", "RECOVERING SECONDARY"}, {"my-2", "ONLINE PRIMARY"}};
    CHECK(planPods(c.f, in) ==
          StepPlan{StepPlan::Then::kWait, {}, "waiting for member my-1 to be ONLINE in the group (RECOVERING SECONDARY)", ""});
    in.members = Members{{"my-0", "ONLINE SECONDARY"}, {"my-2", "ONLINE PRIMARY"},
                         {"my-1", "cannot connect to my-1.my-pods.demo.svc:3306: ERROR 2002"}};
    CHECK_THAT(planPods(c.f, in).why, Catch::Contains("member my-1 to be ONLINE") && Catch::Contains("ERROR 2002"));
    // The secondaries done, the primary goes.
    in.pods = {pod("my-0", "my-new", "2026-12-06T09:00:09Z"), pod("my-1", "my-new", "2026-12-06T09:00:07Z"), pod("my-2", "my-new")};
    in.members = Members{{"my-0", "ONLINE SECONDARY"}, {"my-1", "ONLINE SECONDARY"}, {"my-2", "ONLINE PRIMARY"}};
    CHECK(planPods(c.f, in).why == "restarting pod my-2");
    // All restarted: done only once the last is ONLINE again.
    in.pods = {pod("my-0", "my-new", "2026-12-06T09:00:09Z"), pod("my-1", "my-new", "2026-12-06T09:00:07Z"),
               pod("my-2", "my-new", "2026-12-06T09:00:11Z")};
    in.members = Members{{"my-0", "ONLINE PRIMARY"}, {"my-1", "ONLINE SECONDARY"}, {"my-2", "OFFLINE "}};
    CHECK(planPods(c.f, in).why == "waiting for member my-2 to be ONLINE in the group (OFFLINE )");
    in.members = Members{{"my-0", "ONLINE PRIMARY"}, {"my-1", "ONLINE SECONDARY"}, {"my-2", "ONLINE SECONDARY"}};
    CHECK(conditionTypes(planPods(c.f, in)) == std::vector<std::string>{"RestartStatefulSet=True:SuccessfullyRestartedStatefulSet"});
  }
}

TEST_CASE("ops plan: verified as a client sees each pod, then the database Ready", "[enterprise][ops-plan]") {
  auto key = pki::generateKey({pki::KeyAlgorithm::kEcdsa, 256});
  REQUIRE(key);
  const auto now = *core::parseTime("2026-12-06T09:00:00Z");
  auto cert = pki::issueCertificate({.subject = {.commonName = "my"}, .dnsNames = {"my.demo.svc"}, .notBefore = now,
                                     .notAfter = now + std::chrono::hours(24)},
                                    *key, std::nullopt);
  REQUIRE(cert);
  // As a Secret holds it: the leaf, then its CA; a server may send the leaf alone.
  const std::string issued = cert->toPem() + cert->toPem();
  const std::string served = cert->toPem();
  PodProbe ok{"my-0", std::nullopt, served, std::nullopt, std::string("1")};
  SECTION("each pod: serves its Secret's certificate, require_secure_transport as asked") {
    CHECK(podNotVerified(ok, true, true, "") == std::optional<std::string>("waiting for the server Secret to hold a certificate"));
    PodProbe unreachable = ok;
    unreachable.fetchError = "connection refused";
    CHECK(podNotVerified(unreachable, true, true, issued) == std::optional<std::string>("pod my-0: connection refused"));
    PodProbe other = ok;
    other.servedPem = "not a certificate";
    CHECK_THAT(podNotVerified(other, true, true, issued).value_or(""),
               Catch::StartsWith("waiting for pod my-0 to serve the certificate of its Secret (serial") &&
                   Catch::EndsWith("it serves something unreadable)"));
    PodProbe lax = ok;
    lax.requireSecureTransport = "0";
    CHECK(podNotVerified(lax, true, true, issued) == std::optional<std::string>("pod my-0 has require_secure_transport=0, 1 was asked"));
    CHECK_FALSE(podNotVerified(ok, true, true, issued));
    // A group member: its group port too (read only when Group Replication starts).
    PodProbe member = ok;
    member.groupMember = true;
    member.groupPem = "not a certificate";
    CHECK_THAT(podNotVerified(member, true, true, issued).value_or(""),
               Catch::StartsWith("waiting for pod my-0 to present the certificate of its Secret on its group port (serial"));
    member.groupFetchError = "Connection refused";
    CHECK(podNotVerified(member, true, true, issued) == std::optional<std::string>("pod my-0 group port: Connection refused"));
    member.groupFetchError.reset();
    member.groupPem = served;
    CHECK_FALSE(podNotVerified(member, true, true, issued));
    // Without TLS: the query alone, and nothing required.
    PodProbe plain{"my-0", std::nullopt, "", std::nullopt, std::string("0")};
    CHECK_FALSE(podNotVerified(plain, false, false, ""));
    plain.queryError = "Access denied";
    CHECK(podNotVerified(plain, false, false, "") == std::optional<std::string>("pod my-0: Access denied"));
  }
  SECTION("then the database Ready for its generation, and how the certificates got there") {
    Case c(kRotate, tlsMySQL());
    CHECK(planVerified(c.f, {std::string("spec.version: Required value"), std::nullopt}) ==
          StepPlan{StepPlan::Then::kFail, {}, "the MySQL's spec cannot be read: spec.version: Required value", "StepFailed"});
    CHECK(planVerified(c.f, {std::nullopt, std::string("pod my-0: connection refused")}).why == "pod my-0: connection refused");
    c.mysql["status"]["observedGeneration"] = 2;
    CHECK(planVerified(c.f, {}).why == "waiting for MySQL demo/my to be Ready (it is Ready)");
    c.mysql["status"]["observedGeneration"] = 3;
    CHECK(conditionTypes(planVerified(c.f, {})) ==
          std::vector<std::string>{"ReloadTLS=True:SuccessfullyReloadedTLS", "DBReady=True:SuccessfullyReconfiguredTLS"});
    c.f.progress.status["conditions"].push_back(cond("RestartStatefulSet", "True"));  // restarted, so not a reload
    CHECK(conditionTypes(planVerified(c.f, {})) == std::vector<std::string>{"DBReady=True:SuccessfullyReconfiguredTLS"});
    Case restart(kRestart, tlsMySQL("NotReady"));
    CHECK(planVerified(restart.f, {}).why == "waiting for MySQL demo/my to be Ready (it is NotReady)");
    restart.mysql["status"]["phase"] = "Ready";
    auto p = planVerified(restart.f, {});
    CHECK(std::get<SetCondition>(p.writes.at(0)).message == "Successfully restarted MySQL demo/my for MySQLOpsRequest: demo/op");
  }
}

Json secret(const std::string& name, const char* ownerUid, bool controller, const char* certificateName = "") {
  Json s = {{"metadata", {{"name", name}, {"uid", "uid-" + name},
                          {"ownerReferences", {{{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"}, {"name", "my"}, {"uid", ownerUid},
                                                {"controller", controller}}}}}}};
  if (*certificateName) s["metadata"]["annotations"]["cert-manager.io/certificate-name"] = certificateName;
  return s;
}

TEST_CASE("ops plan: TLS Secrets no longer used go, and only ours", "[enterprise][ops-plan]") {
  const std::vector<Json> secrets = {secret("my-server-cert", "u", false, "my-server-cert"),
                                     secret("my-client-cert", "u", false, "my-client-cert"),
                                     secret("my-metrics-exporter-config", "u", true),
                                     secret("my-auth", "u", true),                            // not a TLS Secret
                                     secret("their-cert", "someone", false, "my-client-cert"),  // not owned by this MySQL
                                     secret("my-hand-made", "u", false, "not-ours")};         // issued for another Certificate
  Case removed(kRemove, plainMySQL());
  auto p = planCleanup(removed.f, secrets);
  const std::string msg = "Removed Secrets my-server-cert, my-client-cert, my-metrics-exporter-config (no longer used by MySQL demo/my)";
  CHECK(p == StepPlan{StepPlan::Then::kNext,
                      {DeleteSecret{"my-server-cert", "uid-my-server-cert"}, DeleteSecret{"my-client-cert", "uid-my-client-cert"},
                       DeleteSecret{"my-metrics-exporter-config", "uid-my-metrics-exporter-config"},
                       Announce{false, "RemovedSecrets", msg},
                       SetCondition{"TLSObjectsRemoved", true, "SuccessfullyRemovedTLSObjects", msg}},
                      "", ""});
  CHECK(conditionTypes(planCleanup(removed.f, {})) == std::vector<std::string>{"TLSObjectsRemoved=True:SuccessfullyRemovedTLSObjects"});
  CHECK(std::get<SetCondition>(planCleanup(removed.f, {}).writes.at(0)).message == "No TLS Secret was left to remove");
  // With TLS, the Secrets in use stay; nothing to say when nothing went.
  Case kept(kRotate, tlsMySQL());
  CHECK(planCleanup(kept.f, secrets) == StepPlan{});
  Case restart(kRestart, tlsMySQL());
  CHECK(planCleanup(restart.f, secrets) == StepPlan{});
}

TEST_CASE("ops plan: after a step, the Waiting condition, when to look again, a timeout", "[enterprise][ops-plan]") {
  const auto start = *core::parseTime("2026-12-06T09:00:00Z");
  Case c(kRestart, tlsMySQL(), {{"phase", "Progressing"}, {"startTime", "2026-12-06T09:00:00Z"}});  // timeout 5m
  const StepPlan waiting{StepPlan::Then::kWait, {}, "restarting pod my-1", ""};
  auto a = planAfterStep(c.f, waiting, std::nullopt, start + std::chrono::seconds(10), std::chrono::seconds(1));
  CHECK(a == AfterStep{AfterStep::Kind::kWait, "", "", std::string("restarting pod my-1"), std::chrono::seconds(1)});
  // Said once: the same wait writes nothing; near the deadline it looks again at the deadline.
  c.f.progress.status["conditions"].push_back(cond("Waiting", "True", "InProgress", "restarting pod my-1"));
  a = planAfterStep(c.f, waiting, std::nullopt, start + std::chrono::milliseconds(299'700), std::chrono::seconds(1));
  CHECK(a == AfterStep{AfterStep::Kind::kWait, "", "", std::nullopt, std::chrono::milliseconds(300)});
  a = planAfterStep(c.f, waiting, std::nullopt, start + std::chrono::seconds(301), std::chrono::seconds(1));
  CHECK(a == AfterStep{AfterStep::Kind::kFail, "Timeout", "did not finish within 5m0s (spec.timeout): restarting pod my-1", std::nullopt, {}});
  // An error: retried until the deadline, then the request fails with it.
  a = planAfterStep(c.f, {}, std::string("connection refused"), start + std::chrono::seconds(10), std::chrono::seconds(1));
  CHECK(a.kind == AfterStep::Kind::kError);
  a = planAfterStep(c.f, {}, std::string("connection refused"), start + std::chrono::seconds(301), std::chrono::seconds(1));
  CHECK(a.message == "did not finish within 5m0s (spec.timeout): connection refused");
  a = planAfterStep(c.f, StepPlan{StepPlan::Then::kFail, {}, "updating the MySQL spec: denied", "StepFailed"}, std::nullopt, start,
                    std::chrono::seconds(1));
  CHECK(a == AfterStep{AfterStep::Kind::kFail, "StepFailed", "updating the MySQL spec: denied", std::nullopt, {}});
  CHECK(planAfterStep(c.f, {}, std::nullopt, start, std::chrono::seconds(1)) ==
        AfterStep{AfterStep::Kind::kSucceed, "OpsRequestProcessedSuccessfully", "Controller has successfully restarted the MySQL demo/my",
                  std::nullopt, {}});
  Case rotate(kRotate, tlsMySQL());
  CHECK(planAfterStep(rotate.f, {}, std::nullopt, start, std::chrono::seconds(1)).message ==
        "Controller has successfully reconfigured TLS of the MySQL demo/my");
  CHECK(human(std::chrono::seconds(90)) == "90s");
  CHECK(human(std::chrono::seconds(150)) == "2m30s");
}

}  // namespace
}  // namespace mysqlop::enterprise::ops
