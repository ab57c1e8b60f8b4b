#include "common/api/mysql.h"

#include <catch2/catch.hpp>

namespace mysqlop::api {
namespace {

Json mysql(const char* spec, const char* apiVersion = "kubedb.com/v1") {
  return {{"apiVersion", apiVersion}, {"kind", "MySQL"},
          {"metadata", {{"name", "my"}, {"namespace", "demo"}, {"uid", "u"}, {"generation", 2}}},
          {"spec", Json::parse(spec)}};
}

std::vector<std::string> fields(const FieldErrors& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.field);
  return out;
}

// Every validation problem of a TLS MySQL with this one certificate entry, a line each.
std::string problemsWithEntry(const char* entry) {
  auto my = parseMySQL(mysql((std::string(R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
      "certificates": [)") + entry + "]}}").c_str()));
  REQUIRE(my);
  setDefaults(*my);
  std::string all;
  for (const auto& e : validate(*my)) all += e.field + ": " + e.message + "\n";
  return all;
}

TEST_CASE("parse: a full spec, v1 and v1alpha2", "[api][mysql]") {
  auto my = parseMySQL(mysql(R"({"version": "8.0.35", "replicas": 1, "storageType": "Durable",
      "storage": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
      "authSecret": {"name": "mine"}, "requireSSL": true, "deletionPolicy": "WipeOut",
      "tls": {"issuerRef": {"apiGroup": "cert-manager.io", "kind": "Issuer", "name": "ca"},
              "certificates": [{"alias": "server", "subject": {"organizations": ["kubedb:server"]},
                                "dnsNames": ["localhost"], "ipAddresses": ["127.0.0.1"], "duration": "2160h",
                                "privateKey": {"encoding": "PKCS8"}}]},
      "monitor": {"agent": "prometheus.io/builtin"}})"));
  REQUIRE(my);
  CHECK(my->name == "my");
  CHECK(my->generation == 2);
  CHECK(my->authSecretName == "mine");
  CHECK(my->requireSSL);
  CHECK(my->deletionPolicy == DeletionPolicy::kWipeOut);
  REQUIRE(my->tls);
  CHECK(my->tls->issuerRef->name == "ca");
  CHECK(my->tls->certificates[0].subject->organizations == std::vector<std::string>{"kubedb:server"});
  CHECK(my->tls->certificates[0].privateKeyEncoding == "PKCS8");
  CHECK(my->monitor.has_value());
  CHECK(validate(*my).empty());

  auto old = parseMySQL(mysql(R"({"version": "8.0.35", "storageType": "Ephemeral", "terminationPolicy": "Halt"})",
                              "kubedb.com/v1alpha2"));
  REQUIRE(old);
  CHECK(old->deletionPolicy == DeletionPolicy::kHalt);  // a synonym
  CHECK(specToJson(*old)["terminationPolicy"] == "Halt");
}

TEST_CASE("parse: every malformed field is named", "[api][mysql]") {
  auto bad = parseMySQL(mysql(R"({"version": 8, "replicas": "one", "requireSSL": "yes",
      "tls": {"issuerRef": {"kind": 1}, "certificates": [{"alias": "server", "dnsNames": "x"}, 7]},
      "topology": {"mode": "GroupReplication", "semiSync": {}}, "frobnicate": true,
      "deletionPolicy": "Delete", "terminationPolicy": "WipeOut"})"));
  REQUIRE_FALSE(bad);
  auto f = fields(bad.error());
  for (const char* want : {"spec.version", "spec.replicas", "spec.requireSSL", "spec.tls.issuerRef.kind",
                           "spec.tls.certificates[0].dnsNames", "spec.tls.certificates[1]", "spec.topology.semiSync",
                           "spec.frobnicate", "spec.terminationPolicy"}) {
    INFO(want);
    CHECK_THAT(f, Catch::VectorContains(std::string(want)));
  }
  for (const auto& e : bad.error()) {
    if (e.field == "spec.topology.semiSync") CHECK_THAT(e.message, Catch::Contains("only mode GroupReplication"));
    if (e.field == "spec.version") CHECK(e.message == "Invalid value: 8: must be a string");
  }
  CHECK_FALSE(parseMySQL(Json::parse(R"({"metadata": {"name": "x"}})")));
}

TEST_CASE("parse: a Group Replication topology, defaulted as KubeDB's mutator does", "[api][mysql]") {
  auto my = parseMySQL(mysql(R"({"version": "9.7.4", "storageType": "Ephemeral", "topology": {"mode": "GroupReplication"},
      "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"}}})"));
  REQUIRE(my);
  REQUIRE(my->isGroup());
  CHECK(setDefaults(*my));
  CHECK(my->replicas == 3);
  CHECK(my->topology->groupMode == "Single-Primary");
  CHECK(my->topology->groupName.empty());  // random: the community operator records one
  my->topology->groupName = "DC002FC3-c412-4d18-b1d4-66c1fbfbbc9b";
  const Json spec = specToJson(*my);
  CHECK(spec["topology"] == Json::parse(R"({"mode": "GroupReplication", "group": {"name": "DC002FC3-c412-4d18-b1d4-66c1fbfbbc9b",
                                            "mode": "Single-Primary"}})"));
  CHECK(validate(*my).empty());
  CHECK(isUuid("dc002fc3-c412-4d18-b1d4-66c1fbfbbc9b"));
  CHECK_FALSE(isUuid("dc002fc3c4124d18b1d466c1fbfbbc9b"));
  CHECK_FALSE(isUuid("dc002fc3-c412-4d18-b1d4-66c1fbfbbc9g"));
}

