#pragma once
// The community operator's decisions, as pure functions (observe → plan → apply): the reconciler
// gathers what the caches (and, for a deletion, the API) say about one MySQL into `Observed`;
// `plan` turns that into the ordered writes and the status to converge to; the reconciler's
// executor applies them. Nothing here does I/O, so every branch is table-tested without a server
// (plan_test.cpp).
//
//   Observed o = observe(...);                 // reconciler.cpp
//   Plan p = plan(o, clock.now());
//   for (auto& step : p.steps) apply(step);    // in order; the first error stops the reconcile
//   if (p.status) writeStatus(*p.status);       // at most one status write per reconcile
//
// Provisioning follows KubeDB's order: finalizer → spec (InvalidSpec) → catalog → RBAC →
// Services → auth Secret → halted → the TLS gate → StatefulSet → status. Deletion follows the
// deletion policy (docs/design.md §4).

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/mysql.h"
#include "common/core/clock.h"
#include "common/kube/conditions.h"
#include "common/kube/resource.h"
#include "common/runtime/cache.h"
#include "common/runtime/event_recorder.h"
#include "community-operator/controller/status.h"

namespace mysqlop::community {

// What one reconcile knows of a MySQL and the objects around it.
struct Observed {
  runtime::ObjectPtr mysql;    // never null
  runtime::ObjectPtr version;  // the MySQLVersion spec.version names; null when there is none
  // Secrets of the MySQL's namespace that concern it: referenced by name (auth, TLS, exporter
  // configuration), labelled for it, or owned by it. By name.
  std::map<std::string, runtime::ObjectPtr> secrets;
  // The objects the operator makes, by name, as the caches hold them (absent: not there).
  std::map<std::string, runtime::ObjectPtr> services;
  runtime::ObjectPtr serviceAccount, role, roleBinding, statefulSet;
  // The ServiceMonitor <db>-stats, where the cluster serves monitoring.coreos.com/v1 (the
  // operator watches them then); without that API the plan makes none and says so.
  bool serviceMonitorsServed = false;
  runtime::ObjectPtr serviceMonitor;
  std::map<std::string, runtime::ObjectPtr> pods;  // the database's pods, by name
  std::optional<HealthFacts> health;  // the health checker's latest verdict for this MySQL
  // The PEMs of the CAs the Secrets above hold, by digest (secret_summary.h), for the trust
  // bundle; and how long a CA stays trusted after its last use (0: the certificates' renewBefore).
  std::map<std::string, std::string> caPems;
  std::chrono::seconds caRetention{0};
  // Deletion only, listed from the API: the database's PVCs (by selector).
  std::vector<Json> pvcs;

