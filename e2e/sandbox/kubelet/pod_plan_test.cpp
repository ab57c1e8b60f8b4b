// The plan for the community operator's own pod contract (the golden StatefulSet with TLS,
// requireSSL and monitor) — what the pod runner will execute on the sandbox.
#include "e2e/sandbox/kubelet/pod_plan.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "e2e/sandbox/kubelet/container_runner.h"
#include "e2e/sandbox/kubelet/workloads.h"

#ifndef GOLDEN_STS
#error "GOLDEN_STS must name the community operator's golden objects"
#endif

namespace mysqlop::sandbox::kubelet {
namespace {

Json goldenStatefulSet() {
  std::ifstream in(GOLDEN_STS);
  std::stringstream ss;
  ss << in.rdbuf();
  Json sts = Json::parse(ss.str())["statefulSet"];
  sts["metadata"]["uid"] = "sts-uid";
  return sts;
}

Lookups lookups() {
  Lookups l;
  l.data = [](const std::string& kind, const std::string& ns, const std::string& name)
      -> std::optional<std::map<std::string, std::string>> {
    if (kind != "Secret" || ns != "prod") return std::nullopt;
    if (name == "secure-auth") return std::map<std::string, std::string>{{"username", "root"}, {"password", "pw"}};
    if (name == "secure-tls-custom" || name == "secure-client-cert" || name == "secure-metrics-exporter-cert") {
      return std::map<std::string, std::string>{{"ca.crt", "CA"}, {"tls.crt", name + " CRT"}, {"tls.key", name + " KEY"}};
    }
    if (name == "secure-metrics-exporter-config") return std::map<std::string, std::string>{{"exporter.cnf", "[client]"}};
    if (name == "secure-ca-bundle") return std::map<std::string, std::string>{{"ca.crt", "OLD CA NEW CA"}};
    return std::nullopt;
  };
  // The image store: the database image with an entrypoint and cmd, as the official one; the
  // exporter's with its program as entrypoint and a user of its own.
  l.image = [](const std::string& ref) -> core::Result<Image> {
    auto name = normalizeImageRef(ref);
    if (!name) return name.error();
    Image img;
    img.ref = *name;
    img.rootfs = "/images/" + *name;
    img.env = {{"PATH", "/usr/local/sbin:/usr/bin:/bin"}, {"MYSQL_ROOT_USERNAME", "image-default"}};
    if (name->rfind("docker.io/library/mysql:", 0) == 0) {
      img.id = "aaaa";
      img.entrypoint = {"docker-entrypoint.sh"};
      img.cmd = {"mysqld"};
      return img;
    }
    if (*name == "docker.io/prom/mysqld-exporter:v0.15.1") {
      img.id = "bbbb";
      img.entrypoint = {"/bin/mysqld_exporter"};
      img.user = "nobody";
      return img;
    }
    return core::notFound("failed to pull and unpack image " + *name);
  };
  l.serviceAccountToken = "TOKEN";
  l.caPem = "APISERVER CA";
  l.podIP = "10.77.0.11";
  return l;
}

const Volume* volume(const PodPlan& p, const std::string& name) {
  for (const auto& v : p.volumes) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

std::string file(const Volume& v, const std::string& path) {
  for (const auto& f : v.files) {
    if (f.path == path) return f.content;
  }
  return "<absent>";
}

}  // namespace

TEST_CASE("pod plan: the community operator's TLS pod on the sandbox", "[kubelet][pod-plan]") {
  Json pod = statefulSetPod(goldenStatefulSet(), 0, "secure-rev");
  pod["metadata"]["uid"] = "pod-uid";
  auto plan = planPod(pod, lookups());
  REQUIRE(plan);
  CHECK(plan->name == "secure-0");
  CHECK(plan->ns == "prod");
  CHECK(plan->hostname == "secure-0");
  CHECK(plan->subdomain == "secure-pods");

  // tls-volume: the trust bundle's CAs, the server Secret's cert/key and the client pair, under
  // the operator's names.
  const Volume* tls = volume(*plan, "tls-volume");
  REQUIRE(tls);
  CHECK(file(*tls, "ca.crt") == "OLD CA NEW CA");
  CHECK(file(*tls, "server.crt") == "secure-tls-custom CRT");
  CHECK(file(*tls, "server.key") == "secure-tls-custom KEY");
  CHECK(file(*tls, "client.crt") == "secure-client-cert CRT");
  const Volume* exp = volume(*plan, "exporter-tls-volume");
  REQUIRE(exp);
  CHECK(file(*exp, "exporter.cnf") == "[client]");
  CHECK(file(*exp, "ca.crt") == "OLD CA NEW CA");
  CHECK(file(*exp, "exporter.key") == "secure-metrics-exporter-cert KEY");
  CHECK(volume(*plan, "tmp")->kind == Volume::kEmptyDir);
  const Volume* sa = volume(*plan, "kube-api-access");
  REQUIRE(sa);
  CHECK(file(*sa, "namespace") == "prod");
  CHECK(file(*sa, "token") == "TOKEN");

  REQUIRE(plan->containers.size() == 2);
  const ContainerPlan& mysql = plan->containers[0];
  // The container gives args only: the image's entrypoint runs them (its cmd is replaced).
  CHECK(mysql.rootfs == "/images/docker.io/library/mysql:8.4.2");
  CHECK(mysql.imageId == "sha256:aaaa");
  CHECK(mysql.pullError.empty());
  CHECK(mysql.argv.front() == "docker-entrypoint.sh");
  CHECK(std::find(mysql.argv.begin(), mysql.argv.end(), "mysqld") == mysql.argv.end());
  CHECK(std::find(mysql.argv.begin(), mysql.argv.end(), "--require-secure-transport=ON") != mysql.argv.end());
  CHECK(std::find(mysql.argv.begin(), mysql.argv.end(), "--ssl-ca=/etc/mysql/certs/ca.crt") != mysql.argv.end());
  // The image's environment, under the container's.
  CHECK(mysql.env == std::vector<std::pair<std::string, std::string>>{
                         {"PATH", "/usr/local/sbin:/usr/bin:/bin"}, {"MYSQL_ROOT_USERNAME", "root"}, {"MYSQL_ROOT_PASSWORD", "pw"}});
  bool certs = false;
  for (const auto& m : mysql.mounts) certs |= m.volume == "tls-volume" && m.mountPath == "/etc/mysql/certs";
  CHECK(certs);
  CHECK(mysql.readinessProbe.contains("exec"));
  const ContainerPlan& exporter = plan->containers[1];
  // A shell notes the TLS files' generation, then execs mysqld_exporter: the container's
  // command replaces the image's entrypoint; the image's user (a name) is looked up at start.
  CHECK(exporter.argv.front() == "/bin/sh");
  CHECK(exporter.argv.back() == "--config.my-cnf=/etc/mysql/certs/exporter.cnf");
  CHECK(exporter.imageId == "sha256:bbbb");
  CHECK(exporter.security.imageUser == "nobody");
  CHECK_FALSE(exporter.security.runAsUser);
  CHECK(exporter.livenessProbe.is_null());  // the shell restarts it inside the container
}

TEST_CASE("pod plan: a claim's volume is that claim's, and a pod waits for its claim", "[kubelet][pod-plan]") {
  Json pod = statefulSetPod(goldenStatefulSet(), 0, "r");
  pod["spec"]["volumes"].push_back({{"name", "claimed"}, {"persistentVolumeClaim", {{"claimName", "data-secure-0"}}}});
  Lookups l = lookups();
  std::map<std::string, std::string> claims;  // "<ns>/<name>" → uid, as the cache holds live claims
  l.claim = [&claims](const std::string& ns, const std::string& name) -> std::optional<std::string> {
    auto it = claims.find(ns + "/" + name);
    if (it == claims.end()) return std::nullopt;
    return it->second;
  };
  auto waiting = planPod(pod, l);
  REQUIRE_FALSE(waiting);
  CHECK(waiting.error().message == "persistentvolumeclaim \"data-secure-0\" not found");
  claims["prod/data-secure-0"] = "uid-1";
  auto first = planPod(pod, l);
  REQUIRE(first);
  REQUIRE(volume(*first, "claimed"));
  CHECK(volume(*first, "claimed")->claimUid == "uid-1");
  // The same name made again (a WipeOut, then the MySQL applied again) is another volume.
  claims["prod/data-secure-0"] = "uid-2";
  auto again = planPod(pod, l);
  REQUIRE(again);
  CHECK(claimDir("/n", "prod", "data-secure-0", volume(*again, "claimed")->claimUid) !=
        claimDir("/n", "prod", "data-secure-0", volume(*first, "claimed")->claimUid));
}

TEST_CASE("pod plan: missing Secrets, unknown images and $(VAR) expansion", "[kubelet][pod-plan]") {
  Json pod = statefulSetPod(goldenStatefulSet(), 0, "r");
  Lookups l = lookups();
  auto base = l.data;
  l.data = [base](const std::string& kind, const std::string& ns, const std::string& name) {
    return name == "secure-client-cert" ? std::nullopt : base(kind, ns, name);
  };
  auto missing = planPod(pod, l);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "spec.volumes[2].projected.sources[2]: Secret prod/secure-client-cert does not exist");
  // An image the store lacks does not fail the pod: that container waits for it, saying why.
  pod["spec"]["containers"][1]["image"] = "prom/mysqld-exporter:v9";
  auto unknown = planPod(pod, lookups());
  REQUIRE(unknown);
  CHECK(unknown->containers[0].pullError.empty());
  CHECK(unknown->containers[1].pullError == "failed to pull and unpack image docker.io/prom/mysqld-exporter:v9");
  CHECK(unknown->containers[1].argv.empty());
  CHECK(unknown->containers[1].imageId.empty());

