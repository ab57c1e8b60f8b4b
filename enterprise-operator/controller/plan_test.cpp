// The enterprise operator's decisions without an API server: each gate's verdict, what is made
// in which order, whose objects are left alone, and that a converged MySQL plans no write.
#include "enterprise-operator/controller/plan.h"

#include "common/core/time_format.h"

#include <catch2/catch.hpp>

#include "common/pki/pki.h"
#include "common/testing/test_pki.h"

#include "common/api/conditions.h"
#include "common/api/naming.h"
#include "common/kube/base64.h"
#include "common/kube/conditions.h"
#include "common/kube/object.h"

namespace mysqlop::enterprise {
namespace {

const core::WallTime kNow = core::WallTime{} + std::chrono::hours(24 * 365 * 56);
const char* kUid = "uid-1";

runtime::ObjectPtr ptr(Json j) { return std::make_shared<const Json>(std::move(j)); }

Json mysql(const std::string& spec) {
  return Json::parse(R"({"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":"my","namespace":"demo",
      "uid":"uid-1","generation":3},"spec":)" + spec + "}");
}

const char* kTls = R"({"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"authSecret":{"name":"my-auth"},
    "tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}})";

Json withCondition(Json obj, const std::string& type, bool ready, const std::string& reason = "Ready") {
  (void)kube::setStatusCondition(obj, {type, ready ? "True" : "False", reason, "msg", kube::generation(obj), ""}, kNow);
  return obj;
}

runtime::ObjectPtr secret(const std::string& name, std::map<std::string, std::string> data, bool owned = false) {
  Json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", "demo"}}}};
  for (const auto& [k, v] : data) s["data"][k] = kube::base64Encode(v);
  if (owned) (void)kube::addOwnerReference(s, {"kubedb.com/v1", "MySQL", "my", kUid, true, true});
  return ptr(s);
}

// Everything the gates wait for: a valid licence, a Ready issuer, the auth Secret and Services.
Observed open(const std::string& spec = kTls) {
  Observed o;
  o.mysql = ptr(mysql(spec));
  o.licence = LicenceState{true, "cluster-1", "", "Example Corp", kNow + std::chrono::hours(24)};
  o.issuer = ptr(withCondition(Json{{"metadata", {{"name", "ca"}, {"namespace", "demo"}, {"generation", 1}}}}, "Ready", true));
  o.secrets["my-auth"] = secret("my-auth", {{"username", "admin"}, {"password", "pw"}});
  for (const char* s : {"my", "my-pods"}) o.services[s] = ptr({{"metadata", {{"name", s}, {"namespace", "demo"}}}});
  return o;
}

std::optional<kube::Condition> tlsCondition(const Plan& p, const Observed& o) {
  Json status = o.mysql->value("status", Json::object());
  if (p.status) p.status->applyTo(status, kNow);
  return kube::findCondition(status.value("conditions", Json::array()), api::kCondTLSCertificatesReady);
}

std::vector<std::string> stepNames(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) {
    if (auto* e = std::get_if<EnsureStep>(&s)) out.push_back("ensure:" + e->type->kind + "/" + kube::name(e->desired));
    if (auto* d = std::get_if<DeleteStep>(&s)) out.push_back("delete:" + d->type->kind + "/" + d->name);
    if (auto* a = std::get_if<AdoptIssuedSecretStep>(&s)) out.push_back("adopt:" + kube::name(a->secret));
    if (auto* f = std::get_if<FinalizerStep>(&s)) out.push_back(f->add ? "add-finalizer" : "drop-finalizer");
  }
  return out;
}

