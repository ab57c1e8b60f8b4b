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
  if (isStatus(conds, api::kCondHalted, kube::kConditionTrue)) return std::string(api::kPhaseHalted);
  if (isStatus(conds, api::kCondProvisioned, kube::kConditionTrue)) {
    if (isStatus(conds, api::kCondAcceptingConnection, kube::kConditionFalse)) return std::string(api::kPhaseNotReady);
    if (isStatus(conds, api::kCondReplicaReady, kube::kConditionFalse) || isStatus(conds, api::kCondReady, kube::kConditionFalse)) {
      return std::string(api::kPhaseCritical);
    }
    if (isStatus(conds, api::kCondReady, kube::kConditionTrue)) return std::string(api::kPhaseReady);
  }
  if (isStatus(conds, api::kCondProvisioningStarted, kube::kConditionTrue)) return std::string(api::kPhaseProvisioning);
  return "";
}

Json desiredStatus(const Json& current, const StatusFacts& f, core::WallTime now) {
  Json status = current.is_object() ? current : Json::object();
  Json conds = status.value("conditions", Json::array());
  if (!conds.is_array()) conds = Json::array();
  auto set = [&](std::string_view type, std::string_view st, std::string_view reason, std::string message) {
    kube::setCondition(conds,
                       Condition{std::string(type), std::string(st), std::string(reason), std::move(message), f.generation, ""},
                       now);
  };
  const std::string db = f.ns + "/" + f.name;

  set(api::kCondProvisioningStarted, kube::kConditionTrue, api::kReasonProvisioningStarted,
      "The KubeDB operator has started the provisioning of MySQL: " + db);

  if (f.deletionBlocked) {
    set(api::kCondDeletionBlocked, kube::kConditionTrue, api::kReasonDoNotTerminate, *f.deletionBlocked);
  } else {
    kube::removeCondition(conds, api::kCondDeletionBlocked);
  }

  if (f.halted && !f.blocker) {
    set(api::kCondHalted, kube::kConditionTrue, api::kReasonHalted,
        "MySQL " + db + " is halted: its workload is removed, its data and secrets are kept");
    set(api::kCondAcceptingConnection, kube::kConditionFalse, api::kReasonNotAcceptingConnection,
        "MySQL " + db + " is halted");
    set(api::kCondReady, kube::kConditionFalse, api::kReasonDatabaseHalted, "MySQL " + db + " is halted");
    kube::removeCondition(conds, api::kCondReplicaReady);
  } else {
    kube::removeCondition(conds, api::kCondHalted);
    if (f.statefulSet) {
      const auto& r = *f.statefulSet;
      if (r.ready >= r.desired) {
        set(api::kCondReplicaReady, kube::kConditionTrue, api::kReasonAllReplicasReady,
            fmt::format("All desired replicas are ready: {}/{}", r.ready, r.desired));
      } else {
        set(api::kCondReplicaReady, kube::kConditionFalse, api::kReasonSomeReplicasNotReady,
            fmt::format("{} of {} replicas are ready", r.ready, r.desired));
      }
    }
    if (f.blocker) {
      set(api::kCondReady, kube::kConditionFalse, f.blocker->reason, f.blocker->message);
    } else if (f.statefulSet && f.health) {
      if (f.health->ok) {
        set(api::kCondAcceptingConnection, kube::kConditionTrue, api::kReasonAcceptingConnection,
            "The MySQL server " + db + " accepts connections");
        set(api::kCondReady, kube::kConditionTrue, api::kReasonReadinessCheckSucceeded, f.health->message);
      } else {
        set(api::kCondAcceptingConnection, kube::kConditionFalse, api::kReasonNotAcceptingConnection, f.health->message);
        set(api::kCondReady, kube::kConditionFalse, api::kReasonReadinessCheckFailed, f.health->message);
      }
    } else if (f.statefulSet) {
      set(api::kCondReady, kube::kConditionFalse, api::kReasonReadinessCheckPending,
          "The StatefulSet of " + db + " exists; waiting for the first health check");
    }
    if (isStatus(conds, api::kCondReplicaReady, kube::kConditionTrue) &&
        isStatus(conds, api::kCondAcceptingConnection, kube::kConditionTrue) && isStatus(conds, api::kCondReady, kube::kConditionTrue)) {
      set(api::kCondProvisioned, kube::kConditionTrue, api::kReasonProvisioned,
          "The KubeDB operator has successfully provisioned MySQL: " + db);
    }
  }

  status["conditions"] = conds;
  status["phase"] = computePhase(conds);
  status["observedGeneration"] = f.generation;
  return status;
}

}  // namespace mysqlop::community