TEST_CASE("parse: KubeDB's externallyManaged auth Secret, healthChecker and init script", "[api][mysql]") {
  auto my = parseMySQL(mysql(R"({"version": "9.7.4", "storageType": "Ephemeral",
      "authSecret": {"name": "mine", "externallyManaged": true},
      "healthChecker": {"periodSeconds": 20, "timeoutSeconds": 5, "failureThreshold": 3, "disableWriteCheck": true},
      "init": {"script": {"configMap": {"name": "my-init"}}, "initialized": true}})"));
  REQUIRE(my);
  CHECK(my->authSecretExternallyManaged);
  REQUIRE(my->healthChecker);
  CHECK(*my->healthChecker == HealthCheckerSpec{20, 5, 3, true});
  REQUIRE(my->initScript);
  CHECK(my->initScript->configMap == "my-init");
  CHECK(my->initialized);
  setDefaults(*my);
  CHECK(validate(*my).empty());
  // Written back as read (the operator records spec.authSecret.name; nothing else is lost).
  const Json back = specToJson(*my);
  CHECK(back["authSecret"] == Json{{"name", "mine"}, {"externallyManaged", true}});
  CHECK(back["healthChecker"] == Json{{"periodSeconds", 20}, {"timeoutSeconds", 5}, {"failureThreshold", 3}, {"disableWriteCheck", true}});
  CHECK(back["init"] == Json{{"script", {{"configMap", {{"name", "my-init"}}}}}, {"initialized", true}});
  // A restore is refused by name; so is a script source the operator does not mount.
  auto restore = parseMySQL(mysql(R"({"version": "9.7.4", "storageType": "Ephemeral",
      "init": {"waitForInitialRestore": true, "snapshot": {"name": "s"}, "script": {"scriptPath": "x", "gitRepo": {}}}})"));
  REQUIRE_FALSE(restore);
  auto f = fields(restore.error());
  for (const char* want : {"spec.init.waitForInitialRestore", "spec.init.snapshot", "spec.init.script.scriptPath", "spec.init.script.gitRepo"}) {
    INFO(want);
    CHECK_THAT(f, Catch::VectorContains(std::string(want)));
  }
  CHECK_THAT(restore.error()[0].message, Catch::Contains("not supported; use init.script"));
}