// The executor, in memory: the caches after the plan (cert-manager not included).
void applyInMemory(Observed& o, const Plan& p) {
  for (const auto& s : p.steps) {
    if (auto* e = std::get_if<EnsureStep>(&s)) {
      Json obj = e->cached ? runtime::mergeDesired(*e->cached, e->desired) : e->desired;
      (e->type->kind == "Certificate" ? o.certificates : o.secrets)[kube::name(obj)] = ptr(obj);
    }
    if (auto* d = std::get_if<DeleteStep>(&s)) (d->type->kind == "Secret" ? o.secrets : o.certificates).erase(d->name);
    if (auto* a = std::get_if<AdoptIssuedSecretStep>(&s)) o.secrets[kube::name(a->secret)] = ptr(a->secret);
  }
  Json my = *o.mysql;
  for (const auto& s : p.steps) {
    if (auto* f = std::get_if<FinalizerStep>(&s)) {
      if (f->add) {
        (void)kube::addFinalizer(my, api::kTlsFinalizer);
      } else {
        (void)kube::removeFinalizer(my, api::kTlsFinalizer);
      }
    }
  }
  if (p.status) {
    Json status = my.value("status", Json::object());
    p.status->applyTo(status, kNow);
    my["status"] = status;
  }
  o.mysql = ptr(my);
}

// cert-manager, in memory: every Certificate Ready and its Secret written.
void issueAll(Observed& o) {
  for (auto& [name, cert] : o.certificates) {
    Json c = withCondition(*cert, "Ready", true);
    c["status"]["notAfter"] = "2027-02-27T10:00:00Z";
    cert = ptr(c);
    const std::string secretName = (*cert)["spec"]["secretName"];
    Json s = *secret(secretName, {{"tls.crt", "x"}, {"tls.key", "k"}, {"ca.crt", "ca"}});
    kube::setAnnotation(s, "cert-manager.io/certificate-name", name);
    o.secrets[secretName] = ptr(s);
  }
}

int writes(const Plan& p) {
  int n = p.status ? 1 : 0;
  for (const auto& s : p.steps) {
    auto* e = std::get_if<EnsureStep>(&s);
    if (!e || !runtime::converged(e->cached, e->desired)) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("enterprise plan: the gates in order, each with its reason and words", "[enterprise][plan]") {
  struct Row {
    std::string name;
    std::function<void(Observed&)> setup;
    std::string_view reason;
    std::string message;
    bool warning = true;  // what the user must act on; a lasting wait for the other operator is Normal
  };
  const std::vector<Row> rows = {
      {"no valid licence beats everything",
       [](Observed& o) {
         o.licence = LicenceState{false, "cluster-1", "the licence has expired", "", std::nullopt};
         o.issuer = nullptr;
       },
       api::kReasonLicenseInvalid,
       "No TLS certificates are issued for MySQL demo/my: licence invalid for cluster cluster-1: the licence has expired"},
      {"the Issuer is missing",
       [](Observed& o) { o.issuer = nullptr; },
       api::kReasonIssuerNotFound, "Issuer demo/ca (spec.tls.issuerRef) does not exist; create it to issue the certificates"},
      {"a ClusterIssuer is missing",
       [](Observed& o) {
         o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","tls":{"issuerRef":{"kind":"ClusterIssuer","name":"root"}}})"));
         o.issuer = nullptr;
       },
       api::kReasonIssuerNotFound, "ClusterIssuer root (spec.tls.issuerRef) does not exist"},
      {"the Issuer is not Ready",
       [](Observed& o) { o.issuer = ptr(withCondition(*o.issuer, "Ready", false, "ErrGetKeyPair")); },
       api::kReasonIssuerNotReady, "Issuer demo/ca is not Ready: ErrGetKeyPair: msg"},
      {"the Issuer's Ready is about an older generation",
       [](Observed& o) {
         Json i = *o.issuer;
         i["metadata"]["generation"] = 2;
         o.issuer = ptr(i);
       },
       api::kReasonIssuerNotReady, "Issuer demo/ca is not Ready: Outdated"},
      {"the community operator has not made its objects yet",
       [](Observed& o) {
         o.secrets.clear();
         o.services.erase("my-pods");
       },
       api::kReasonWaitingForDatabaseObjects,
       "waiting for the community operator to create Secret my-auth, Service my-pods for MySQL demo/my", false},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    Observed o = open();
    r.setup(o);
    Plan p = plan(o, kNow);
    CHECK(p.steps.empty());
    auto c = tlsCondition(p, o);
    REQUIRE(c);
    CHECK(c->status == "False");
    CHECK(c->reason == r.reason);
    CHECK_THAT(c->message, Catch::StartsWith(r.message) || Catch::Contains(r.message));
    CHECK(c->observedGeneration == 3);
    REQUIRE(p.onStatusWrite);
    CHECK(p.onStatusWrite->warning == r.warning);
    CHECK(p.onStatusWrite->reason == r.reason);
    applyInMemory(o, p);
    Plan again = plan(o, kNow);
    CHECK_FALSE(again.status);  // said once: no write, no Event
    CHECK_FALSE(again.onStatusWrite);
  }
}

