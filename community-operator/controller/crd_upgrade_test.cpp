// Which CRDs the community operator brings up to its chart's after `helm upgrade`, and which it
// leaves alone (issue 20).
#include "community-operator/controller/crd_upgrade.h"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <fmt/format.h>
#include <unistd.h>

namespace mysqlop::community {
namespace {

using Json = nlohmann::json;

Json crd(const std::vector<std::string>& fields, const std::string& chartVersion = "") {
  Json props = Json::object();
  for (const auto& f : fields) props[f] = {{"type", "string"}};
  Json c = {{"apiVersion", "apiextensions.k8s.io/v1"},
            {"kind", "CustomResourceDefinition"},
            {"metadata", {{"name", "mysqls.kubedb.com"}, {"labels", {{"app.kubernetes.io/name", "mysqlop"}}}}},
            {"spec",
             {{"group", "kubedb.com"},
              {"versions", Json::array({{{"name", "v1"}, {"served", true}, {"storage", true},
                                         {"schema", {{"openAPIV3Schema", {{"type", "object"},
                                                                          {"properties", {{"spec", {{"type", "object"}, {"properties", props}}}}}}}}}}})}}}};
  if (!chartVersion.empty()) c["metadata"]["annotations"][std::string(kCrdChartVersionAnnotation)] = chartVersion;
  return c;
}

TEST_CASE("versions compare as semantic versions", "[community][crds]") {
  CHECK(compareVersions("0.1.0", "0.2.0") == -1);
  CHECK(compareVersions("0.10.0", "0.9.3") == 1);   // numbers, not text
  CHECK(compareVersions("1.2", "1.2.0") == 0);
  CHECK(compareVersions("v1.2.3", "1.2.3+build.7") == 0);
  CHECK(compareVersions("1.0.0-rc.1", "1.0.0") == -1);  // a pre-release comes before its release
  CHECK(compareVersions("1.0.0-rc.2", "1.0.0-rc.10") == -1);
  CHECK(compareVersions("1.0.0-alpha", "1.0.0-alpha.1") == -1);
  CHECK(compareVersions("1.0.0-1", "1.0.0-alpha") == -1);  // numeric identifiers first
  CHECK_FALSE(compareVersions("latest", "1.0.0").has_value());
  CHECK_FALSE(compareVersions("1.x.0", "1.0.0").has_value());
}

TEST_CASE("a CRD that already has what the chart's has is left alone", "[community][crds]") {
  // What the API server adds (defaults, status) is no difference; neither are numbers as 1 and 1.0.
  Json served = crd({"version", "tls"});
  served["spec"]["conversion"] = {{"strategy", "None"}};
  served["status"] = {{"storedVersions", {"v1"}}};
  CHECK(decideCrd(served, crd({"version", "tls"}), "0.1.0").step == CrdStep::kNone);
  CHECK(covers(Json::parse(R"({"minimum": 1.0})"), Json::parse(R"({"minimum": 1})")));
  // A newer chart's CRD holds this chart's fields and more: nothing to do either.
  CHECK(decideCrd(crd({"version", "tls", "newField"}, "0.3.0"), crd({"version", "tls"}), "0.2.0").step == CrdStep::kNone);
}

TEST_CASE("a CRD from an older chart, or from a chart's crds/, is brought up to this chart's", "[community][crds]") {
  auto fromCrdsDir = decideCrd(crd({"version"}), crd({"version", "newField"}), "0.2.0");
  CHECK(fromCrdsDir.step == CrdStep::kUpdate);
  CHECK_THAT(fromCrdsDir.why, Catch::Contains("crds/"));
  auto older = decideCrd(crd({"version"}, "0.1.0"), crd({"version", "newField"}), "0.2.0");
  CHECK(older.step == CrdStep::kUpdate);
  CHECK_THAT(older.why, Catch::Contains("0.1.0") && Catch::Contains("0.2.0"));
  // The same chart version with another schema (a rebuilt chart): this one is what runs.
  CHECK(decideCrd(crd({"version"}, "0.2.0"), crd({"version", "newField"}), "0.2.0").step == CrdStep::kUpdate);
}

TEST_CASE("KubeDB's own CRD (the same name, not installed by mysqlop) is never touched", "[community][crds]") {
  Json kubedb = crd({"version"});
  kubedb["metadata"]["labels"] = {{"app.kubernetes.io/name", "kubedb"}};
  auto d = decideCrd(kubedb, crd({"version", "tls"}), "0.2.0");
  CHECK(d.step == CrdStep::kNotOurs);
  CHECK_THAT(d.why, Catch::Contains("mysqls.kubedb.com was not installed by mysqlop") && Catch::Contains("\"kubedb\"") &&
                        Catch::Contains("must not run side by side"));
  // Not even when it happens to hold every field of ours.
  CHECK(decideCrd(kubedb, crd({"version"}), "0.2.0").step == CrdStep::kNotOurs);
  kubedb["metadata"].erase("labels");
  CHECK(decideCrd(kubedb, crd({"version", "tls"}), "0.2.0").step == CrdStep::kNotOurs);
  // One this operator updated before carries its annotation: ours, whatever its labels.
  Json updated = crd({"version"}, "0.1.0");
  updated["metadata"].erase("labels");
  CHECK(decideCrd(updated, crd({"version", "tls"}), "0.2.0").step == CrdStep::kUpdate);
}

TEST_CASE("a CRD from a newer chart is kept: a rollback prunes no field", "[community][crds]") {
  // The newer chart renamed a field: the older one's schema is not covered, yet it is not applied.
  auto d = decideCrd(crd({"version", "renamed"}, "0.3.0"), crd({"version", "old"}), "0.2.0");
  CHECK(d.step == CrdStep::kKeepNewer);
  CHECK_THAT(d.why, Catch::Contains("0.3.0"));
}

TEST_CASE("the CRDs of a mounted ConfigMap are read, the kubelet's own entries skipped", "[community][crds]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("crds-test-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir / "..2026_12_06_14_00_00.1");
  auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
  write(dir / "chartVersion", "0.2.0\n");
  write(dir / "mysqls.kubedb.com.json", crd({"version"}).dump());
  write(dir / "..2026_12_06_14_00_00.1" / "x.json", "not json");
  auto got = readShippedCrds(dir.string());
  REQUIRE(got);
  CHECK(got->chartVersion == "0.2.0");
  REQUIRE(got->crds.size() == 1);
  CHECK(got->crds[0]["metadata"]["name"] == "mysqls.kubedb.com");
  write(dir / "broken.json", R"({"kind": "ConfigMap"})");
  auto bad = readShippedCrds(dir.string());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("broken.json"));
  fs::remove(dir / "broken.json");
  // Only mysqlop's three CRDs, and never with a conversion webhook.
  Json webhook = crd({"version"});
  webhook["spec"]["conversion"] = {{"strategy", "Webhook"}, {"webhook", {{"clientConfig", {{"url", "https://evil.example/convert"}}}}}};
  write(dir / "mysqls.kubedb.com.json", webhook.dump());
  bad = readShippedCrds(dir.string());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("conversion other than None") && Catch::Contains("Webhook"));
  Json other = crd({"version"});
  other["metadata"]["name"] = "secrets.example.com";
  write(dir / "mysqls.kubedb.com.json", other.dump());
  bad = readShippedCrds(dir.string());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("secrets.example.com, not one of mysqlop's"));
  Json none = crd({"version"});
  none["spec"]["conversion"] = {{"strategy", "None"}};
  write(dir / "mysqls.kubedb.com.json", none.dump());
  REQUIRE(readShippedCrds(dir.string()));
  write(dir / "chartVersion", "latest");
  REQUIRE_FALSE(readShippedCrds(dir.string()));
  fs::remove_all(dir);
}

