// Containers on the sandbox node, for real: run inside private network and mount namespaces
// (ctest starts this binary under `unshare --mount --net`), needs root. The image here is the
// machine's own root filesystem (a fixture: the overlay's lower layer, never written), so the
// test needs no image build. A container sees its volumes at their mount paths, its environment
// and only that, the sandbox's /etc/hosts, the pod's hostname and address; its writes to the
// root go to its own layer, new at each start; SIGTERM stops it within the grace period; the
// host is untouched.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <sstream>

#include "e2e/sandbox/kubelet/container_runner.h"
#include "e2e/sandbox/kubelet/node_network.h"

namespace mysqlop::sandbox::kubelet {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Node {
  fs::path dir = fs::temp_directory_path() / ("kubelet-node-" + std::to_string(::getpid()));
  NodeNetwork net{{.bridge = "sbxc0", .cidr = "10.98.0.0/24"}};
  Node() {
    REQUIRE(std::getenv("MYSQLOP_IN_PRIVATE_NS") != nullptr);  // never on the machine's own network
    REQUIRE(std::system("mount -t tmpfs node-run /run && ip link set lo up") == 0);
    fs::create_directories(dir);
    REQUIRE(net.up());
    std::ofstream(dir / "hosts") << "127.0.0.1 localhost\n10.98.0.2 my.demo.svc my\n";
  }
  ~Node() {
    (void)net.down();
    fs::remove_all(dir);
  }
};

PodPlan plan(const std::vector<std::string>& argv) {
  PodPlan p;
  p.ns = "demo";
  p.name = "my-0";
  p.uid = "0123456789abcdef";
  p.hostname = "my-0";
  p.volumes = {{Volume::kFiles, "tls-volume", {{"ca.crt", "THE CA\n", 0644}, {"server.key", "KEY\n", 0600}}, ""},
               {Volume::kEmptyDir, "tmp", {}, ""},
               {Volume::kClaim, "data", {}, "data-my-0", "claim-uid-1"}};
  ContainerPlan c;
  c.name = "mysql";
  c.argv = argv;
  c.rootfs = "/";
  c.env = {{"MYSQL_ROOT_PASSWORD", "s3cr3t"}};
  c.mounts = {{"tls-volume", "/etc/mysql/certs", true}, {"tmp", "/tmp", false}, {"data", "/var/lib/mysql", false}};
  p.containers = {c};
  p.terminationGracePeriodSeconds = 2;
  return p;
}

struct Exit {
  int status = 0;
  std::string output;
};

ContainerEnv env(const Node& node, const PodPlan& p, const std::string& hostsFile, const std::string& log) {
  const char* enter = std::getenv("SANDBOX_ENTER");
  REQUIRE(enter != nullptr);
  const fs::path resolv = node.dir / "resolv.conf";
  std::ofstream(resolv) << kResolvConf;
  return {.netns = node.net.namespaceName(p.uid), .hostsFile = hostsFile, .resolvFile = resolv.string(), .logFile = log,
          .containerDir = containerDir(node.dir.string(), p.uid, p.containers[0].name), .enterProgram = enter};
}

// Runs the plan's first container in the node's pod namespace until it exits.
Exit runToEnd(const Node& node, const PodPlan& p, const std::string& hostsFile = "") {
  auto dirs = materialise(p, node.dir.string());
  REQUIRE(dirs);
  const fs::path log = node.dir / (p.containers[0].name + ".log");
  fs::remove(log);
  auto pid = startContainer(p, p.containers[0], *dirs, env(node, p, hostsFile, log.string()));
  REQUIRE(pid);
  Exit e;
  waitpid(*pid, &e.status, 0);
  e.output = slurp(log);
  return e;
}

}  // namespace

