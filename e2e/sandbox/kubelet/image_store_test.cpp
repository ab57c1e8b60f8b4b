// Image references as containerd names them, image configurations, and the store on disk.
#include "e2e/sandbox/kubelet/image_store.h"
#include "e2e/sandbox/kubelet/container_runner.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mysqlop::sandbox::kubelet {
namespace {

TEST_CASE("image store: references are normalised as containerd names them", "[kubelet][images]") {
  CHECK(*normalizeImageRef("mysql:9.7.4") == "docker.io/library/mysql:9.7.4");
  CHECK(*normalizeImageRef("mysql") == "docker.io/library/mysql:latest");
  CHECK(*normalizeImageRef("prom/mysqld-exporter:v0.15.1") == "docker.io/prom/mysqld-exporter:v0.15.1");
  CHECK(*normalizeImageRef("docker.io/mysqlop/community-operator:0.1.0") == "docker.io/mysqlop/community-operator:0.1.0");
  CHECK(*normalizeImageRef("localhost:5000/a/b") == "localhost:5000/a/b:latest");
  CHECK(*normalizeImageRef("registry.example.com/mysqlop/x:1") == "registry.example.com/mysqlop/x:1");
  CHECK(*normalizeImageRef("mysql@sha256:abcd") == "docker.io/library/mysql@sha256:abcd");
  for (const char* bad : {"", "mysql:", "My SQL", "a//b", "x/"}) {
    auto r = normalizeImageRef(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("invalid reference format") != std::string::npos);
  }
}

TEST_CASE("image store: an OCI configuration gives entrypoint, cmd, env, user and working directory", "[kubelet][images]") {
  auto img = parseImageConfig(nlohmann::json::parse(R"({"architecture":"amd64","config":{
      "Entrypoint":["/usr/local/bin/community-operator"],"Cmd":null,"Env":["PATH=/usr/bin:/bin","A=b=c"],
      "User":"65534:65534","WorkingDir":"/w"}})"));
  REQUIRE(img);
  CHECK(img->entrypoint == std::vector<std::string>{"/usr/local/bin/community-operator"});
  CHECK(img->cmd.empty());
  CHECK(img->env == std::vector<std::pair<std::string, std::string>>{{"PATH", "/usr/bin:/bin"}, {"A", "b=c"}});
  CHECK(img->user == "65534:65534");
  CHECK(img->workingDir == "/w");
  // podman's inspect output says "Config".
  CHECK(parseImageConfig(nlohmann::json::parse(R"({"Config":{"Cmd":["mysqld"]}})"))->cmd == std::vector<std::string>{"mysqld"});
  CHECK_FALSE(parseImageConfig(nlohmann::json::parse(R"({"config":{"Env":["NOEQUALS"]}})")));
}

TEST_CASE("image store: find reads the index and the image afresh, a missing image is a failed pull", "[kubelet][images]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("image-store-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "0123abcd" / "rootfs");
  std::ofstream(dir / "0123abcd" / "config.json") << R"({"config":{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["mysqld"]}})";
  ImageStore store(dir.string());
  auto missing = store.find("mysql:9.7.4");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == core::ErrorCode::kNotFound);
  CHECK(missing.error().message.find("failed to pull and unpack image \"docker.io/library/mysql:9.7.4\"") != std::string::npos);
  std::ofstream(dir / "index.json") << R"({"docker.io/library/mysql:9.7.4":"0123abcd","docker.io/library/evil:1":"../x"})";
  auto found = store.find("mysql:9.7.4");
  REQUIRE(found);
  CHECK(found->id == "0123abcd");
  CHECK(found->rootfs == (dir / "0123abcd" / "rootfs").string());
  CHECK(found->cmd == std::vector<std::string>{"mysqld"});
  CHECK_FALSE(store.find("evil:1"));  // an index entry never leads out of the store
  CHECK(store.names().size() == 2);
  fs::remove_all(dir);
}

TEST_CASE("image store: mount paths follow the image's links inside the image, never out of it", "[kubelet][images]") {
  namespace fs = std::filesystem;
  const fs::path img = fs::temp_directory_path() / ("image-links-test-" + std::to_string(::getpid()));
  fs::remove_all(img);
  fs::create_directories(img / "run");
  fs::create_directories(img / "etc");
  fs::create_directory_symlink("/run", img / "var-run");          // absolute: from the image's root
  fs::create_directory_symlink("../../../../..", img / "etc/up");  // climbs: stops at the root
  fs::create_directory_symlink("loop", img / "loop");
  CHECK(*resolveInImage(img.string(), "/var-run/secrets/kubernetes.io") == "/run/secrets/kubernetes.io");
  CHECK(*resolveInImage(img.string(), "/etc/up/etc/passwd") == "/etc/passwd");
  CHECK(*resolveInImage(img.string(), "/a/../../b/./c") == "/b/c");
  CHECK(*resolveInImage(img.string(), "/") == "/");
  CHECK_FALSE(resolveInImage(img.string(), "relative/x"));
  CHECK_FALSE(resolveInImage(img.string(), "/loop/x"));
  fs::remove_all(img);
}

}  // namespace
}  // namespace mysqlop::sandbox::kubelet