TEST_CASE("deletion policy: read once from either synonym, unknown or disagreeing values named", "[api][mysql]") {
  auto read = [](const char* spec) { return readDeletionPolicy(Json::parse(spec)); };
  CHECK(*read("{}") == std::nullopt);
  CHECK(*read(R"({"deletionPolicy": "WipeOut"})") == DeletionPolicy::kWipeOut);
  CHECK(*read(R"({"terminationPolicy": "Halt"})") == DeletionPolicy::kHalt);
  CHECK(*read(R"({"deletionPolicy": "Halt", "terminationPolicy": "Halt"})") == DeletionPolicy::kHalt);
  auto unknown = read(R"({"deletionPolicy": "Keep"})");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().at(0).toString() ==
        "spec.deletionPolicy: Unsupported value: \"Keep\": supported values: \"Delete\", \"DoNotTerminate\", \"Halt\", \"WipeOut\"");
  auto conflict = read(R"({"deletionPolicy": "Delete", "terminationPolicy": "WipeOut"})");
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().at(0).field == "spec.terminationPolicy");
  CHECK_THAT(conflict.error().at(0).message, Catch::Contains("conflicts with spec.deletionPolicy"));
  CHECK_FALSE(parseMySQL(mysql(R"({"version": "8", "storageType": "Ephemeral", "deletionPolicy": "Keep"})")));
  for (auto p : {DeletionPolicy::kDelete, DeletionPolicy::kWipeOut, DeletionPolicy::kHalt, DeletionPolicy::kDoNotTerminate}) {
    CHECK(parseDeletionPolicy(toString(p)) == p);
  }
}

TEST_CASE("defaulting: TLS aliases and secret names only with an issuer, never over the user", "[api][mysql]") {
  auto my = parseMySQL(mysql(R"({"version": "8.0.35", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
      "certificates": [{"alias": "client", "secretName": "my-own-client"}, {"alias": "server"}]}})"));
  REQUIRE(my);
  CHECK(setDefaults(*my));
  CHECK(my->replicas == 1);
  CHECK(my->storageType == "Durable");
  CHECK(my->deletionPolicy == DeletionPolicy::kDelete);
  REQUIRE(my->tls->certificates.size() == 3);
  CHECK(my->tls->certificates[0].secretName == "my-own-client");  // kept
  CHECK(my->tls->certificates[1].secretName == "my-server-cert");
  CHECK(my->tls->certificates[2].alias == "metrics-exporter");
  CHECK(my->tls->certificates[2].secretName == "my-metrics-exporter-cert");
  CHECK(my->certSecretName("client") == "my-own-client");
  CHECK_FALSE(setDefaults(*my));  // idempotent

  auto noIssuer = parseMySQL(mysql(R"({"version": "8.0.35", "tls": {}})"));
  REQUIRE(noIssuer);
  setDefaults(*noIssuer);
  CHECK(noIssuer->tls->certificates.empty());
}

TEST_CASE("validation: names whose derived names would be invalid are refused, naming the limit", "[api][mysql]") {
  auto check = [](const std::string& name, const std::string& ns, bool tls) {
    Json obj = mysql(tls ? R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"}}})"
                         : R"({"version": "8", "storageType": "Ephemeral"})");
    obj["metadata"]["name"] = name;
    obj["metadata"]["namespace"] = ns;
    auto my = parseMySQL(obj);
    REQUIRE(my);
    setDefaults(*my);
    std::string msg;
    for (const auto& e : validate(*my)) {
      if (e.field == "metadata.name") msg = e.message;
    }
    return msg;
  };
  CHECK(check(std::string(52, 'a'), "demo", false).empty());
  CHECK_THAT(check(std::string(53, 'a'), "demo", false), Catch::Contains("no more than 52 characters"));
  CHECK_THAT(check("1db", "demo", false), Catch::Contains("must start with a letter") && Catch::Contains("1db-pods"));
  CHECK(check(std::string(47, 'a'), "demo", true).empty());  // aaa…-metrics-exporter: 64 bytes
  CHECK_THAT(check(std::string(48, 'a'), "demo", true), Catch::Contains("more than X.509's 64"));
  // <name>.<namespace>.svc: a long namespace counts too.
  CHECK_THAT(check("db", std::string(60, 'n'), true), Catch::Contains("db." + std::string(60, 'n') + ".svc"));
  CHECK(check("db", std::string(60, 'n'), false).empty());
}

