#include "enterprise-operator/controller/ops_steps.h"

#include <catch2/catch.hpp>

#include "common/api/conditions.h"

namespace mysqlop::enterprise::ops {
namespace {

runtime::ObjectPtr ptr(Json j) { return std::make_shared<const Json>(std::move(j)); }

Json request(const char* name, const char* created, const char* db, const char* phase = "") {
  Json r = {{"metadata", {{"name", name}, {"namespace", "demo"}, {"creationTimestamp", created}}},
            {"spec", {{"type", "Restart"}, {"databaseRef", {{"name", db}}}}}};
  if (*phase) r["status"]["phase"] = phase;
  return r;
}

TEST_CASE("ops steps: a request waits for the earliest unfinished one of its database created before it", "[enterprise][ops]") {
  const Json mine = request("c", "2026-12-06T08:00:02Z", "my");
  std::vector<runtime::ObjectPtr> all = {ptr(mine)};
  CHECK_FALSE(waitsFor(mine, all));
  all.push_back(ptr(request("later", "2026-12-06T08:00:05Z", "my")));          // after it
  all.push_back(ptr(request("other-db", "2026-12-06T08:00:00Z", "theirs")));   // another database
  all.push_back(ptr(request("done", "2026-12-06T07:00:00Z", "my", "Successful")));
  all.push_back(ptr(request("failed", "2026-12-06T07:00:01Z", "my", "Failed")));
  CHECK_FALSE(waitsFor(mine, all));
  all.push_back(ptr(request("b", "2026-12-06T08:00:01Z", "my", "Pending")));
  all.push_back(ptr(request("a", "2026-12-06T08:00:01Z", "my", "Progressing")));  // same second: by name
  CHECK(waitsFor(mine, all) == std::optional<std::string>("a"));
  // The same second as the request itself: the name decides, so two never wait for each other.
  const Json twin = request("d", "2026-12-06T08:00:02Z", "my");
  CHECK(waitsFor(twin, {ptr(mine), ptr(twin)}) == std::optional<std::string>("c"));
  CHECK_FALSE(waitsFor(mine, {ptr(mine), ptr(twin)}));
}

Json mysql(int64_t generation, int64_t observed, const char* readyReason = "ReadinessCheckSucceeded") {
  return {{"metadata", {{"name", "my"}, {"namespace", "demo"}, {"uid", "u"}, {"generation", generation}}},
          {"spec", {{"tls", {{"issuerRef", {{"kind", "Issuer"}, {"name", "ca"}}}}}}},
          {"status", {{"observedGeneration", observed},
                      {"conditions", {{{"type", "Ready"}, {"status", "False"}, {"reason", readyReason}},
                                      {{"type", "TLSCertificatesReady"}, {"status", "True"}, {"reason", "CertificatesIssued"},
                                       {"message", "ok"}, {"observedGeneration", observed}}}}}}};
}

TEST_CASE("ops steps: the StatefulSet is staged once the community operator took in the spec", "[enterprise][ops]") {
  Json sts = {{"metadata", {{"generation", 4}}}, {"status", {{"observedGeneration", 4}, {"updateRevision", "my-abc"}}}};
  CHECK_THAT(workloadNotStaged(mysql(5, 4), &sts).value_or(""), Catch::Contains("generation 5"));
  CHECK_THAT(workloadNotStaged(mysql(5, 5, "WaitingForTLSSecrets"), &sts).value_or(""), Catch::Contains("TLS Secrets"));
  CHECK_THAT(workloadNotStaged(mysql(5, 5), nullptr).value_or(""), Catch::Contains("StatefulSet"));
  sts["metadata"]["generation"] = 5;  // written, not yet seen by the StatefulSet controller
  CHECK_THAT(workloadNotStaged(mysql(5, 5), &sts).value_or(""), Catch::Contains("pod template"));
  sts["status"]["observedGeneration"] = 5;
  CHECK_FALSE(workloadNotStaged(mysql(5, 5), &sts));
}

Json certificate(const char* name, int64_t revision, bool ready = true, bool issuing = false) {
  Json c = {{"metadata", {{"name", name}, {"namespace", "demo"}, {"generation", 1},
                          {"ownerReferences", {{{"apiVersion", "kubedb.com/v1"}, {"uid", "u"}, {"controller", true}, {"kind", "MySQL"}, {"name", "my"}}}}}},
            {"status", {{"revision", revision},
                        {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"reason", "Ready"},
                                         {"message", "up to date"}, {"observedGeneration", 1}}}}}}};
  if (issuing) c["status"]["conditions"].push_back({{"type", "Issuing"}, {"status", "True"}, {"reason", "ManuallyTriggered"}});
  return c;
}

