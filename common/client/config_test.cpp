#include "common/client/config.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/kube/base64.h"
#include "common/testing/test_pki.h"

namespace mysqlop::client {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mysqlop-config-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    auto p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }
};

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars](std::string_view k) -> std::optional<std::string> {
    auto it = vars.find(std::string(k));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const testing::TestPki& pki() {
  static testing::TestPki p;
  return p;
}

std::string kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& extraContexts = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
         "clusters:\n- name: sandbox\n  cluster:\n" + cluster +
         "users:\n- name: admin\n  user:\n" + user +
         "contexts:\n- name: dev\n  context:\n    cluster: sandbox\n    user: admin\n"
         "    namespace: demo\n" + extraContexts;
}

TEST_CASE("kubeconfig with -data fields and a token", "[client][config]") {
  std::string ca = kube::base64Encode(pki().ca().certPem);
  auto cfg = parseKubeconfig(kubeconfig("    server: https://127.0.0.1:6443\n"
                                        "    certificate-authority-data: " + ca + "\n",
                                        "    token: abc.def\n"),
                             "/tmp/kc");
  REQUIRE(cfg);
  CHECK(cfg->server == "https://127.0.0.1:6443");
  CHECK(cfg->caPem == pki().ca().certPem);
  CHECK(cfg->token == "abc.def");
  CHECK(cfg->clientCertPem.empty());
  CHECK(cfg->namespace_ == "demo");
  CHECK(cfg->source == "kubeconfig /tmp/kc (context dev)");
}

TEST_CASE("kubeconfig with file paths (relative to the file) and a client certificate",
          "[client][config]") {
  TempDir dir;
  auto client = pki().issue({.commonName = "admin", .organizations = {"system:masters"},
                             .clientAuth = true});
  dir.write("pki/ca.crt", pki().ca().certPem);
  dir.write("pki/admin.crt", client.certPem);
  dir.write("pki/admin.key", client.keyPem);
  auto path = dir.write("config", kubeconfig("    server: https://localhost:6443\n"
                                             "    certificate-authority: pki/ca.crt\n",
                                             "    client-certificate: pki/admin.crt\n"
                                             "    client-key: " + (dir.path / "pki/admin.key").string() + "\n"));
  auto cfg = loadKubeconfig(path);
  REQUIRE(cfg);
  CHECK(cfg->caPem == pki().ca().certPem);
  CHECK(cfg->clientCertPem == client.certPem);
  CHECK(cfg->clientKeyPem == client.keyPem);
  CHECK(cfg->token.empty());
}

TEST_CASE("kubeconfig contexts: current-context or a named one", "[client][config]") {
  std::string text = kubeconfig("    server: https://a:1\n", "    token: t\n",
                                "- name: other\n  context:\n    cluster: sandbox\n    user: admin\n");
  CHECK(parseKubeconfig(text, "kc")->namespace_ == "demo");
  auto other = parseKubeconfig(text, "kc", "other");
  REQUIRE(other);
  CHECK(other->namespace_.empty());
  auto missing = parseKubeconfig(text, "kc", "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "kubeconfig kc: contexts: no entry named \"nope\"");
}

