#include "common/api/ops_request.h"

#include <catch2/catch.hpp>

namespace mysqlop::api {
namespace {

Json request(const char* spec) {
  return {{"apiVersion", "ops.kubedb.com/v1alpha1"},
          {"kind", "MySQLOpsRequest"},
          {"metadata", {{"name", "op"}, {"namespace", "demo"}, {"uid", "r"}, {"generation", 1},
                        {"creationTimestamp", "2026-12-06T08:00:00Z"}}},
          {"spec", Json::parse(spec)}};
}

Json mysql(const char* spec) {
  return {{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"},
          {"metadata", {{"name", "my"}, {"namespace", "demo"}, {"uid", "u"}, {"generation", 3}}},
          {"spec", Json::parse(spec)}};
}

std::string problems(const char* spec) {
  auto r = parseOpsRequest(request(spec));
  if (r) return "";
  std::string all;
  for (const auto& e : r.error()) all += e.toString() + "\n";
  return all;
}

TEST_CASE("ops request: a full ReconfigureTLS and a Restart parse", "[api][ops]") {
  auto r = parseOpsRequest(request(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "timeout": "5m", "apply": "Always",
      "tls": {"requireSSL": false, "issuerRef": {"apiGroup": "cert-manager.io", "kind": "ClusterIssuer", "name": "ca2"},
              "certificates": [{"alias": "client", "subject": {"organizations": ["mysql"]}}]}})"));
  REQUIRE(r);
  CHECK(r->type == OpsType::kReconfigureTLS);
  CHECK(r->database == "my");
  CHECK(r->apply == ApplyPolicy::kAlways);
  REQUIRE(r->timeout);
  CHECK(r->timeout->count() == 300000);
  REQUIRE(r->tls);
  CHECK(r->tls->requireSSL == std::optional<bool>(false));
  REQUIRE(r->tls->issuerRef);
  CHECK(r->tls->issuerRef->name == "ca2");
  REQUIRE(r->tls->certificates.size() == 1);
  CHECK(r->tls->certificates[0].subject->organizations == std::vector<std::string>{"mysql"});
  CHECK(r->creationTimestamp == "2026-12-06T08:00:00Z");

  auto restart = parseOpsRequest(request(R"({"type": "Restart", "databaseRef": {"name": "my"}})"));
  REQUIRE(restart);
  CHECK(restart->type == OpsType::kRestart);
  CHECK(restart->apply == ApplyPolicy::kIfReady);
  CHECK_FALSE(restart->timeout);
}

TEST_CASE("ops request: every field at fault is named", "[api][ops]") {
  // KubeDB's two rules: tls is required for ReconfigureTLS; remove and rotateCertificates not both.
  CHECK_THAT(problems(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}})"),
             Catch::Contains("spec.tls: Required value"));
  CHECK_THAT(problems(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"remove": true, "rotateCertificates": true}})"),
             Catch::Contains("spec.tls: Invalid value: remove and rotateCertificates cannot both be true"));
  // And ours.
  CHECK_THAT(problems(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {}})"),
             Catch::Contains("spec.tls: Required value: one of"));
  CHECK_THAT(problems(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"remove": true, "requireSSL": true}})"),
             Catch::Contains("spec.tls.remove"));
  CHECK_THAT(problems(R"({"type": "Upgrade", "databaseRef": {"name": "my"}})"), Catch::Contains("spec.type: Unsupported value: \"Upgrade\""));
  CHECK_THAT(problems(R"({"type": "Restart"})"), Catch::Contains("spec.databaseRef.name: Required value"));
  CHECK_THAT(problems(R"({"type": "Restart", "databaseRef": {"name": "my"}, "tls": {"remove": true}})"), Catch::Contains("spec.tls: Forbidden"));
  CHECK_THAT(problems(R"({"type": "Restart", "databaseRef": {"name": "my"}, "timeout": "soon"})"), Catch::Contains("spec.timeout: Invalid value: \"soon\""));
  CHECK_THAT(problems(R"({"type": "Restart", "databaseRef": {"name": "my"}, "timeout": "0s"})"), Catch::Contains("spec.timeout: Invalid value: \"0s\": must be positive"));
  CHECK_THAT(problems(R"({"type": "Restart", "databaseRef": {"name": "my"}, "apply": "Sometimes"})"), Catch::Contains("spec.apply: Unsupported value"));
  // The issuer and the certificate entries are checked as a MySQL's, at the same paths.
  const std::string bad = problems(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {
      "issuerRef": {"kind": "Vault", "name": "x"}, "certificates": [{"alias": "router"}, {"alias": "server", "ipAddresses": ["1.2.3"]}]}})");
  CHECK_THAT(bad, Catch::Contains("spec.tls.issuerRef.kind: Unsupported value: \"Vault\""));
  CHECK_THAT(bad, Catch::Contains("spec.tls.certificates[0].alias: Unsupported value: \"router\""));
  CHECK_THAT(bad, Catch::Contains("spec.tls.certificates[1].ipAddresses[0]"));
  CHECK_THAT(problems(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"requireSSL": "yes"}})"),
             Catch::Contains("spec.tls.requireSSL: Invalid value"));
  // An issuer is optional in a request (a rotation or a requireSSL toggle keeps the database's).
  CHECK(problems(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": {"requireSSL": true}})").empty());
}