TEST_CASE("a container sees its volumes, environment, hosts, hostname and address", "[kubelet][runner]") {
  Node node;
  auto ip = node.net.addPod("0123456789abcdef");
  REQUIRE(ip);
  PodPlan p = plan({"/bin/sh", "-c",
                    "cat /etc/mysql/certs/ca.crt; echo \"pw=$MYSQL_ROOT_PASSWORD home=${HOME:-unset}\"; hostname; "
                    "grep my.demo.svc /etc/hosts; ip -4 -o addr show eth0 | awk '{print $4}'; "
                    // The kubelet's resolv.conf: a name nobody has fails at once (no query leaves the pod).
                    "s=$(date +%s%N); getent hosts nosuch.demo.svc || echo no-such-name; "
                    "[ $(( ($(date +%s%N) - s) / 1000000 )) -lt 1500 ] && echo at-once; grep -c '^nameserver 127.0.0.1$' /etc/resolv.conf; "
                    "echo data > /var/lib/mysql/f; touch /etc/mysql/certs/x 2>/dev/null || echo read-only"});
  const Exit e = runToEnd(node, p, (node.dir / "hosts").string());
  INFO(e.output);
  CHECK(WIFEXITED(e.status));
  CHECK(WEXITSTATUS(e.status) == 0);
  CHECK(e.output == "THE CA\npw=s3cr3t home=unset\nmy-0\n10.98.0.2 my.demo.svc my\n" + *ip + "/24\nno-such-name\nat-once\n1\nread-only\n");
  // The claim is a node directory that outlives the pod; the key kept its mode.
  CHECK(slurp(node.dir / "claims" / "demo" / "data-my-0.claim-uid-1" / "f") == "data\n");
  CHECK((fs::status(node.dir / "pods" / p.uid / "volumes" / "tls-volume" / "server.key").permissions() & fs::perms::others_read) ==
        fs::perms::none);
  // Nothing leaked into this namespace: the bind mounts were the container's own.
  CHECK_FALSE(fs::exists("/etc/mysql/certs/ca.crt"));
  REQUIRE(node.net.removePod(p.uid));
}

TEST_CASE("the image is the container's root, its writes stay in a layer of its own, new at each start", "[kubelet][runner]") {
  Node node;
  REQUIRE(node.net.addPod("0123456789abcdef"));
  const std::string mark = "/etc/sbx-layer-" + std::to_string(::getpid());
  PodPlan p = plan({"/bin/sh", "-c", "test -e " + mark + " && echo seen-before; echo written > " + mark + " && cat " + mark +
                                         "; pwd; awk '$5 == \"/\"' /proc/self/mountinfo | wc -l"});
  p.containers[0].workingDir = "/made/here";
  Exit e = runToEnd(node, p);
  INFO(e.output);
  CHECK(WIFEXITED(e.status));
  // One root mount (the overlay; the machine's is detached), the working directory made.
  CHECK(e.output == "written\n/made/here\n1\n");
  CHECK_FALSE(fs::exists(mark));
  CHECK_FALSE(fs::exists("/made"));
  e = runToEnd(node, p);  // a restart: the last run's writes are gone with its layer
  CHECK(e.output == "written\n/made/here\n1\n");
  // A program the image lacks fails as a runtime says it.
  p.containers[0].argv = {"no-such-program"};
  e = runToEnd(node, p);
  CHECK(WEXITSTATUS(e.status) == 127);
  CHECK(e.output.find("exec: \"no-such-program\": executable file not found in $PATH") != std::string::npos);
  REQUIRE(node.net.removePod(p.uid));
}

TEST_CASE("a container runs with its security context: user, group, read-only root, no privileges", "[kubelet][runner]") {
  Node node;
  REQUIRE(node.net.addPod("0123456789abcdef"));
  PodPlan p = plan({"/bin/sh", "-c",
                    "echo \"$(id -u):$(id -g)\"; touch /etc/sbx-probe 2>/dev/null && echo root-writable || echo root-read-only; "
                    "echo x > /tmp/f && echo tmp-writable; grep -E '^(NoNewPrivs|CapBnd|CapEff):' /proc/self/status; "
                    "cat /etc/mysql/certs/ca.crt"});
  p.volumes.push_back({Volume::kEmptyDir, "scratch", {}, ""});
  p.containers[0].mounts = {{"tls-volume", "/etc/mysql/certs", true}, {"scratch", "/tmp", false}};
  p.containers[0].security = {.runAsUser = 65534, .runAsGroup = 65533, .imageUser = "", .readOnlyRootFilesystem = true,
                              .noNewPrivileges = true, .dropAllCapabilities = true};
  const Exit e = runToEnd(node, p);
  INFO(e.output);
  CHECK(WIFEXITED(e.status));
  // The user and group asked for; the root refuses writes while an emptyDir takes them; no new
  // privileges and no capabilities; a 0644 Secret file stays readable.
  CHECK(e.output ==
        "65534:65533\nroot-read-only\ntmp-writable\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
        "NoNewPrivs:\t1\nTHE CA\n");
  CHECK_FALSE(fs::exists("/etc/sbx-probe"));
  REQUIRE(node.net.removePod(p.uid));
}