TEST_CASE("validation: certificate durations cert-manager would refuse", "[api][mysql]") {
  auto fieldsOf = problemsWithEntry;
  CHECK(fieldsOf(R"({"alias": "server", "duration": "1h", "renewBefore": "5m"})") == "");
  CHECK_THAT(fieldsOf(R"({"alias": "server", "duration": "-2160h"})"), Catch::Contains("duration: Invalid value: \"-2160h\": must be positive"));
  CHECK_THAT(fieldsOf(R"({"alias": "server", "duration": "59m"})"), Catch::Contains("cert-manager needs at least 1h"));
  CHECK_THAT(fieldsOf(R"({"alias": "server", "renewBefore": "4m"})"), Catch::Contains("renewBefore: Invalid value: \"4m\": cert-manager needs at least 5m"));
  CHECK_THAT(fieldsOf(R"({"alias": "server", "renewBefore": "-1h"})"), Catch::Contains("must be positive"));
  CHECK_THAT(fieldsOf(R"({"alias": "server", "duration": "1.2.3h"})"), Catch::Contains("duration: Invalid value: \"1.2.3h\": not a duration"));
}

TEST_CASE("validation: names a certificate would carry are checked for their syntax", "[api][mysql]") {
  auto problems = problemsWithEntry;
  CHECK(problems(R"({"alias": "server", "dnsNames": ["db.example.com", "*.db-pods.demo.svc", "localhost"],
      "uris": ["spiffe://cluster.local/ns/demo/sa/my"], "emailAddresses": ["dba@example.com"]})") == "");
  const std::string bad = problems(R"({"alias": "server", "dnsNames": ["ok.example", "Bad.Example", "a..b", "-x.y", "sp ace", "a.*.b"],
      "uris": ["no-scheme", "http://x y", "1http://x"], "emailAddresses": ["nobody", "a@b@c", "@example.com", "x@bad_domain"]})");
  for (const char* f : {"dnsNames[1]", "dnsNames[2]", "dnsNames[3]", "dnsNames[4]", "dnsNames[5]", "uris[0]", "uris[1]", "uris[2]",
                        "emailAddresses[0]", "emailAddresses[1]", "emailAddresses[2]", "emailAddresses[3]"}) {
    INFO(f);
    CHECK_THAT(bad, Catch::Contains(std::string("spec.tls.certificates[0].") + f + ": Invalid value"));
  }
  CHECK_THAT(bad, !Catch::Contains("dnsNames[0]"));
}

