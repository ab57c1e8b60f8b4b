#include "enterprise-operator/builders/builders.h"

#include <catch2/catch.hpp>

#include "common/kube/base64.h"

namespace mysqlop::enterprise {
namespace {

api::MySQL mysql(const std::string& spec) {
  Json obj = {{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"},
              {"metadata", {{"name", "my"}, {"namespace", "demo"}, {"uid", "u-1"}}}, {"spec", Json::parse(spec)}};
  auto my = api::parseMySQL(obj);
  REQUIRE(my);
  api::setDefaults(*my);
  REQUIRE(api::validate(*my).empty());
  return *my;
}

}  // namespace

TEST_CASE("enterprise: the three Certificates with docs/design.md §5's defaults", "[enterprise][builders]") {
  auto my = mysql(R"({"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,
                      "tls":{"issuerRef":{"apiGroup":"cert-manager.io","kind":"Issuer","name":"mysql-ca"}}})");
  Json server = buildCertificate(my, "server");
  CHECK(server["apiVersion"] == "cert-manager.io/v1");
  CHECK(server["metadata"]["name"] == "my-server-cert");
  CHECK(server["metadata"]["namespace"] == "demo");
  CHECK(server["metadata"]["labels"]["app.kubernetes.io/instance"] == "my");
  CHECK(server["metadata"]["ownerReferences"][0]["uid"] == "u-1");
  CHECK(server["metadata"]["ownerReferences"][0]["controller"] == true);
  const Json& s = server["spec"];
  CHECK(s["secretName"] == "my-server-cert");
  CHECK(s["issuerRef"] == Json{{"name", "mysql-ca"}, {"kind", "Issuer"}, {"group", "cert-manager.io"}});
  CHECK(s["commonName"] == "my.demo.svc");
  CHECK(s["dnsNames"] == Json::array({"my", "my.demo.svc", "my.demo.svc.cluster.local", "*.my-pods.demo.svc",
                                      "*.my-pods.demo.svc.cluster.local", "localhost"}));
  CHECK(s["ipAddresses"] == Json::array({"127.0.0.1"}));
  CHECK(s["usages"] == Json::array({"digital signature", "key encipherment", "server auth", "client auth"}));
  CHECK(s["secretTemplate"]["labels"] == server["metadata"]["labels"]);
  CHECK_FALSE(s.contains("privateKey"));

  Json client = buildCertificate(my, "client")["spec"];
  CHECK(client["commonName"] == "root");
  CHECK(client["usages"] == Json::array({"digital signature", "key encipherment", "client auth"}));
  CHECK_FALSE(client.contains("dnsNames"));
  Json exporter = buildCertificate(my, "metrics-exporter");
  CHECK(exporter["metadata"]["name"] == "my-metrics-exporter-cert");
  CHECK(exporter["spec"]["commonName"] == "my-metrics-exporter");
  CHECK(exporter["spec"]["secretName"] == "my-metrics-exporter-cert");
}

TEST_CASE("enterprise: the user's entry wins over the defaults, lists are unioned", "[enterprise][builders]") {
  auto my = mysql(R"({"version":"8.4.3","storageType":"Ephemeral",
    "tls":{"issuerRef":{"kind":"ClusterIssuer","name":"corp"},"certificates":[
      {"alias":"server","secretName":"my-tls","dnsNames":["db.example.com","my"],"ipAddresses":["10.0.0.5"],
       "subject":{"organizations":["Acme"],"countries":["DE"]},"duration":"720h","renewBefore":"24h",
       "privateKey":{"encoding":"PKCS8"},"emailAddresses":["dba@example.com"]}]}})");
  Json s = buildCertificate(my, "server")["spec"];
  CHECK(s["secretName"] == "my-tls");
  CHECK(s["issuerRef"]["kind"] == "ClusterIssuer");
  CHECK(s["dnsNames"].size() == 7);  // six defaults + one new ("my" is already there)
  CHECK(s["dnsNames"].back() == "db.example.com");
  CHECK(s["ipAddresses"] == Json::array({"127.0.0.1", "10.0.0.5"}));
  CHECK(s["emailAddresses"] == Json::array({"dba@example.com"}));
  CHECK(s["subject"] == Json{{"organizations", {"Acme"}}, {"countries", {"DE"}}});
  CHECK(s["duration"] == "720h");
  CHECK(s["renewBefore"] == "24h");
  CHECK(s["privateKey"] == Json{{"encoding", "PKCS8"}});
  // Other aliases keep their defaults.
  CHECK(buildCertificate(my, "client")["spec"]["secretName"] == "my-client-cert");
}

TEST_CASE("enterprise: exporter.cnf points the exporter at mysqld over TLS", "[enterprise][builders]") {
  auto my = mysql(R"({"version":"8.4.3","storageType":"Ephemeral","tls":{"issuerRef":{"kind":"Issuer","name":"ca"}}})");
  CHECK(*exporterConfig("root", "s3cret") ==
        "[client]\nuser=root\npassword=s3cret\nhost=127.0.0.1\nport=3306\nssl-ca=/etc/mysql/certs/ca.crt\n"
        "ssl-cert=/etc/mysql/certs/exporter.crt\nssl-key=/etc/mysql/certs/exporter.key\n");
  Json secret = *buildExporterConfigSecret(my, "root", "s3cret");
  CHECK(secret["metadata"]["name"] == "my-metrics-exporter-config");
  CHECK(secret["metadata"]["ownerReferences"][0]["kind"] == "MySQL");
  CHECK(*kube::base64Decode(secret["data"]["exporter.cnf"].get<std::string>()) == *exporterConfig("root", "s3cret"));
}

TEST_CASE("enterprise: exporter.cnf carries any password the way go-ini reads it back", "[enterprise][builders]") {
  auto passwordLine = [](const std::string& pw) {
    auto cnf = exporterConfig("root", pw);
    REQUIRE(cnf);
    const auto at = cnf->find("\npassword=") + 10;
    return cnf->substr(at, cnf->find("\nhost=") - at);
  };
  // Comment characters, quotes and outer spaces: backquoted, taken as written.
  CHECK(passwordLine("p#ss;w\"o'rd") == "`p#ss;w\"o'rd`");
  CHECK(passwordLine(" padded ") == "` padded `");
  // A line break: triple double quotes, which may span lines.
  CHECK(passwordLine("line1\nline2`") == "\"\"\"line1\nline2`\"\"\"");
  // What neither can carry is refused, saying why.
  auto bad = exporterConfig("root", "a`b\nc\"");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("password") && Catch::Contains("cannot carry"));
}

}  // namespace mysqlop::enterprise
