#include "e2e/sandbox/kubelet/workloads.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox::kubelet {
namespace {

Json makeSts(int replicas, const std::string& strategy = "RollingUpdate", const std::string& policy = "OrderedReady",
             int partition = 0) {
  Json s = Json::parse(R"({"apiVersion":"apps/v1","kind":"StatefulSet",
    "metadata":{"name":"db","namespace":"demo","uid":"s-1","generation":4},
    "spec":{"serviceName":"db-pods","selector":{"matchLabels":{"app":"db"}},
      "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"mysql","image":"mysql:8"}],
                  "volumes":[{"name":"tmp","emptyDir":{}}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"data","labels":{"tier":"db"}},
                               "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]}})");
  s["spec"]["replicas"] = replicas;
  s["spec"]["podManagementPolicy"] = policy;
  s["spec"]["updateStrategy"] = {{"type", strategy}, {"rollingUpdate", {{"partition", partition}}}};
  return s;
}

Json pod(const std::string& name, const std::string& revision, bool ready) {
  return {{"metadata", {{"name", name}, {"labels", {{kRevisionLabel, revision}}}}},
          {"status", {{"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
}

}  // namespace

TEST_CASE("kubelet: a StatefulSet's pod and claim", "[kubelet]") {
  Json s = makeSts(3);
  Json p = statefulSetPod(s, 2, "db-rev1");
  CHECK(p["metadata"]["name"] == "db-2");
  CHECK(p["metadata"]["namespace"] == "demo");
  CHECK(p["metadata"]["labels"]["app"] == "db");
  CHECK(p["metadata"]["labels"][kPodNameLabel] == "db-2");
  CHECK(p["metadata"]["labels"][kRevisionLabel] == "db-rev1");
  CHECK(p["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet");
  CHECK(p["metadata"]["ownerReferences"][0]["uid"] == "s-1");
  CHECK(p["spec"]["hostname"] == "db-2");
  CHECK(p["spec"]["subdomain"] == "db-pods");
  CHECK(p["spec"]["volumes"][1] == Json{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "data-db-2"}}}});
  Json c = statefulSetClaim(s, s["spec"]["volumeClaimTemplates"][0], 2);
  CHECK(c["metadata"]["name"] == "data-db-2");
  CHECK(c["metadata"]["labels"] == Json{{"tier", "db"}, {"app", "db"}});
  CHECK(c["spec"]["resources"]["requests"]["storage"] == "1Gi");
  CHECK(ordinalOf("db", "db-12") == 12);
  CHECK_FALSE(ordinalOf("db", "db-pods"));
  CHECK_FALSE(ordinalOf("db", "db2-1"));
  CHECK_FALSE(ordinalOf("db", "db-01"));
  CHECK(templateHash(s["spec"]["template"]) == templateHash(s["spec"]["template"]));
  Json changed = s["spec"]["template"];
  changed["spec"]["containers"][0]["image"] = "mysql:9";
  CHECK(templateHash(changed) != templateHash(s["spec"]["template"]));
}

TEST_CASE("kubelet: OrderedReady creates pods one by one, each after the previous is Ready", "[kubelet]") {
  Json s = makeSts(3);
  Action a = nextStatefulSetStep(s, {}, "r1");
  CHECK(a.kind == Action::kCreatePod);
  CHECK(a.ordinal == 0);
  CHECK(nextStatefulSetStep(s, {pod("db-0", "r1", false)}, "r1").kind == Action::kNone);
  a = nextStatefulSetStep(s, {pod("db-0", "r1", true)}, "r1");
  CHECK(a.ordinal == 1);
  // Parallel does not wait.
  Json par = makeSts(3, "RollingUpdate", "Parallel");
  CHECK(nextStatefulSetStep(par, {pod("db-0", "r1", false)}, "r1").ordinal == 1);
  // Scale down from the top.
  Json one = makeSts(1);
  a = nextStatefulSetStep(one, {pod("db-0", "r1", true), pod("db-1", "r1", true), pod("db-2", "r1", true)}, "r1");
  CHECK(a.kind == Action::kDeletePod);
  CHECK(a.podName == "db-2");
}

TEST_CASE("kubelet: rolling updates go from the top, one Ready pod at a time, and OnDelete waits", "[kubelet]") {
  Json s = makeSts(3);
  std::vector<Json> pods = {pod("db-0", "r1", true), pod("db-1", "r1", true), pod("db-2", "r1", true)};
  Action a = nextStatefulSetStep(s, pods, "r2");
  CHECK(a.kind == Action::kDeletePod);
  CHECK(a.podName == "db-2");
  pods[2] = pod("db-2", "r2", false);
  CHECK(nextStatefulSetStep(s, pods, "r2").kind == Action::kNone);  // waits for db-2 to be Ready
  pods[2] = pod("db-2", "r2", true);
  CHECK(nextStatefulSetStep(s, pods, "r2").podName == "db-1");
  Json st = statefulSetStatus(s, pods, "r2");
  CHECK(st["replicas"] == 3);
  CHECK(st["readyReplicas"] == 3);
  CHECK(st["updatedReplicas"] == 1);
  CHECK(st["updateRevision"] == "r2");
  CHECK(st["observedGeneration"] == 4);
  // A partition keeps the lower ordinals.
  Json part = makeSts(3, "RollingUpdate", "OrderedReady", 2);
  CHECK(nextStatefulSetStep(part, pods, "r2").kind == Action::kNone);
  Json onDelete = makeSts(3, "OnDelete");
  CHECK(nextStatefulSetStep(onDelete, {pod("db-0", "r1", true), pod("db-1", "r1", true), pod("db-2", "r1", true)}, "r2").kind ==
        Action::kNone);
  // All updated: the update revision becomes the current one.
  st = statefulSetStatus(s, {pod("db-0", "r2", true), pod("db-1", "r2", true), pod("db-2", "r2", true)}, "r2");
  CHECK(st["currentRevision"] == "r2");
  CHECK(st["currentReplicas"] == 3);
}

TEST_CASE("kubelet: a Deployment rolls out new pods and removes the old once they are Ready", "[kubelet]") {
  Json d = Json::parse(R"({"metadata":{"name":"op","namespace":"sys","uid":"d-1","generation":2},
    "spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"op"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})");
  auto plan = planDeployment(d, {}, "h1");
  CHECK(plan.create == 2);
  Json p = deploymentPod(d, "h1", "abcde");
  CHECK(p["metadata"]["name"] == "op-h1-abcde");
  CHECK(p["metadata"]["labels"][kTemplateHashLabel] == "h1");
  auto mk = [](const std::string& n, const std::string& h, bool ready) {
    return Json{{"metadata", {{"name", n}, {"labels", {{kTemplateHashLabel, h}}}}},
                {"status", {{"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
  };
  std::vector<Json> pods = {mk("op-h1-a", "h1", true), mk("op-h1-b", "h1", true), mk("op-h2-c", "h2", false),
                            mk("op-h2-d", "h2", false)};
  plan = planDeployment(d, pods, "h2");
  CHECK(plan.create == 0);
  CHECK(plan.deletePods.empty());  // the new ones are not Ready yet
  pods[2] = mk("op-h2-c", "h2", true);
  pods[3] = mk("op-h2-d", "h2", true);
  plan = planDeployment(d, pods, "h2");
  CHECK(plan.deletePods == std::vector<std::string>{"op-h1-a", "op-h1-b"});
  Json st = deploymentStatus(d, {mk("op-h2-c", "h2", true), mk("op-h2-d", "h2", true)}, "h2");
  CHECK(st["replicas"] == 2);
  CHECK(st["updatedReplicas"] == 2);
  CHECK(st["availableReplicas"] == 2);
  CHECK(st["observedGeneration"] == 2);
  CHECK(st["conditions"][0]["status"] == "True");
  CHECK_FALSE(st.contains("unavailableReplicas"));
}

}  // namespace mysqlop::sandbox::kubelet