TEST_CASE("validation: KubeDB's checks and the ones it lacks", "[api][mysql]") {
  struct Row { const char* spec; const char* field; const char* needle; };
  const Row rows[] = {
      {R"({"storageType": "Ephemeral"})", "spec.version", "Required value"},
      {R"({"version": "8", "storageType": "Ephemeral", "replicas": 3})", "spec.replicas", "standalone server has 1 replica"},
      {R"({"version": "8", "storageType": "Ephemeral", "replicas": 1, "topology": {"mode": "GroupReplication"}})", "spec.replicas",
       "a group has 2 to 9 members"},
      {R"({"version": "8", "storageType": "Ephemeral", "replicas": 10, "topology": {"mode": "GroupReplication"}})", "spec.replicas",
       "a group has 2 to 9 members"},
      {R"({"version": "8", "storageType": "Ephemeral", "topology": {"mode": "InnoDBCluster"}})", "spec.topology.mode",
       "Unsupported value: \"InnoDBCluster\""},
      {R"({"version": "8", "storageType": "Ephemeral", "topology": {}})", "spec.topology.mode", "Required value"},
      {R"({"version": "8", "storageType": "Ephemeral", "topology": {"mode": "GroupReplication", "group": {"name": "my-group"}}})",
       "spec.topology.group.name", "must be a UUID"},
      {R"({"version": "8", "storageType": "Ephemeral", "topology": {"mode": "GroupReplication", "group": {"mode": "Multi-Primary"}}})",
       "spec.topology.group.mode", "Unsupported value: \"Multi-Primary\""},
      {R"({"version": "8", "storageType": "Ephemeral", "topology": {"mode": "GroupReplication"}})", "spec.tls",
       "verify each other's certificates"},
      {R"({"version": "8", "storageType": "Tape"})", "spec.storageType", "Unsupported value"},
      {R"({"version": "8"})", "spec.storage", "Durable database needs a storage"},
      {R"({"version": "8", "storageType": "Ephemeral", "deletionPolicy": "Halt"})", "spec.deletionPolicy", "Ephemeral"},
      {R"({"version": "8", "storageType": "Ephemeral", "requireSSL": true})", "spec.requireSSL", "needs spec.tls"},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {}})", "spec.tls.issuerRef", "Required value"},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Vault", "name": "v"}}})",
       "spec.tls.issuerRef.kind", "Unsupported value: \"Vault\""},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
          "certificates": [{"alias": "router"}]}})", "spec.tls.certificates[0].alias", "Unsupported value: \"router\""},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
          "certificates": [{"alias": "server"}, {"alias": "server"}]}})", "spec.tls.certificates[1].alias", "Duplicate value"},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
          "certificates": [{"alias": "server", "ipAddresses": ["127.0.0.1", "10.0.0.300"]}]}})",
       "spec.tls.certificates[0].ipAddresses[1]", "valid IP"},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
          "certificates": [{"alias": "server", "duration": "90 days"}]}})", "spec.tls.certificates[0].duration", "unknown unit"},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
          "certificates": [{"alias": "server", "duration": "1h", "renewBefore": "2h"}]}})",
       "spec.tls.certificates[0].renewBefore", "shorter than the duration"},
      {R"({"version": "8", "storageType": "Ephemeral", "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"},
          "certificates": [{"alias": "server", "privateKey": {"encoding": "PEM"}}]}})",
       "spec.tls.certificates[0].privateKey.encoding", "Unsupported value"},
      {R"({"version": "8", "storageType": "Ephemeral", "podTemplate": {"spec": {"env": [{"name": "MYSQL_ROOT_PASSWORD", "value": "x"}]}}})",
       "spec.podTemplate.spec.env[0].name", "Forbidden"},
      {R"({"version": "8", "storageType": "Ephemeral", "podTemplate": {"spec": {"containers": [{"name": "mysql",
          "env": [{"name": "TZ", "value": "UTC"}, {"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "1"}]}]}}})",
       "spec.podTemplate.spec.containers[0].env[1].name", "Forbidden"},
      {R"({"version": "8", "storageType": "Ephemeral", "halted": true, "deletionPolicy": "DoNotTerminate"})",
       "spec.halted", "set it to Halt first"},
      {R"({"version": "8", "storageType": "Ephemeral", "authSecret": {"externallyManaged": true}})", "spec.authSecret.name",
       "you make the Secret, so name it"},
      {R"({"version": "8", "storageType": "Ephemeral", "healthChecker": {"periodSeconds": -5}})", "spec.healthChecker.periodSeconds",
       "between 1 and 86400"},
      {R"({"version": "8", "storageType": "Ephemeral", "init": {"script": {}}})", "spec.init.script", "configMap.name or secret.secretName"},
      {R"({"version": "8", "storageType": "Ephemeral", "init": {"script": {"configMap": {"name": "a"}, "secret": {"secretName": "b"}}}})",
       "spec.init.script", "name one of them"},
  };
  for (const auto& r : rows) {
    INFO(r.spec);
    auto my = parseMySQL(mysql(r.spec));
    REQUIRE(my);
    setDefaults(*my);
    auto errs = validate(*my);
    bool found = false;
    for (const auto& e : errs) {
      if (e.field == r.field && e.message.find(r.needle) != std::string::npos) found = true;
    }
    INFO(errs.size() << " errors: " << (errs.empty() ? "" : errs[0].toString()));
    CHECK(found);
  }
}

}  // namespace
}  // namespace mysqlop::api