TEST_CASE("enterprise plan: Certificates and the exporter configuration, then issuance, then zero writes",
          "[enterprise][plan]") {
  Observed o = open();
  Plan p = plan(o, kNow);
  // Our finalizer before the first Certificate: a WipeOut can then wait for their removal.
  CHECK(stepNames(p) == std::vector<std::string>{"add-finalizer", "ensure:Certificate/my-server-cert",
                                                 "ensure:Certificate/my-client-cert",
                                                 "ensure:Certificate/my-metrics-exporter-cert",
                                                 "ensure:Secret/my-metrics-exporter-config"});
  const auto& cnf = std::get<EnsureStep>(p.steps.back());
  CHECK_THAT(*kube::secretValue(cnf.desired, "exporter.cnf"), Catch::Contains("user=admin"));
  CHECK_FALSE(cnf.announceUpdates);
  auto c = tlsCondition(p, o);
  CHECK(c->reason == api::kReasonIssuing);
  CHECK(p.status);
  CHECK_FALSE(p.onStatusWrite);  // issuance takes a moment: the condition says it, no Event
  CHECK(c->message ==
        "waiting for cert-manager to issue the Certificates my-server-cert, my-client-cert, my-metrics-exporter-cert "
        "in namespace demo");

  // cert-manager at work, certificates issued one by one: the same words, no status write.
  applyInMemory(o, p);
  p = plan(o, kNow);
  CHECK_FALSE(p.status);
  issueAll(o);
  o.secrets.erase("my-client-cert");
  p = plan(o, kNow);
  CHECK_FALSE(p.status);
  CHECK(tlsCondition(p, o)->reason == api::kReasonIssuing);

  issueAll(o);
  p = plan(o, kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"ensure:Certificate/my-server-cert", "ensure:Certificate/my-client-cert",
                                                 "ensure:Certificate/my-metrics-exporter-cert",
                                                 "ensure:Secret/my-metrics-exporter-config", "adopt:my-server-cert",
                                                 "adopt:my-client-cert", "adopt:my-metrics-exporter-cert"});
  const auto& adopted = std::get<AdoptIssuedSecretStep>(p.steps[4]).secret;
  REQUIRE(kube::ownerReferences(adopted).size() == 1);
  CHECK_FALSE(kube::ownerReferences(adopted)[0].controller);  // cert-manager manages it
  c = tlsCondition(p, o);
  CHECK(c->status == "True");
  CHECK(c->reason == api::kReasonCertificatesIssued);
  CHECK(c->message == "All TLS certificates are issued: server until 2027-02-27T10:00:00Z, client until "
                      "2027-02-27T10:00:00Z, metrics-exporter until 2027-02-27T10:00:00Z");
  REQUIRE(p.onStatusWrite);
  CHECK_FALSE(p.onStatusWrite->warning);

  applyInMemory(o, p);
  p = plan(o, kNow);
  CHECK(writes(p) == 0);
}