TEST_CASE("a CRD upgrade that fails keeps the replica not ready, and is tried again until it goes through", "[community][crds]") {
  std::atomic<int> calls{0};
  std::atomic<bool> failing{true};
  CrdUpgradeLoop loop(
      [&]() -> core::Result<int> {
        ++calls;
        if (failing) return core::unavailable("mysqls.kubedb.com: Forbidden: update");
        return 3;
      },
      "0.2.0", std::chrono::milliseconds(10), core::Logger::root());
  loop.start();
  REQUIRE(loop.notReady());
  CHECK_THAT(*loop.notReady(), Catch::StartsWith("the CRDs are not yet this chart's (0.2.0): mysqls.kubedb.com: Forbidden: update"));
  for (int i = 0; i < 2000 && calls < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK(calls >= 3);  // tried again
  CHECK(loop.notReady());
  failing = false;
  for (int i = 0; i < 2000 && loop.notReady(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK_FALSE(loop.notReady());
  const int after = calls;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(calls == after);  // done: no more attempts
  // One that goes through at once is ready at once, with no thread behind it.
  CrdUpgradeLoop ok([] { return core::Result<int>(0); }, "0.2.0", std::chrono::milliseconds(10), core::Logger::root());
  ok.start();
  CHECK_FALSE(ok.notReady());
}

}  // namespace
}  // namespace mysqlop::community
