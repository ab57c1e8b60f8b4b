#include "community-operator/controller/status.h"

#include <fmt/format.h>

#include "common/kube/conditions.h"

namespace mysqlop::community {
namespace {

using kube::Condition;

bool isStatus(const Json& conds, std::string_view type, std::string_view status) {
  auto c = kube::findCondition(conds, type);
  return c && c->status == status;
}

}  // namespace

std::string computePhase(const Json& conds) {
  if (isStatus(conds, kCondHalted, kube::kConditionTrue)) return std::string(kPhaseHalted);
  if (isStatus(conds, kCondProvisioned, kube::kConditionTrue)) {
    if (isStatus(conds, kCondAcceptingConnection, kube::kConditionFalse)) return std::string(kPhaseNotReady);
    if (isStatus(conds, kCondReplicaReady, kube::kConditionFalse) || isStatus(conds, kCondReady, kube::kConditionFalse)) {
      return std::string(kPhaseCritical);
    }
    if (isStatus(conds, kCondReady, kube::kConditionTrue)) return std::string(kPhaseReady);
  }
  if (isStatus(conds, kCondProvisioningStarted, kube::kConditionTrue)) return std::string(kPhaseProvisioning);
  return "";
}

Json desiredStatus(const Json& current, const StatusFacts& f, core::WallTime now) {
  Json status = current.is_object() ? current : Json::object();
  Json conds = status.value("conditions", Json::array());
  if (!conds.is_array()) conds = Json::array();
  auto set = [&](std::string_view type, std::string_view st, std::string reason, std::string message) {
    kube::setCondition(conds, Condition{std::string(type), std::string(st), std::move(reason), std::move(message), f.generation, ""},
                       now);
  };
  const std::string db = f.ns + "/" + f.name;

  set(kCondProvisioningStarted, kube::kConditionTrue, "DatabaseProvisioningStartedSuccessfully",
      "The KubeDB operator has started the provisioning of MySQL: " + db);

  if (f.deletionBlocked) {
    set(kCondDeletionBlocked, kube::kConditionTrue, "DoNotTerminate", *f.deletionBlocked);
  } else {
    kube::removeCondition(conds, kCondDeletionBlocked);
  }

  if (f.halted && !f.blocker) {
    set(kCondHalted, kube::kConditionTrue, "DatabaseHaltedSuccessfully",
        "MySQL " + db + " is halted: its workload is removed, its data and secrets are kept");
    set(kCondAcceptingConnection, kube::kConditionFalse, "DatabaseNotAcceptingConnectionRequest",
        "MySQL " + db + " is halted");
    set(kCondReady, kube::kConditionFalse, "DatabaseHalted", "MySQL " + db + " is halted");
    kube::removeCondition(conds, kCondReplicaReady);
  } else {
    kube::removeCondition(conds, kCondHalted);
    if (f.statefulSet) {
      const auto& r = *f.statefulSet;
      if (r.ready >= r.desired) {
        set(kCondReplicaReady, kube::kConditionTrue, "AllReplicasReady",
            fmt::format("All desired replicas are ready: {}/{}", r.ready, r.desired));
      } else {
        set(kCondReplicaReady, kube::kConditionFalse, "SomeReplicasNotReady",
            fmt::format("{} of {} replicas are ready", r.ready, r.desired));
      }
    }
    if (f.blocker) {
      set(kCondReady, kube::kConditionFalse, f.blocker->reason, f.blocker->message);
    } else if (f.statefulSet && f.health) {
      if (f.health->ok) {
        set(kCondAcceptingConnection, kube::kConditionTrue, "DatabaseAcceptingConnectionRequest",
            "The MySQL server " + db + " accepts connections");
        set(kCondReady, kube::kConditionTrue, "ReadinessCheckSucceeded", f.health->message);
      } else {
        set(kCondAcceptingConnection, kube::kConditionFalse, "DatabaseNotAcceptingConnectionRequest", f.health->message);
        set(kCondReady, kube::kConditionFalse, "ReadinessCheckFailed", f.health->message);
      }
    } else if (f.statefulSet) {
      set(kCondReady, kube::kConditionFalse, "ReadinessCheckPending",
          "The StatefulSet of " + db + " exists; waiting for the first health check");
    }
    if (isStatus(conds, kCondReplicaReady, kube::kConditionTrue) &&
        isStatus(conds, kCondAcceptingConnection, kube::kConditionTrue) && isStatus(conds, kCondReady, kube::kConditionTrue)) {
      set(kCondProvisioned, kube::kConditionTrue, "DatabaseSuccessfullyProvisioned",
          "The KubeDB operator has successfully provisioned MySQL: " + db);
    }
  }

  status["conditions"] = conds;
  status["phase"] = computePhase(conds);
  status["observedGeneration"] = f.generation;
  return status;
}

}  // namespace mysqlop::community
