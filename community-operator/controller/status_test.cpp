#include "community-operator/controller/status.h"

#include <catch2/catch.hpp>

#include "common/kube/conditions.h"

namespace mysqlop::community {
namespace {

const core::WallTime kT0 = core::WallTime{} + std::chrono::hours(24 * 365 * 56);
const core::WallTime kT1 = kT0 + std::chrono::minutes(5);

std::string cond(const Json& status, std::string_view type, const char* field = "status") {
  auto c = kube::findCondition(status.value("conditions", Json::array()), type);
  if (!c) return "<absent>";
  if (std::string_view(field) == "reason") return c->reason;
  if (std::string_view(field) == "message") return c->message;
  if (std::string_view(field) == "lastTransitionTime") return c->lastTransitionTime;
  return c->status;
}

StatusFacts base() {
  StatusFacts f;
  f.ns = "demo";
  f.name = "my";
  f.generation = 2;
  return f;
}

}  // namespace

TEST_CASE("phase follows KubeDB's derivation from the conditions", "[community][status]") {
  auto conds = [](std::vector<std::pair<const char*, const char*>> cs) {
    Json a = Json::array();
    for (auto [t, s] : cs) a.push_back({{"type", t}, {"status", s}});
    return a;
  };
  CHECK(computePhase(Json::array()) == "");
  CHECK(computePhase(conds({{"ProvisioningStarted", "True"}})) == "Provisioning");
  CHECK(computePhase(conds({{"ProvisioningStarted", "True"}, {"Ready", "True"}})) == "Provisioning");
  CHECK(computePhase(conds({{"ProvisioningStarted", "True"}, {"Provisioned", "True"}, {"Ready", "True"},
                            {"AcceptingConnection", "True"}, {"ReplicaReady", "True"}})) == "Ready");
  CHECK(computePhase(conds({{"Provisioned", "True"}, {"Ready", "False"}, {"AcceptingConnection", "True"}})) == "Critical");
  CHECK(computePhase(conds({{"Provisioned", "True"}, {"ReplicaReady", "False"}, {"Ready", "True"}})) == "Critical");
  CHECK(computePhase(conds({{"Provisioned", "True"}, {"AcceptingConnection", "False"}, {"Ready", "False"}})) == "NotReady");
  CHECK(computePhase(conds({{"Provisioned", "True"}, {"Halted", "True"}, {"Ready", "True"}})) == "Halted");
}

TEST_CASE("status through a database's life: gate, replicas, health, provisioned, outage", "[community][status]") {
  StatusFacts f = base();
  f.blocker = Blocker{std::string(api::kReasonWaitingForTLSSecrets), "wait for all necessary secrets for db demo/my: missing Secret my-server-cert"};
  Json s = desiredStatus(Json::object(), f, kT0);
  CHECK(s["phase"] == "Provisioning");
  CHECK(s["observedGeneration"] == 2);
  CHECK(cond(s, api::kCondProvisioningStarted) == "True");
  CHECK(cond(s, api::kCondProvisioningStarted, "message") == "The KubeDB operator has started the provisioning of MySQL: demo/my");
  CHECK(cond(s, api::kCondReady) == "False");
  CHECK(cond(s, api::kCondReady, "reason") == "WaitingForTLSSecrets");
  CHECK(cond(s, api::kCondReplicaReady) == "<absent>");
  // Same facts again: nothing changes (a converged object writes nothing).
  CHECK(desiredStatus(s, f, kT1) == s);

  f.blocker.reset();
  f.statefulSet = ReplicaCounts{1, 0};
  s = desiredStatus(s, f, kT1);
  CHECK(cond(s, api::kCondReplicaReady) == "False");
  CHECK(cond(s, api::kCondReplicaReady, "message") == "0 of 1 replicas are ready");
  CHECK(cond(s, api::kCondReady, "reason") == "ReadinessCheckPending");

  f.statefulSet = ReplicaCounts{1, 1};
  f.health = HealthFacts{false, "cannot connect to my.demo.svc:3306: ERROR 2002: refused"};
  s = desiredStatus(s, f, kT1);
  CHECK(cond(s, api::kCondReplicaReady) == "True");
  CHECK(cond(s, api::kCondAcceptingConnection) == "False");
  CHECK(cond(s, api::kCondReady, "message") == "cannot connect to my.demo.svc:3306: ERROR 2002: refused");
  CHECK(s["phase"] == "Provisioning");
  CHECK(cond(s, api::kCondProvisioned) == "<absent>");

  f.health = HealthFacts{true, "my.demo.svc:3306 answered a query over TLSv1.3 (server 10.11.6-MariaDB)"};
  s = desiredStatus(s, f, kT1);
  CHECK(s["phase"] == "Ready");
  CHECK(cond(s, api::kCondProvisioned) == "True");
  CHECK(cond(s, api::kCondReady, "reason") == "ReadinessCheckSucceeded");

  // An outage after provisioning: NotReady, and Provisioned stays.
  f.health = HealthFacts{false, "cannot connect"};
  s = desiredStatus(s, f, kT1 + std::chrono::minutes(1));
  CHECK(s["phase"] == "NotReady");
  CHECK(cond(s, api::kCondProvisioned) == "True");
  // A replica down but the server answering: Critical.
  f.health = HealthFacts{true, "ok"};
  f.statefulSet = ReplicaCounts{1, 0};
  s = desiredStatus(s, f, kT1);
  CHECK(s["phase"] == "Critical");
}

TEST_CASE("status keeps conditions it does not own and moves lastTransitionTime only on a flip", "[community][status]") {
  Json current = {{"conditions", Json::array({{{"type", "TLSCertificatesReady"}, {"status", "True"}, {"reason", "Issued"},
                                                {"message", "x"}, {"lastTransitionTime", "2026-01-01T00:00:00Z"}}})}};
  StatusFacts f = base();
  f.statefulSet = ReplicaCounts{1, 1};
  f.health = HealthFacts{false, "down"};
  Json s = desiredStatus(current, f, kT0);
  CHECK(cond(s, "TLSCertificatesReady", "reason") == "Issued");
  const std::string t0 = cond(s, api::kCondReady, "lastTransitionTime");
  f.health = HealthFacts{false, "still down, differently"};
  s = desiredStatus(s, f, kT1);
  CHECK(cond(s, api::kCondReady, "lastTransitionTime") == t0);
  f.health = HealthFacts{true, "up"};
  s = desiredStatus(s, f, kT1);
  CHECK(cond(s, api::kCondReady, "lastTransitionTime") != t0);
}

TEST_CASE("status: a restarted operator with no verdict yet keeps what the last check said", "[community][status]") {
  StatusFacts f = base();
  f.statefulSet = ReplicaCounts{1, 1};
  for (bool ok : {true, false}) {
    f.health = HealthFacts{ok, ok ? "up" : "down"};
    const Json checked = desiredStatus(Json::object(), f, kT0);
    // The process restarts (or another replica leads): no verdict yet, nothing to write.
    StatusFacts fresh = f;
    fresh.health.reset();
    CHECK(desiredStatus(checked, fresh, kT1) == checked);
    // A StatefulSet written now makes the old verdict moot.
    fresh.workloadWritten = true;
    CHECK(cond(desiredStatus(checked, fresh, kT1), api::kCondReady, "reason") == "ReadinessCheckPending");
  }
}

TEST_CASE("status: no ready pod is pending while provisioning, a failure once the database was checked", "[community][status]") {
  StatusFacts f = base();
  f.statefulSet = ReplicaCounts{1, 0};
  HealthFacts none{false, "no pod of StatefulSet demo/my is ready"};
  none.noReadyPod = true;
  f.health = none;
  // Provisioning: the pods are starting, nothing was dialled — pending, and no change to write.
  Json s = desiredStatus(Json::object(), f, kT0);
  CHECK(cond(s, api::kCondReady, "reason") == "ReadinessCheckPending");
  CHECK(cond(s, api::kCondAcceptingConnection) == "<absent>");
  StatusFacts unchecked = f;
  unchecked.health.reset();
  CHECK(desiredStatus(s, unchecked, kT1) == s);
  // Checked and ready, then every pod goes: a failure, in those words.
  f.statefulSet = ReplicaCounts{1, 1};
  f.health = HealthFacts{true, "up"};
  s = desiredStatus(s, f, kT1);
  CHECK(s["phase"] == "Ready");
  f.statefulSet = ReplicaCounts{1, 0};
  f.health = none;
  s = desiredStatus(s, f, kT1);
  CHECK(cond(s, api::kCondReady, "reason") == "ReadinessCheckFailed");
  CHECK(cond(s, api::kCondReady, "message") == "no pod of StatefulSet demo/my is ready");
  CHECK(cond(s, api::kCondAcceptingConnection) == "False");
  CHECK(s["phase"] == "NotReady");
}

TEST_CASE("halted and deletion-blocked databases say so", "[community][status]") {
  StatusFacts f = base();
  f.halted = true;
  Json s = desiredStatus(Json::object(), f, kT0);
  CHECK(s["phase"] == "Halted");
  CHECK(cond(s, api::kCondHalted) == "True");
  CHECK(cond(s, api::kCondAcceptingConnection) == "False");
  f.halted = false;
  f.statefulSet = ReplicaCounts{1, 0};
  s = desiredStatus(s, f, kT0);
  CHECK(cond(s, api::kCondHalted) == "<absent>");
  CHECK(s["phase"] == "Provisioning");
}

TEST_CASE("an invalid spec blocks Ready with InvalidSpec", "[community][status]") {
  StatusFacts f = base();
  f.blocker = Blocker{std::string(api::kReasonInvalidSpec), "The MySQL spec is invalid: spec.storageType: Unsupported value: \"Tape\""};
  Json s = desiredStatus(Json::object(), f, kT0);
  CHECK(cond(s, api::kCondReady) == "False");
  CHECK(cond(s, api::kCondReady, "reason") == "InvalidSpec");
  CHECK(cond(s, api::kCondReady, "message").find("spec.storageType") != std::string::npos);
}

TEST_CASE("status: what each pod serves, and whether it is the Secret's certificate", "[community][status][tls]") {
  StatusFacts f = base();
  f.tls = true;
  f.statefulSet = ReplicaCounts{1, 1};
  ServedCertificate current{"my-0", "0A1B", "2027-02-27T10:00:00Z", "CN=demo-ca", true, "", "", ""};
  f.health = HealthFacts{true, "ok", std::vector<ServedCertificate>{current}};
  Json s = desiredStatus(Json::object(), f, kT0);
  CHECK(s["tls"] == Json::parse(R"({"earliestServedNotAfter":"2027-02-27T10:00:00Z","servedCertificates":[
      {"pod":"my-0","serialNumber":"0A1B","notAfter":"2027-02-27T10:00:00Z","issuer":"CN=demo-ca","matchesSecret":true}]})"));
  CHECK(cond(s, api::kCondServedCertificatesCurrent) == "True");
  CHECK(cond(s, api::kCondServedCertificatesCurrent, "reason") == api::kReasonServedCurrent);
  CHECK(cond(s, api::kCondServedCertificatesCurrent, "message") ==
        "every pod serves the certificate of its server Secret (serial 0A1B, until 2027-02-27T10:00:00Z)");
  CHECK(desiredStatus(s, f, kT1) == s);  // steady: nothing to write