TEST_CASE("broken kubeconfigs fail naming the file and the field", "[client][config]") {
  TempDir dir;
  auto client = pki().issue({.commonName = "admin", .clientAuth = true});
  struct Row { std::string text; std::string message; };
  const Row rows[] = {
      {"a: [", "kubeconfig /k: not valid YAML"},
      {"- 1\n", "kubeconfig /k: not a kubeconfig"},
      {kubeconfig("    certificate-authority-data: eA==\n", ""),
       "kubeconfig /k: cluster \"sandbox\".server: missing"},
      {kubeconfig("    server: ftp://x\n", ""),
       "kubeconfig /k: cluster \"sandbox\".server: \"ftp://x\" is not an http(s) URL"},
      {kubeconfig("    server: https://x\n    certificate-authority-data: '***'\n", ""),
       "kubeconfig /k: cluster \"sandbox\".certificate-authority-data: is not valid base64"},
      {kubeconfig("    server: https://x\n    certificate-authority: /nonexistent/ca.crt\n", ""),
       "kubeconfig /k: cluster \"sandbox\".certificate-authority: cannot read /nonexistent/ca.crt: No such file or directory"},
      {kubeconfig("    server: https://x\n    certificate-authority-data: " + kube::base64Encode("hello") + "\n", ""),
       "kubeconfig /k: cluster \"sandbox\".certificate-authority: does not hold a PEM certificate"},
      {kubeconfig("    server: https://x\n",
                  "    client-certificate-data: " + kube::base64Encode(client.certPem) + "\n"),
       "kubeconfig /k: user \"admin\".client-key: missing"},
      {kubeconfig("    server: https://x\n",
                  "    client-certificate-data: " + kube::base64Encode(client.certPem) + "\n"
                  "    client-key-data: " + kube::base64Encode(client.certPem) + "\n"),
       "kubeconfig /k: user \"admin\".client-key: does not hold a PEM private key"},
      {kubeconfig("    server: https://x\n", "    exec:\n      command: aws\n"),
       "kubeconfig /k: user \"admin\".exec: is not supported"},
      {kubeconfig("    server: https://x\n", "    tokenFile: /nonexistent/token\n"),
       "kubeconfig /k: user \"admin\".tokenFile: /nonexistent/token does not exist"},
      {"apiVersion: v1\nclusters: []\n", "kubeconfig /k: current-context: not set"},
      {"current-context: dev\ncontexts:\n- name: dev\n  context:\n    user: admin\n",
       "kubeconfig /k: context \"dev\".cluster: missing"},
      {"current-context: dev\ncontexts:\n- name: dev\n  context:\n    cluster: gone\n",
       "kubeconfig /k: clusters: no entry named \"gone\""},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto cfg = parseKubeconfig(r.text, "/k");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().code == core::ErrorCode::kInvalid);
    CHECK_THAT(cfg.error().message, Catch::StartsWith(r.message));
  }
  auto missingFile = loadKubeconfig((dir.path / "absent").string());
  REQUIRE_FALSE(missingFile);
  CHECK_THAT(missingFile.error().message, Catch::Contains((dir.path / "absent").string()));
  CHECK_THAT(missingFile.error().message, Catch::Contains("No such file"));
}

TEST_CASE("in-cluster config from the service-account mount", "[client][config]") {
  TempDir dir;
  dir.write("token", "tok-1\n");
  dir.write("ca.crt", pki().ca().certPem);
  dir.write("namespace", "mysqlop-system");
  auto cfg = inClusterConfig(envOf({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                    {"KUBERNETES_SERVICE_PORT", "443"}}),
                             dir.path.string());
  REQUIRE(cfg);
  CHECK(cfg->server == "https://10.96.0.1:443");
  CHECK(cfg->tokenFile == (dir.path / "token").string());
  CHECK(cfg->caPem == pki().ca().certPem);
  CHECK(cfg->namespace_ == "mysqlop-system");

  auto v6 = inClusterConfig(envOf({{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                                   {"KUBERNETES_SERVICE_PORT", "6443"}}),
                            dir.path.string());
  REQUIRE(v6);
  CHECK(v6->server == "https://[fd00::1]:6443");

  auto noEnv = inClusterConfig(envOf({}), dir.path.string());
  REQUIRE_FALSE(noEnv);
  CHECK_THAT(noEnv.error().message, Catch::Contains("KUBERNETES_SERVICE_HOST"));
  auto noToken = inClusterConfig(envOf({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}}),
                                 (dir.path / "nowhere").string());
  REQUIRE_FALSE(noToken);
  CHECK_THAT(noToken.error().message, Catch::Contains("token does not exist"));
}

TEST_CASE("config lookup order: flag, $KUBECONFIG, ~/.kube/config, in-cluster", "[client][config]") {
  TempDir dir;
  auto a = dir.write("a", kubeconfig("    server: https://a:1\n", "    token: a\n"));
  auto b = dir.write("b", kubeconfig("    server: https://b:1\n", "    token: b\n"));
  dir.write("home/.kube/config", kubeconfig("    server: https://home:1\n", "    token: h\n"));
  dir.write("sa/token", "t");
  dir.write("sa/ca.crt", pki().ca().certPem);
  std::string home = (dir.path / "home").string();
  std::string sa = (dir.path / "sa").string();
  std::string missing = (dir.path / "missing").string();

  CHECK(loadConfig(a, "", envOf({{"KUBECONFIG", b}, {"HOME", home}}), sa)->server == "https://a:1");
  CHECK(loadConfig("", "", envOf({{"KUBECONFIG", missing + ":" + b}, {"HOME", home}}), sa)->server ==
        "https://b:1");
  CHECK(loadConfig("", "", envOf({{"HOME", home}}), sa)->server == "https://home:1");
  auto inCluster = loadConfig("", "", envOf({{"HOME", missing},
                                             {"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                             {"KUBERNETES_SERVICE_PORT", "443"}}), sa);
  REQUIRE(inCluster);
  CHECK(inCluster->server == "https://10.0.0.1:443");
  // An explicit flag that points nowhere is an error, not a silent fallback.
  auto bad = loadConfig(missing, "", envOf({{"HOME", home}}), sa);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains(missing));
}

}  // namespace
}  // namespace mysqlop::client