TEST_CASE("a mount path missing in the image is made in the container's layer only", "[kubelet][runner]") {
  Node node;
  REQUIRE(node.net.addPod("0123456789abcdef"));
  const std::string top = "/etc/sbx-runner-test-" + std::to_string(::getpid());
  REQUIRE_FALSE(fs::exists(top));
  PodPlan p = plan({"/bin/sh", "-c", "cat " + top + "/deep/certs/ca.crt; test -f /etc/passwd && echo etc-intact"});
  p.containers[0].mounts = {{"tls-volume", top + "/deep/certs", true}};
  const Exit e = runToEnd(node, p);
  INFO(e.output);
  CHECK(WIFEXITED(e.status));
  // The container saw the volume at its path and the rest of /etc; the machine got no directory.
  CHECK(e.output == "THE CA\netc-intact\n");
  CHECK_FALSE(fs::exists(top));
  // A mount path that could climb out of the root is refused.
  p.containers[0].mounts = {{"tls-volume", "../../etc/x", true}};
  auto dirs = materialise(p, node.dir.string());
  REQUIRE(dirs);
  auto refused = startContainer(p, p.containers[0], *dirs, env(node, p, "", (node.dir / "x.log").string()));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("is not absolute") != std::string::npos);
  REQUIRE(node.net.removePod(p.uid));
}

TEST_CASE("SIGTERM stops a container, SIGKILL after the grace period", "[kubelet][runner]") {
  Node node;
  REQUIRE(node.net.addPod("0123456789abcdef"));
  PodPlan p = plan({"/bin/sh", "-c", "trap 'echo term; exit 0' TERM; echo ready; while true; do sleep 0.1; done"});
  auto dirs = materialise(p, node.dir.string());
  REQUIRE(dirs);
  const ContainerEnv first = env(node, p, "", (node.dir / "a.log").string());
  // The shell says "ready" once its trap is set: only then does a SIGTERM test the trap.
  auto trapped = [&](const std::string& log) {
    for (int i = 0; i < 500 && slurp(node.dir / log).find("ready") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return slurp(node.dir / log).find("ready") != std::string::npos;
  };
  auto polite = startContainer(p, p.containers[0], *dirs, first);
  REQUIRE(polite);
  REQUIRE(trapped("a.log"));
  int status = stopContainer(*polite, std::chrono::seconds(5));
  CHECK(WIFEXITED(status));
  CHECK(slurp(node.dir / "a.log") == "ready\nterm\n");

  p.containers[0].argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"};
  const ContainerEnv env2 = env(node, p, "", (node.dir / "b.log").string());
  auto stubborn = startContainer(p, p.containers[0], *dirs, env2);
  REQUIRE(stubborn);
  REQUIRE(trapped("b.log"));
  const auto t0 = std::chrono::steady_clock::now();
  status = stopContainer(*stubborn, std::chrono::milliseconds(800));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(800));
}

TEST_CASE("a freed pod address is not handed out again at once", "[kubelet][network]") {
  Node node;
  auto a = node.net.addPod("aaaaaaaaaaaa-1");
  REQUIRE(a);
  CHECK(*a == "10.98.0.2");
  REQUIRE(node.net.removePod("aaaaaaaaaaaa-1"));
  // The next pod gets the next address, not the one just freed: pods that talked to the old pod
  // still map .2 to its MAC address.
  auto b = node.net.addPod("bbbbbbbbbbbb-1");
  REQUIRE(b);
  CHECK(*b == "10.98.0.3");
  auto c = node.net.addPod("cccccccccccc-1");
  REQUIRE(c);
  CHECK(*c == "10.98.0.4");
  auto again = node.net.addPod("bbbbbbbbbbbb-1");  // the same pod keeps its address
  REQUIRE(again);
  CHECK(*again == "10.98.0.3");
}

}  // namespace mysqlop::sandbox::kubelet