TEST_CASE("enterprise plan: a wait for the community operator's objects is said only once it lasts", "[enterprise][plan]") {
  Observed o = open();
  o.secrets.clear();
  Json my = *o.mysql;
  my["metadata"]["creationTimestamp"] = core::formatTime(kNow - std::chrono::seconds(3));
  o.mysql = ptr(my);
  Plan p = plan(o, kNow);
  CHECK_FALSE(p.status);
  CHECK_FALSE(p.onStatusWrite);
  REQUIRE(p.requeueAfter);
  CHECK(*p.requeueAfter == std::chrono::seconds(57));
  // Not in the status yet, but never silent: what it waits for goes to the log.
  CHECK_THAT(p.waitingFor, Catch::Contains("waiting for the community operator to create Secret my-auth"));
  p = plan(o, kNow + std::chrono::seconds(58));
  CHECK(p.waitingFor.empty());
  CHECK(tlsCondition(p, o)->reason == api::kReasonWaitingForDatabaseObjects);
  REQUIRE(p.onStatusWrite);
  CHECK_FALSE(p.onStatusWrite->warning);
}

TEST_CASE("enterprise plan: a Certificate cert-manager failed to issue is named, with a Warning", "[enterprise][plan]") {
  Observed o = open();
  Plan p = plan(o, kNow);
  applyInMemory(o, p);
  Json failed = *o.certificates.at("my-client-cert");
  failed["status"]["conditions"] = Json::array({{{"type", "Issuing"}, {"status", "False"}, {"reason", "Failed"},
                                                 {"message", "the CA refused: key too small"}}});
  o.certificates["my-client-cert"] = ptr(failed);
  p = plan(o, kNow);
  auto c = tlsCondition(p, o);
  CHECK(c->reason == api::kReasonIssuanceFailed);
  CHECK(c->message == "cert-manager has not issued: my-client-cert (Failed: the CA refused: key too small)");
  REQUIRE(p.onStatusWrite);
  CHECK(p.onStatusWrite->warning);
}

TEST_CASE("enterprise plan: a secretName naming a Secret not issued for the database is refused", "[enterprise][plan]") {
  Observed o = open();
  // The entry points the server certificate at an application's Secret.
  o.mysql = ptr(mysql(R"({"version":"8.4.3","storageType":"Ephemeral","authSecret":{"name":"my-auth"},
      "tls":{"issuerRef":{"kind":"Issuer","name":"ca"},"certificates":[{"alias":"server","secretName":"app-keys"}]}})"));
  o.secrets["app-keys"] = secret("app-keys", {{"api-key", "s3cr3t"}});
  Plan p = plan(o, kNow);
  for (const auto& n : stepNames(p)) CHECK(n.find("Certificate/my-server-cert") == std::string::npos);
  CHECK(tlsCondition(p, o)->reason == api::kReasonSecretNameConflict);
  CHECK(tlsCondition(p, o)->message ==
        "spec.tls.certificates[alias=server].secretName: Secret demo/app-keys exists and was not issued for Certificate "
        "my-server-cert; it is left alone: name a Secret that does not exist");
  // One cert-manager issued for this Certificate (say, kept by an earlier MySQL) is fine.
  Json issued = *secret("app-keys", {{"tls.crt", "x"}});
  issued["metadata"]["annotations"]["cert-manager.io/certificate-name"] = "my-server-cert";
  o.secrets["app-keys"] = ptr(issued);
  p = plan(o, kNow);
  auto names = stepNames(p);
  CHECK(std::find(names.begin(), names.end(), "ensure:Certificate/my-server-cert") != names.end());
}