  CHECK(expandVars("--user=$(USER) $(NOPE) $$(USER)", {{"USER", "root"}}) == "--user=root $(NOPE) $(USER)");
}

TEST_CASE("pod plan: the security context, pod-wide and per container, and runAsNonRoot checked", "[kubelet][pod-plan]") {
  Json pod = {{"metadata", {{"name", "op-1"}, {"namespace", "ops"}, {"uid", "u1"}}},
              {"spec",
               {{"automountServiceAccountToken", false},
                {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 65534}, {"runAsGroup", 65534}}},
                {"containers",
                 Json::array({{{"name", "main"},
                               {"image", "mysql:8.4.3"},
                               {"securityContext",
                                {{"runAsUser", 1001},
                                 {"readOnlyRootFilesystem", true},
                                 {"allowPrivilegeEscalation", false},
                                 {"capabilities", {{"drop", Json::array({"ALL"})}}}}}},
                              {{"name", "side"}, {"image", "mysql:8.4.3"}}})}}}};
  auto plan = planPod(pod, lookups());
  REQUIRE(plan);
  const Security& main = plan->containers[0].security;
  CHECK(main.runAsUser == 1001);  // the container's word wins
  CHECK(main.runAsGroup == 65534);
  CHECK(main.readOnlyRootFilesystem);
  CHECK(main.noNewPrivileges);
  CHECK(main.dropAllCapabilities);
  const Security& side = plan->containers[1].security;
  CHECK(side.runAsUser == 65534);
  CHECK_FALSE(side.readOnlyRootFilesystem);
  CHECK_FALSE(side.noNewPrivileges);
  CHECK_FALSE(side.dropAllCapabilities);

  // runAsNonRoot with no user, or user 0, cannot run: the image's user is root.
  pod["spec"]["securityContext"].erase("runAsUser");
  pod["spec"]["containers"][0]["securityContext"].erase("runAsUser");
  auto root = planPod(pod, lookups());
  REQUIRE_FALSE(root);
  CHECK(root.error().message == "container has runAsNonRoot and image will run as root (pod: \"op-1_ops(u1)\", container: main)");
  pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0;
  CHECK_FALSE(planPod(pod, lookups()));
  // An image user by name cannot be checked, as a kubelet says; a numeric one can.
  pod["spec"]["containers"][0]["securityContext"].erase("runAsUser");
  pod["spec"]["containers"][0]["image"] = pod["spec"]["containers"][1]["image"] = "prom/mysqld-exporter:v0.15.1";
  auto named = planPod(pod, lookups());
  REQUIRE_FALSE(named);
  CHECK(named.error().message ==
        "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: \"op-1_ops(u1)\", container: main)");
}