TEST_CASE("ops request: the MySQL spec a ReconfigureTLS asks for", "[api][ops]") {
  const Json plain = mysql(R"({"version": "8.4.3", "storageType": "Ephemeral", "authSecret": {"name": "my-auth"}})");
  const Json tls = mysql(R"({"version": "8.4.3", "storageType": "Ephemeral", "requireSSL": true,
      "tls": {"issuerRef": {"apiGroup": "cert-manager.io", "kind": "Issuer", "name": "ca"},
              "certificates": [{"alias": "server", "secretName": "mine", "dnsNames": ["a.example"]}]}})");
  auto ask = [](const char* t) { return parseOpsRequest(request((std::string(R"({"type": "ReconfigureTLS", "databaseRef": {"name": "my"}, "tls": )") + t + "}").c_str()))->tls.value(); };

  SECTION("adding TLS takes the issuer and requireSSL, and keeps the rest of the spec") {
    auto s = reconfiguredSpec(plain, ask(R"({"requireSSL": true, "issuerRef": {"kind": "Issuer", "name": "ca"}})"));
    REQUIRE(s);
    CHECK((*s)["requireSSL"] == true);
    CHECK((*s)["tls"]["issuerRef"] == Json{{"apiGroup", "cert-manager.io"}, {"kind", "Issuer"}, {"name", "ca"}});
    CHECK((*s)["authSecret"]["name"] == "my-auth");
  }
  SECTION("adding TLS without an issuer names the field") {
    auto s = reconfiguredSpec(plain, ask(R"({"requireSSL": true})"));
    REQUIRE_FALSE(s);
    CHECK(s.error()[0].field == "spec.tls.issuerRef");
    CHECK_THAT(s.error()[0].message, Catch::Contains("MySQL demo/my has no TLS yet"));
  }
  SECTION("an entry replaces the alias's, keeping its Secret name; a new alias is added") {
    auto s = reconfiguredSpec(tls, ask(R"({"certificates": [{"alias": "server", "dnsNames": ["b.example"]}, {"alias": "client", "subject": {"organizations": ["mysql"]}}]})"));
    REQUIRE(s);
    const Json& certs = (*s)["tls"]["certificates"];
    REQUIRE(certs.size() == 2);
    CHECK(certs[0] == Json{{"alias", "server"}, {"dnsNames", {"b.example"}}, {"secretName", "mine"}});
    CHECK(certs[1]["alias"] == "client");
    CHECK((*s)["tls"]["issuerRef"]["name"] == "ca");
  }
  SECTION("a new issuer replaces the old; requireSSL false is written") {
    auto s = reconfiguredSpec(tls, ask(R"({"requireSSL": false, "issuerRef": {"kind": "ClusterIssuer", "name": "ca2"}})"));
    REQUIRE(s);
    CHECK((*s)["tls"]["issuerRef"]["kind"] == "ClusterIssuer");
    CHECK((*s)["requireSSL"] == false);
  }
  SECTION("remove drops TLS and requireSSL") {
    auto s = reconfiguredSpec(tls, ask(R"({"remove": true})"));
    REQUIRE(s);
    CHECK_FALSE(s->contains("tls"));
    CHECK_FALSE(s->contains("requireSSL"));
  }
  SECTION("rotation alone changes nothing") {
    auto s = reconfiguredSpec(tls, ask(R"({"rotateCertificates": true})"));
    REQUIRE(s);
    CHECK(*s == tls["spec"]);
  }
  SECTION("the result is validated as a MySQL") {
    // A name that a plain database may have, too long for a TLS one (the certificate's common name).
    Json longName = plain;
    longName["metadata"]["name"] = std::string(40, 'm');
    longName["metadata"]["namespace"] = std::string(30, 'n');
    auto s = reconfiguredSpec(longName, ask(R"({"issuerRef": {"kind": "Issuer", "name": "ca"}})"));
    REQUIRE_FALSE(s);
    CHECK(s.error()[0].field == "metadata.name");
    CHECK_THAT(s.error()[0].message, Catch::Contains("more than X.509's 64"));
  }
}

TEST_CASE("ops request: the pause marker and the finished phases", "[api][ops]") {
  Json my = mysql(R"({"version": "8.4.3"})");
  CHECK(pausedBy(my).empty());
  my["metadata"]["annotations"][std::string(kAnnotationPausedBy)] = "op";
  CHECK(pausedBy(my) == "op");
  CHECK(isFinished(kOpsSuccessful));
  CHECK(isFinished(kOpsFailed));
  CHECK(isFinished(kOpsSkipped));
  CHECK_FALSE(isFinished(kOpsPending));
  CHECK_FALSE(isFinished(kOpsProgressing));
  CHECK_FALSE(isFinished(""));
}

}  // namespace
}  // namespace mysqlop::api