TEST_CASE("enterprise plan: credentials exporter.cnf cannot carry are refused, saying why", "[enterprise][plan]") {
  Observed o = open();
  o.secrets["my-auth"] = secret("my-auth", {{"username", "admin"}, {"password", "a`b\nc\""}});
  Plan p = plan(o, kNow);
  auto names = stepNames(p);
  CHECK(std::find(names.begin(), names.end(), "ensure:Secret/my-metrics-exporter-config") == names.end());
  CHECK(tlsCondition(p, o)->reason == api::kReasonAuthSecretUnusable);
  CHECK_THAT(tlsCondition(p, o)->message, Catch::StartsWith("Secret demo/my-auth: the password holds both a backquote"));
  // Any other password works, whatever it holds.
  o.secrets["my-auth"] = secret("my-auth", {{"username", "admin"}, {"password", "p#ss;w\"o'rd\nline2"}});
  p = plan(o, kNow);
  names = stepNames(p);
  CHECK(std::find(names.begin(), names.end(), "ensure:Secret/my-metrics-exporter-config") != names.end());
}

TEST_CASE("enterprise plan: someone else's Certificate or exporter configuration is never adopted", "[enterprise][plan]") {
  Observed o = open();
  o.secrets["my-metrics-exporter-config"] = secret("my-metrics-exporter-config", {{"exporter.cnf", "[client]"}});
  Plan p = plan(o, kNow);
  auto names = stepNames(p);
  CHECK(std::find(names.begin(), names.end(), "ensure:Secret/my-metrics-exporter-config") == names.end());
  CHECK(tlsCondition(p, o)->reason == api::kReasonExporterConfigConflict);
  CHECK(tlsCondition(p, o)->message ==
        "Secret demo/my-metrics-exporter-config exists and does not belong to MySQL demo/my; it is left alone");

  o = open();
  o.certificates["my-client-cert"] = ptr({{"metadata", {{"name", "my-client-cert"}, {"namespace", "demo"}}}});
  p = plan(o, kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"add-finalizer", "ensure:Certificate/my-server-cert"});
  CHECK(tlsCondition(p, o)->reason == api::kReasonCertificateConflict);

  // A Secret of the TLS secret name that cert-manager did not issue for our Certificate is not adopted.
  o = open();
  applyInMemory(o, plan(o, kNow));
  issueAll(o);
  Json foreign = *o.secrets["my-server-cert"];
  kube::setAnnotation(foreign, "cert-manager.io/certificate-name", "someone-elses");
  o.secrets["my-server-cert"] = ptr(foreign);
  names = stepNames(plan(o, kNow));
  CHECK(std::find(names.begin(), names.end(), "adopt:my-server-cert") == names.end());
}

TEST_CASE("enterprise plan: TLS removed from a MySQL takes our Certificates, condition and finalizer away",
          "[enterprise][plan]") {
  Observed o = open();
  o.issuerCa = {true, "CA\n"};
  applyInMemory(o, plan(o, kNow));
  REQUIRE(kube::hasFinalizer(*o.mysql, api::kTlsFinalizer));
  REQUIRE(o.secret("my-issuer-ca"));
  o.certificates["my-client-cert"] = ptr({{"metadata", {{"name", "my-client-cert"}, {"namespace", "demo"}}}});  // not ours
  Json plain = *o.mysql;
  plain["spec"] = Json::parse(R"({"version":"8.4.3","storageType":"Ephemeral"})");
  o.mysql = ptr(plain);
  Plan p = plan(o, kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"delete:Certificate/my-metrics-exporter-cert",
                                                 "delete:Certificate/my-server-cert", "delete:Secret/my-issuer-ca"});
  CHECK_FALSE(tlsCondition(p, o));
  applyInMemory(o, p);
  p = plan(o, kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"drop-finalizer"});
  applyInMemory(o, p);
  CHECK(writes(plan(o, kNow)) == 0);
}