TEST_CASE("ops steps: certificates are synced when issued for this generation and past a rotation", "[enterprise][ops]") {
  std::map<std::string, runtime::ObjectPtr> certs = {{"my-server-cert", ptr(certificate("my-server-cert", 2))},
                                                     {"my-client-cert", ptr(certificate("my-client-cert", 2))},
                                                     {"my-metrics-exporter-cert", ptr(certificate("my-metrics-exporter-cert", 2))}};
  CHECK_THAT(certificatesNotSynced(mysql(6, 5), certs, {}).value_or(""), Catch::Contains("generation 6"));
  CHECK_FALSE(certificatesNotSynced(mysql(5, 5), certs, {}));
  CHECK_THAT(certificatesNotSynced(mysql(5, 5), certs, {{"my-client-cert", 2}}).value_or(""),
             Catch::Contains("re-issue Certificate my-client-cert"));
  CHECK_FALSE(certificatesNotSynced(mysql(5, 5), certs, {{"my-client-cert", 1}}));
  certs["my-server-cert"] = ptr(certificate("my-server-cert", 3, true, /*issuing=*/true));
  CHECK_THAT(certificatesNotSynced(mysql(5, 5), certs, {}).value_or(""), Catch::Contains("issue Certificate my-server-cert"));
  certs["my-server-cert"] = ptr(certificate("my-server-cert", 3, /*ready=*/false));
  CHECK_THAT(certificatesNotSynced(mysql(5, 5), certs, {}).value_or(""), Catch::Contains("my-server-cert to be Ready"));
  certs.erase("my-server-cert");
  CHECK_THAT(certificatesNotSynced(mysql(5, 5), certs, {}).value_or(""), Catch::Contains("Certificate my-server-cert"));
  // TLS removed: synced once none of ours is left (someone else's is no concern).
  Json plain = mysql(5, 5);
  plain["spec"].erase("tls");
  CHECK_THAT(certificatesNotSynced(plain, certs, {}).value_or(""), Catch::Contains("removed"));
  Json foreign = certificate("my-client-cert", 1);
  foreign["metadata"]["ownerReferences"][0]["uid"] = "someone-else";
  CHECK_FALSE(certificatesNotSynced(plain, {{"my-client-cert", ptr(foreign)}}, {}));
}

TEST_CASE("ops steps: a rolling restart goes from the top, one Ready pod at a time", "[enterprise][ops]") {
  auto pod = [](const char* name, const char* rev, bool ready = true, bool deleting = false) {
    Json p = {{"metadata", {{"name", name}, {"labels", {{"controller-revision-hash", rev}}}, {"creationTimestamp", "2026-12-06T08:00:00Z"}}},
              {"status", {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
    if (deleting) p["metadata"]["deletionTimestamp"] = "2026-12-06T08:01:00Z";
    return p;
  };
  auto outdated = [](const Pod& p) { return p.revision != "new"; };
  // Pods of another StatefulSet whose name starts the same are not the database's.
  auto pods = databasePods({pod("my-0", "old"), pod("my-2", "old"), pod("my-1", "new"), pod("my-extra-0", "old")}, "my");
  REQUIRE(pods.size() == 3);
  CHECK(pods[2].name == "my-2");
  auto d = nextRestart(pods, 3, outdated);
  CHECK(d.kind == RestartDecision::Kind::kRestart);
  CHECK(d.pod == "my-2");
  CHECK(d.outdated == 2);
  d = nextRestart(databasePods({pod("my-0", "old"), pod("my-1", "new"), pod("my-2", "new", true, true)}, "my"), 3, outdated);
  CHECK(d.kind == RestartDecision::Kind::kWait);
  CHECK_THAT(d.why, Catch::Contains("my-2 to terminate"));
  d = nextRestart(databasePods({pod("my-0", "old"), pod("my-1", "new")}, "my"), 3, outdated);
  CHECK(d.kind == RestartDecision::Kind::kWait);
  CHECK_THAT(d.why, Catch::Contains("pod 2 to be created"));
  d = nextRestart(databasePods({pod("my-0", "old"), pod("my-1", "new", false), pod("my-2", "new")}, "my"), 3, outdated);
  CHECK(d.kind == RestartDecision::Kind::kWait);
  CHECK_THAT(d.why, Catch::Contains("my-1 to be Ready"));
  d = nextRestart(databasePods({pod("my-0", "new")}, "my"), 1, outdated);
  CHECK(d.kind == RestartDecision::Kind::kDone);
  CHECK(d.outdated == 0);
}

}  // namespace
}  // namespace mysqlop::enterprise::ops