TEST_CASE("pod plan: command and args over the image's entrypoint and cmd", "[kubelet][pod-plan]") {
  Json pod = {{"metadata", {{"name", "c"}, {"namespace", "ns"}, {"uid", "u"}}},
              {"spec", {{"automountServiceAccountToken", false},
                        {"containers", Json::array({{{"name", "a"}, {"image", "mysql:9.7.4"}},
                                                    {{"name", "b"}, {"image", "mysql:9.7.4"}, {"command", Json::array({"sleep"})}},
                                                    {{"name", "c"}, {"image", "mysql:9.7.4"}, {"command", Json::array({"sh", "-c"})},
                                                     {"args", Json::array({"echo $(X)"})}, {"env", Json::array({{{"name", "X"}, {"value", "1"}}})}},
                                                    {{"name", "d"}, {"image", "mysql:9.7.4"}, {"args", Json::array({"--port=1"})},
                                                     {"workingDir", "/w"}}})}}}};
  auto plan = planPod(pod, lookups());
  REQUIRE(plan);
  CHECK(plan->containers[0].argv == std::vector<std::string>{"docker-entrypoint.sh", "mysqld"});
  CHECK(plan->containers[1].argv == std::vector<std::string>{"sleep"});  // the cmd goes with the entrypoint
  CHECK(plan->containers[2].argv == std::vector<std::string>{"sh", "-c", "echo 1"});
  CHECK(plan->containers[3].argv == std::vector<std::string>{"docker-entrypoint.sh", "--port=1"});
  CHECK(plan->containers[3].workingDir == "/w");
  CHECK(plan->containers[0].imageRef == "docker.io/library/mysql:9.7.4");
}

}  // namespace mysqlop::sandbox::kubelet
