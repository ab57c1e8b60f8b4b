#pragma once
// A MySQLOpsRequest's run as pure plans (observe → plan → apply, as plan.h is for the MySQL):
// the reconciler (ops.h) observes what one step needs, a function here decides what that step
// writes and whether the request then goes on, waits (saying for what) or fails (saying why),
// and a short executor applies the writes in order. Every branch is table-tested without a
// server (ops_plan_test.cpp).
//
//   admit         the request is valid, its database exists, it did not change once started
//   planStart     not started: wait (an earlier request, a pause, the licence, IfReady), skip
//                 (nothing to change) or start
//   planPause     → planSpec → planRotation → planSync → planPods → planVerified → planCleanup
//                 each a step of a started request; the first that does not go on decides
//   planAfterStep a step that waits: the Waiting condition and when to look again; a timeout
//
// Every step is decided from what the objects say now, so a restarted operator resumes where its
// predecessor stopped and does nothing twice.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/api/ops_request.h"
#include "common/core/clock.h"
#include "common/kube/conditions.h"
#include "common/runtime/cache.h"
#include "enterprise-operator/controller/licence_gate.h"
#include "enterprise-operator/controller/ops_steps.h"

namespace mysqlop::enterprise::ops {

// The request's conditions, as its status holds them.
struct Progress {
  Json status = Json::object();
  bool done(std::string_view type) const;  // present and True
  bool has(std::string_view type) const;
  std::optional<kube::Condition> condition(std::string_view type) const;
  std::map<std::string, int64_t> revisionsBefore() const;  // status.certificateRevisions
};

// --- what a step writes, in order ---------------------------------------------------------------
struct SetCondition {  // on the request
  std::string type;
  bool ok = true;
  std::string reason, message;
  bool operator==(const SetCondition&) const = default;
};
struct Announce {  // an Event on the request
  bool warning = false;
  std::string reason, message;
  bool operator==(const Announce&) const = default;
};
struct RecordRevisions {  // status.certificateRevisions, before a rotation
  std::map<std::string, int64_t> revisions;
  bool operator==(const RecordRevisions&) const = default;
};
struct PauseDatabase {  // the pause annotation and the Paused condition on the MySQL
  bool operator==(const PauseDatabase&) const = default;
};
// The MySQL's spec as the request asks (re-read and re-derived on a conflict); once written, an
// Event and the TLSConfigUpdated condition say `what` was done, with the new generation.
struct UpdateDatabaseSpec {
  std::string reason, what;
  bool operator==(const UpdateDatabaseSpec&) const = default;
};
struct TriggerIssuance {  // the Certificate's Issuing condition, as `cmctl renew` sets it
  std::string certificate;
  int64_t revisionBefore = 0;
  bool operator==(const TriggerIssuance&) const = default;
};
struct DeletePod {  // with the uid as precondition
  std::string name, uid;
  bool operator==(const DeletePod&) const = default;
};
struct DeleteSecret {  // with the uid as precondition
  std::string name, uid;
  bool operator==(const DeleteSecret&) const = default;
};
using Write = std::variant<SetCondition, Announce, RecordRevisions, PauseDatabase, UpdateDatabaseSpec, TriggerIssuance,
                           DeletePod, DeleteSecret>;

struct StepPlan {
  enum class Then { kNext, kWait, kFail } then = Then::kNext;
  std::vector<Write> writes;
  std::string why;     // kWait: what it waits for; kFail: the message
  std::string reason;  // kFail
  bool operator==(const StepPlan&) const = default;
};

// What every step knows: the request, its progress and its database as cached.
struct Facts {
  std::string ns, name, db;
  Progress progress;
  const api::OpsRequest* op = nullptr;
  const Json* mysql = nullptr;
  std::string key() const { return ns + "/" + name; }
  std::string dbKey() const { return ns + "/" + db; }
  bool reconfigure() const { return op->type == api::OpsType::kReconfigureTLS; }
  bool tls() const;  // the MySQL's spec has tls
};

// --- before any step ---------------------------------------------------------------------------
// A request that cannot run: invalid (parseErrors: its field errors, joined), its database gone
// or going, or its spec changed after it started. nullopt: it may go on.
struct Failure {
  std::string reason, message;
  bool operator==(const Failure&) const = default;
};
std::optional<Failure> admit(const Json& request, const std::optional<std::string>& parseErrors, const runtime::ObjectPtr& mysql);

// --- not started ---------------------------------------------------------------------------------
struct StartFacts {
  const Json* request = nullptr;
  std::vector<runtime::ObjectPtr> sameNamespace;  // every request of the namespace
  LicenceState licence;
  // When mayBeNothingToDo: whether every pod runs the StatefulSet's current template (a template
  // staged by a hand edit or a failed request is not "as asked").
  std::optional<bool> podsCurrent;
};
struct StartPlan {
  enum class Kind { kPending, kFail, kSkip, kStart } kind = Kind::kStart;
  std::string reason, message;            // the condition (Waiting, Failed, Skipped, Progressing)
  std::string eventReason, eventMessage;  // what the Event says
  bool operator==(const StartPlan&) const = default;
};
// Whether a ReconfigureTLS could be skipped (its spec changes nothing and no rotation is asked):
// the reconciler then looks at the pods for planStart.
bool mayBeNothingToDo(const Facts& f);
StartPlan planStart(const Facts& f, const StartFacts& s);

// --- the steps of a started request -------------------------------------------------------------
StepPlan planPause(const Facts& f);

// ReconfigureTLS: the MySQL's spec as asked (TLSConfigUpdated False records what is being done
// before the write, so a retry reports it the same). Waits until the cache shows the new spec, so
// that what follows is judged on the new generation.
StepPlan planSpec(const Facts& f);

// ReconfigureTLS with rotateCertificates: each Certificate's revision noted, then cert-manager
// asked to issue each again. certificates: ours by name, as cached.
using Certificates = std::map<std::string, runtime::ObjectPtr>;
StepPlan planRotation(const Facts& f, const Certificates& certificates);

// ReconfigureTLS: the Certificates synced with the spec.
StepPlan planSync(const Facts& f, const Certificates& certificates);

// The pods: restarted one at a time where the template changed (Restart: every pod created
// before the request started), else left to the reload renewals use.
struct PodsFacts {
  const Json* statefulSet = nullptr;  // from the API; null: none
  std::vector<Json> pods;             // the database's, from the API
  // A Group Replication database: what each member says of itself ("ONLINE PRIMARY",
  // "RECOVERING SECONDARY", …, or why it could not be asked), by pod. A member is restarted only
  // while every member is ONLINE — the group keeps its majority — and the primary last.
  std::optional<std::map<std::string, std::string>> members;
};
StepPlan planPods(const Facts& f, const PodsFacts& pods);

// Verified as a client would. The reconciler asks each pod in turn (ReconfigureTLS) and stops at
// the first whose answers podNotVerified finds wanting.
struct PodProbe {
  std::string pod;
  std::optional<std::string> fetchError;  // the served certificate could not be read (TLS)
  std::string servedPem;                  // the certificate it serves (TLS)
  std::optional<std::string> queryError;  // SELECT @@GLOBAL.require_secure_transport failed
  std::optional<std::string> requireSecureTransport;
  // A group member (TLS): what its group communication port presents — the certificate Group
  // Replication loaded when it last started (the community operator restarts it after a renewal).
  bool groupMember = false;
  std::optional<std::string> groupFetchError;
  std::string groupPem;
};
// issuedPem: the server Secret's certificate (TLS; empty: the Secret holds none).
std::optional<std::string> podNotVerified(const PodProbe& probe, bool tls, bool requireSSL, const std::string& issuedPem);
struct VerifyFacts {
  std::optional<std::string> specError;    // the MySQL's spec cannot be read
  std::optional<std::string> notVerified;  // the first reason a pod (or reading its Secrets) gave to wait
};
StepPlan planVerified(const Facts& f, const VerifyFacts& v);

// ReconfigureTLS: TLS Secrets no longer used (TLS removed, or an entry now names another Secret)
// that are ours go. secrets: the database's, labelled with its selector.
StepPlan planCleanup(const Facts& f, const std::vector<Json>& secrets);

// --- after the steps ------------------------------------------------------------------------------
struct AfterStep {
  enum class Kind { kError, kFail, kWait, kSucceed } kind = Kind::kSucceed;  // kError: the error stands (retried)
  std::string reason, message;            // kFail; kSucceed: the message
  std::optional<std::string> waiting;     // kWait: the Waiting condition's new message (nullopt: it already says so)
  std::chrono::milliseconds requeueAfter{0};
  bool operator==(const AfterStep&) const = default;
};
// A step's outcome (or the error that ended it: a timeout turns it into a failure) against the
// request's timeout.
AfterStep planAfterStep(const Facts& f, const StepPlan& outcome, const std::optional<std::string>& error, core::WallTime now,
                        std::chrono::milliseconds poll);

std::string human(std::chrono::milliseconds d);  // 90s, 2m30s

}  // namespace mysqlop::enterprise::ops