  // A reload the server refused: the old certificate is named, the condition says why.
  ServedCertificate refused{"my-0", "0A1B", "2027-02-27T10:00:00Z", "CN=demo-ca", false, "", "ReloadFailed",
                            "refused \"FLUSH SSL\": ERROR 1105; it still serves serial 0A1B"};
  f.health->served = std::vector<ServedCertificate>{refused};
  Json r = desiredStatus(s, f, kT1);
  CHECK(cond(r, api::kCondServedCertificatesCurrent) == "False");
  CHECK(cond(r, api::kCondServedCertificatesCurrent, "reason") == api::kReasonReloadFailed);
  CHECK(cond(r, api::kCondServedCertificatesCurrent, "message") ==
        "pod my-0: refused \"FLUSH SSL\": ERROR 1105; it still serves serial 0A1B");
  CHECK(r["tls"]["servedCertificates"][0]["reason"] == "ReloadFailed");
  CHECK(r["tls"]["servedCertificates"][0]["matchesSecret"] == false);

  CHECK(cond(s, api::kCondServedCertificatesExpiring) == "False");
  ServedCertificate soon = current;
  soon.expiry = "ExpiresSoon";
  f.health->served = std::vector<ServedCertificate>{soon};
  Json e = desiredStatus(s, f, kT1);
  CHECK(cond(e, api::kCondServedCertificatesExpiring) == "True");
  CHECK(cond(e, api::kCondServedCertificatesExpiring, "reason") == api::kReasonExpiresSoon);
  CHECK(cond(e, api::kCondServedCertificatesExpiring, "message") ==
        "pod my-0 serves a certificate (serial 0A1B) that expires at 2027-02-27T10:00:00Z; its Secret holds no newer one: is "
        "cert-manager renewing it?");
  f.health->served = std::vector<ServedCertificate>{refused};

  // No news from the health checker keeps what was said; TLS removed takes it away.
  f.health->served.reset();
  CHECK(desiredStatus(r, f, kT1)["tls"] == r["tls"]);
  f.tls = false;
  Json plain = desiredStatus(r, f, kT1);
  CHECK_FALSE(plain.contains("tls"));
  CHECK(cond(plain, api::kCondServedCertificatesCurrent) == "<absent>");
  CHECK(cond(plain, api::kCondServedCertificatesExpiring) == "<absent>");
}

}  // namespace mysqlop::community