TEST_CASE("enterprise plan: a deletion takes our Certificates (WipeOut) or waits for the community operator",
          "[enterprise][plan]") {
  auto deleting = [](const std::string& policy, std::vector<std::string> finalizers) {
    Observed o = open();
    applyInMemory(o, plan(o, kNow));
    issueAll(o);
    Json obj = *o.mysql;
    obj["spec"]["deletionPolicy"] = policy;
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    obj["metadata"]["finalizers"] = finalizers;
    o.mysql = ptr(obj);
    o.licence = LicenceState{false, "cluster-1", "the licence has expired", "", std::nullopt};  // not needed to clean up
    return o;
  };
  // WipeOut: our Certificates go (not someone else's), then our finalizer.
  Observed o = deleting("WipeOut", {"kubedb.com", "mysqlop.io/tls-certificates"});
  o.certificates["users-cert"] = ptr({{"metadata", {{"name", "users-cert"}, {"namespace", "demo"}}}});
  Plan p = plan(o, kNow);
  CHECK(stepNames(p) == std::vector<std::string>{"delete:Certificate/my-client-cert",
                                                 "delete:Certificate/my-metrics-exporter-cert",
                                                 "delete:Certificate/my-server-cert"});
  CHECK_FALSE(p.status);
  Json going = *o.certificates["my-server-cert"];
  going["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:01Z";
  o.certificates = {{"my-server-cert", ptr(going)}};
  CHECK(stepNames(plan(o, kNow)).empty());  // still going: not deleted again, the finalizer stays
  o.certificates.clear();
  CHECK(stepNames(plan(o, kNow)) == std::vector<std::string>{"drop-finalizer"});

  // Another policy: the community operator's finalizer is awaited (DoNotTerminate may hold it for
  // good, and the policy may still become WipeOut); the Certificates are not deleted by us.
  for (const char* policy : {"Delete", "Halt", "DoNotTerminate"}) {
    o = deleting(policy, {"kubedb.com", "mysqlop.io/tls-certificates"});
    CHECK(stepNames(plan(o, kNow)).empty());
    o = deleting(policy, {"mysqlop.io/tls-certificates"});
    CHECK(stepNames(plan(o, kNow)) == std::vector<std::string>{"drop-finalizer"});
  }
  // Without our finalizer there is nothing of ours to do.
  o = deleting("WipeOut", {"kubedb.com"});
  CHECK(plan(o, kNow).steps.empty());
}

TEST_CASE("enterprise plan: an invalid spec is the community operator's to report", "[enterprise][plan]") {
  Observed o = open(R"({"version":"8.4.3","storageType":"Ephemeral","requireSSL":true})");
  Plan p = plan(o, kNow);
  CHECK(p.steps.empty());
  CHECK_FALSE(p.status);
}

TEST_CASE("enterprise plan: the CA a ca issuer signs with now is published as <db>-issuer-ca, and follows it",
          "[enterprise][plan][issuer-ca]") {
  Observed o = open();
  o.issuerCa = {true, "CA ONE\n"};
  Plan p = plan(o, kNow);
  REQUIRE(stepNames(p).back() == "ensure:Secret/my-issuer-ca");
  const Json& s = std::get<EnsureStep>(p.steps.back()).desired;
  CHECK(*kube::secretValue(s, "ca.crt") == "CA ONE\n");
  CHECK(kube::labels(s) == api::offshootLabels("my"));  // the community operator's cache sees it
  CHECK(kube::isOwnedBy(s, kUid));
  applyInMemory(o, p);
  // What the cache keeps of it (no data): the fingerprint says it is current.
  Json cached = *o.secret("my-issuer-ca");
  cached.erase("data");
  o.secrets["my-issuer-ca"] = ptr(cached);
  for (const auto& n : stepNames(plan(o, kNow))) CHECK(n != "ensure:Secret/my-issuer-ca");

  o.issuerCa = {true, "CA TWO\n"};  // re-keyed
  CHECK(stepNames(plan(o, kNow)).back() == "ensure:Secret/my-issuer-ca");
  o.issuerCa = {false, ""};  // its Secret cannot be read now: what was published stays
  for (const auto& n : stepNames(plan(o, kNow))) CHECK(n.find("my-issuer-ca") == std::string::npos);
  o.issuerCa = {true, ""};  // the issuer is not a ca one (any more)
  CHECK(stepNames(plan(o, kNow)).back() == "delete:Secret/my-issuer-ca");

  o.issuerCa = {true, "CA ONE\n"};
  o.secrets["my-issuer-ca"] = secret("my-issuer-ca", {{"ca.crt", "someone's"}});
  p = plan(o, kNow);
  CHECK(tlsCondition(p, o)->reason == api::kReasonIssuerCaConflict);
  for (const auto& n : stepNames(p)) CHECK(n.find("my-issuer-ca") == std::string::npos);
}

TEST_CASE("enterprise plan: an issuer change waits until every pod has loaded the new issuer's CA", "[enterprise][plan][issuer-ca]") {
  Observed o = open();
  applyInMemory(o, plan(o, kNow));
  issueAll(o);
  applyInMemory(o, plan(o, kNow));
  REQUIRE(tlsCondition(plan(o, kNow), o)->reason == api::kReasonCertificatesIssued);
  // Ready, and the trust bundle's CAs as the community operator reports them.
  testing::TestPki next;
  const std::string fp = pki::fingerprint(*pki::parseCertificate(next.ca().certPem));
  auto withTrust = [&](bool loaded) {
    Json my = withCondition(*o.mysql, "Ready", true);
    my["status"]["tls"]["trustedCAs"] = Json::array({{{"sha256", "aaaa"}, {"loadedByPods", true}}, {{"sha256", fp}, {"loadedByPods", loaded}}});
    return ptr(my);
  };
  o.issuerCa = {true, next.ca().certPem};  // the new issuer's CA, as read from its Secret
  auto issuerOf = [](const Plan& p, const std::string& cert) {
    for (const auto& s : p.steps) {
      if (auto* e = std::get_if<EnsureStep>(&s); e && kube::name(e->desired) == cert) return e->desired["spec"]["issuerRef"].value("name", "");
    }
    return std::string("<none>");
  };

  Json m = *withTrust(false);  // the spec moves to issuer other-ca; its CA is not loaded yet
  m["spec"]["tls"]["issuerRef"]["name"] = "other-ca";
  o.mysql = ptr(m);
  Plan p = plan(o, kNow);
  CHECK(issuerOf(p, "my-server-cert") == "ca");  // the old issuer's, until the pods trust the new CA
  CHECK(issuerOf(p, "my-client-cert") == "ca");
  CHECK(stepNames(p).back() == "ensure:Secret/my-issuer-ca");  // the new CA is published meanwhile
  auto c = tlsCondition(p, o);
  CHECK(c->reason == api::kReasonWaitingForTrust);
  CHECK_THAT(c->message, Catch::Contains("sha256:" + fp.substr(0, 16)) && Catch::Contains("issuer other-ca"));
  REQUIRE(p.onStatusWrite);
  CHECK_FALSE(p.onStatusWrite->warning);

  Json loaded = *withTrust(true);
  loaded["spec"]["tls"]["issuerRef"]["name"] = "other-ca";
  o.mysql = ptr(loaded);
  p = plan(o, kNow);
  CHECK(issuerOf(p, "my-server-cert") == "other-ca");
  CHECK(issuerOf(p, "my-metrics-exporter-cert") == "other-ca");

  // An issuer whose CA is not known (not a ca one) is not waited for, and the condition says so.
  Json unknown = *withTrust(false);
  unknown["spec"]["tls"]["issuerRef"]["name"] = "acme";
  o.mysql = ptr(unknown);
  o.issuerCa = {true, ""};
  p = plan(o, kNow);
  CHECK(issuerOf(p, "my-server-cert") == "acme");
  applyInMemory(o, p);
  issueAll(o);
  CHECK_THAT(tlsCondition(plan(o, kNow), o)->message,
             Catch::Contains("the CA of issuer acme is not one mysqlop can read (not a ca issuer)"));
}

}  // namespace mysqlop::enterprise
