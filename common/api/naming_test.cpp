#include "common/api/naming.h"

#include <catch2/catch.hpp>

namespace mysqlop::api {
namespace {

TEST_CASE("names follow KubeDB's contract", "[api][naming]") {
  CHECK(authSecretName("my") == "my-auth");
  CHECK(primaryServiceName("my") == "my");
  CHECK(governingServiceName("my") == "my-pods");
  CHECK(statsServiceName("my") == "my-stats");
  CHECK(statefulSetName("my") == "my");
  CHECK(certificateName("my", kAliasExporter) == "my-metrics-exporter-cert");
  CHECK(defaultCertSecretName("my", kAliasServer) == "my-server-cert");
  CHECK(exporterConfigSecretName("my") == "my-metrics-exporter-config");
  CHECK(serviceHost("my", "demo") == "my.demo.svc");
  CHECK(podHost("my", "demo", 0) == "my-0.my-pods.demo.svc");
  CHECK(tlsAliases() == std::vector<std::string>{"server", "client", "metrics-exporter"});
}

TEST_CASE("labels: three select, four mark every generated object", "[api][naming]") {
  auto sel = selectorLabels("my");
  CHECK(sel == std::map<std::string, std::string>{{"app.kubernetes.io/instance", "my"},
                                                  {"app.kubernetes.io/managed-by", "kubedb.com"},
                                                  {"app.kubernetes.io/name", "mysqls.kubedb.com"}});
  auto all = offshootLabels("my");
  CHECK(all.size() == 4);
  CHECK(all.at("app.kubernetes.io/component") == "database");
}

TEST_CASE("mysqld TLS flags: requireSSL toggles exactly one flag", "[api][naming]") {
  auto off = mysqldTlsArgs(false);
  auto on = mysqldTlsArgs(true);
  CHECK(off == std::vector<std::string>{"--ssl-capath=/etc/mysql/certs", "--ssl-ca=/etc/mysql/certs/ca.crt",
                                        "--ssl-cert=/etc/mysql/certs/server.crt",
                                        "--ssl-key=/etc/mysql/certs/server.key"});
  REQUIRE(on.size() == off.size() + 1);
  CHECK(std::equal(off.begin(), off.end(), on.begin()));
  CHECK(on.back() == "--require-secure-transport=ON");
  CHECK(exporterArgs() == std::vector<std::string>{"--web.listen-address=:56790", "--web.telemetry-path=/metrics",
                                                   "--config.my-cnf=/etc/mysql/certs/exporter.cnf"});
}

}  // namespace
}  // namespace mysqlop::api
