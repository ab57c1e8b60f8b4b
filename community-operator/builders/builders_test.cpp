// Golden tests of the pure builders: each input MySQL's generated objects must equal the
// checked-in JSON. MYSQLOP_UPDATE_GOLDEN=1 rewrites the golden files (review the diff!).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/api/mysql.h"
#include "community-operator/builders/rbac_builder.h"
#include "community-operator/builders/secret_builder.h"
#include "community-operator/builders/service_builder.h"
#include "community-operator/builders/statefulset_builder.h"

#ifndef BUILDERS_TESTDATA
#error "BUILDERS_TESTDATA must name the testdata directory"
#endif

namespace mysqlop::community {
namespace {

namespace fs = std::filesystem;

Json readJson(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

Json build(const Json& input) {
  auto my = api::parseMySQL(input);
  REQUIRE(my);
  api::setDefaults(*my);
  REQUIRE(api::validate(*my).empty());
  Json out = {{"primaryService", buildPrimaryService(*my)},
              {"governingService", buildGoverningService(*my)},
              {"serviceAccount", buildServiceAccount(*my)},
              {"role", buildRole(*my)},
              {"roleBinding", buildRoleBinding(*my)},
              {"statefulSet", buildStatefulSet(*my, {"mysql:" + my->version, "prom/mysqld-exporter:v0.15.1"})}};
  if (my->monitor) out["statsService"] = buildStatsService(*my);
  // A user-named auth Secret is the user's: the operator builds none.
  if (my->authSecretName.empty()) out["authSecret"] = buildAuthSecret(*my, "golden-password");
  return out;
}

TEST_CASE("builders produce the golden objects", "[community][builders]") {
  fs::path dir(BUILDERS_TESTDATA);
  bool update = std::getenv("MYSQLOP_UPDATE_GOLDEN") != nullptr;
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir / "inputs")) {
    if (entry.path().extension() != ".json") continue;
    ++cases;
    std::string name = entry.path().stem().string();
    INFO(name);
    Json got = build(readJson(entry.path()));
    fs::path golden = dir / (name + ".golden.json");
    if (update) std::ofstream(golden) << got.dump(2) << "\n";
    REQUIRE(fs::exists(golden));
    Json want = readJson(golden);
    if (got != want) {
      FAIL("generated objects differ from " << golden.string() << ":\n" << Json::diff(want, got).dump(2));
    }
  }
  CHECK(cases >= 4);
}

TEST_CASE("statefulset: requireSSL toggles exactly one flag, TLS adds the projected volumes",
          "[community][builders]") {
  auto base = readJson(fs::path(BUILDERS_TESTDATA) / "inputs" / "tls.json");
  auto build1 = [](Json in) {
    auto my = api::parseMySQL(in);
    REQUIRE(my);
    api::setDefaults(*my);
    return buildStatefulSet(*my, {"mysql:8.0.35", "exporter"});
  };
  Json off = build1(base);
  base["spec"]["requireSSL"] = true;
  Json on = build1(base);
  auto patch = Json::diff(off, on);
  REQUIRE(patch.size() == 1);
  CHECK(patch[0]["op"] == "add");
  CHECK(patch[0]["value"] == "--require-secure-transport=ON");
  const Json& vols = off["spec"]["template"]["spec"]["volumes"];
  CHECK(vols[2]["name"] == "tls-volume");
  // ca.crt is the trust bundle's in both volumes (the CAs of a rotation, old and new).
  CHECK(vols[2]["projected"]["sources"][0]["secret"]["name"] == "my-ca-bundle");
  CHECK(vols[2]["projected"]["sources"][1]["secret"]["name"] == "my-server-cert");
  CHECK(vols[3]["projected"]["sources"][0]["secret"]["name"] == "my-ca-bundle");
  CHECK(vols[3]["projected"]["sources"][2]["secret"]["name"] == "my-metrics-exporter-config");
  base["spec"].erase("tls");
  base["spec"].erase("requireSSL");
  // The readiness probe keeps the password off every command line.
  const std::string probe = off["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"].dump();
  CHECK(probe.find("--password") == std::string::npos);
  CHECK(probe.find(" -p") == std::string::npos);
  CHECK(probe.find("MYSQL_PWD=") != std::string::npos);
  Json plain = build1(base);
  CHECK(plain["spec"]["template"]["spec"]["containers"][0]["args"].empty());
  CHECK(plain["spec"]["template"]["spec"]["volumes"].size() == 2);  // tmp and an emptyDir for data
}

TEST_CASE("builders: labels, owners and the auth Secret", "[community][builders]") {
  auto my = api::parseMySQL(readJson(fs::path(BUILDERS_TESTDATA) / "inputs" / "plain.json"));
  REQUIRE(my);
  api::setDefaults(*my);
  Json secret = buildAuthSecret(*my, "s3cr3t");
  CHECK_FALSE(secret["metadata"].contains("ownerReferences"));  // survives per deletion policy
  CHECK(secret["data"]["username"] == "cm9vdA==");
  CHECK(secret["type"] == "kubernetes.io/basic-auth");
  for (const Json& obj : {buildPrimaryService(*my), buildGoverningService(*my), buildServiceAccount(*my),
                          buildRole(*my), buildRoleBinding(*my)}) {
    INFO(obj["kind"]);
    CHECK(obj["metadata"]["labels"].size() == 4);
    REQUIRE(obj["metadata"]["ownerReferences"].size() == 1);
    const Json& ref = obj["metadata"]["ownerReferences"][0];
    CHECK(ref["controller"] == true);
    CHECK(ref["blockOwnerDeletion"] == true);
    CHECK(ref["uid"] == my->uid);
  }
  CHECK(buildGoverningService(*my)["spec"]["clusterIP"] == "None");
  CHECK(buildGoverningService(*my)["spec"]["publishNotReadyAddresses"] == true);
}

}  // namespace
}  // namespace mysqlop::community