  runtime::ObjectPtr secret(const std::string& name) const;
};

using runtime::EventSpec;

// --- steps, applied in order -----------------------------------------------------------------
// Create or update an object the MySQL controls; `what` names it in the Created/Updated Event.
struct EnsureStep {
  const kube::ResourceType* type = nullptr;
  Json desired;
  runtime::ObjectPtr cached;
  std::string what;
  std::vector<EventSpec> onWrite;  // said when the object is created or changed
};
// Make <db>-auth with a fresh password (the only non-pure input, drawn by the executor).
struct CreateAuthSecretStep {
  api::MySQL my;
};
// Record the auth Secret's name in spec.authSecret.name (KubeDB does; a merge patch of that field).
struct RecordAuthSecretStep {
  std::string name;
};
// Record spec.topology.group once (a fresh UUID as its name, its mode), as KubeDB's mutator does.
// The executor draws the UUID and patches on the observed resourceVersion: a second draw can
// never replace a name already recorded (the patch conflicts instead).
struct RecordGroupStep {
  std::string resourceVersion;
  std::string mode;
};
// A group member's kubedb.com/role label set (or removed: nullopt), a merge patch of that label alone.
struct LabelPodStep {
  std::string pod;
  std::optional<std::string> role;
};
struct DeleteStep {
  const kube::ResourceType* type = nullptr;
  std::string name;
  std::string propagation;         // "" or "Background"
  std::optional<EventSpec> event;  // said once deleted
};
// An object that loses the MySQL's ownerReference (kept past the MySQL's deletion): its
// ownerReferences are patched (runtime::writeOwnerReferences), nothing else.
struct DisownStep {
  const kube::ResourceType* type = nullptr;
  Json object;  // with the reference removed, the cached resourceVersion kept
};
struct AddFinalizerStep {};
struct DropFinalizerStep {
  EventSpec event;
};
using Step = std::variant<AddFinalizerStep, EnsureStep, CreateAuthSecretStep, RecordAuthSecretStep, RecordGroupStep, LabelPodStep, DeleteStep,
                          DisownStep, DropFinalizerStep>;

// The status to converge to: the whole community status from facts, or (while a deletion is
// refused) only the DeletionBlocked condition, the rest left as it is.
struct StatusChange {
  std::optional<StatusFacts> facts;
  std::optional<kube::Condition> deletionBlocked;
  // `status` with this change applied.
  Json applyTo(const Json& status, core::WallTime now) const;
};

struct Plan {
  std::vector<Step> steps;
  std::optional<StatusChange> status;  // nullopt: the status is already what it should be
  std::vector<EventSpec> onStatusWrite;  // said once the status is written
  bool triggerHealth = false;            // the StatefulSet is (re)written: check it soon
  bool forgetHealth = false;             // the MySQL is gone or going
  std::optional<std::chrono::milliseconds> requeueAfter;
};

// How often a MySQL waiting for the user's auth Secret (spec.authSecret.name) looks for it again:
// the Secret carries no label of ours, so no watch brings it.
inline constexpr std::chrono::seconds kUserSecretRecheck{5};

// The whole decision for one MySQL.
Plan plan(const Observed& o, core::WallTime now);

// --- the pure pieces plan() is made of, each tested on its own -------------------------------
// Parsed, defaulted and validated; or InvalidSpec with every field at fault in one message.
core::Result<api::MySQL, Blocker> readSpec(const Json& mysql);
// The TLS gate (KubeDB): every TLS Secret and the exporter configuration must exist before the
// StatefulSet is made; the blocker names what is missing.
std::optional<Blocker> tlsGate(const api::MySQL& my, const Observed& o);
// The trust bundle <db>-ca-bundle (trust_bundle.h): kept in step with what the database's
// Secrets and pods use; the blocker when a Secret of that name is not ours, or a CA's PEM is not
// at hand (the reconciler reads the Secrets again).
std::optional<Blocker> planTrustBundle(Plan& out, StatusFacts& facts, const api::MySQL& my, const Observed& o,
                                       core::WallTime now);
// The auth Secret: the user's must exist with a password; ours must not be someone else's.
std::optional<Blocker> authSecretBlocker(const api::MySQL& my, const Observed& o);
// Ready's Event when the status changes it: reason and message, Warning for a failure; none for
// the pending health check.
std::optional<EventSpec> readyEvent(const Json& before, const Json& after);
// The Events of a change in what the pods serve: a Warning when a reload fails or cannot be
// done, a Normal one for each pod that reloaded the Secret's certificate.
std::vector<EventSpec> servedEvents(const Json& before, const Json& after);
// The last resort for a server that cannot reload TLS (ReloadUnsupported): restart one pod that
// started before the Secret's certificate was issued (so a restart loads it), when no pod of the
// database is already going. nullopt: nothing to restart.
std::optional<DeleteStep> restartForTls(const api::MySQL& my, const Observed& o);

// What differs between a pod's spec and the template it should run, in a few words: containers
// added or removed, images, args added (+) or removed (-), volumes added or removed; "its
// template changed" when none of those (an env or probe change).
std::string templateDifferences(const Json& podSpec, const Json& templateSpec);
// The database's pods whose controller-revision-hash is not the StatefulSet's updateRevision,
// with what differs; nullopt while the StatefulSet controller has not seen its template yet.
std::optional<std::vector<OutdatedPod>> outdatedPods(const Json& statefulSet, const std::map<std::string, runtime::ObjectPtr>& pods);

// The Secrets a MySQL refers to by name: its auth Secret, its TLS Secrets and the exporter
// configuration (for mapping Secret events back to the MySQL).
std::set<std::string> referencedSecrets(const Json& mysql);

}  // namespace mysqlop::community
