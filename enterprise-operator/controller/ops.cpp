#include "enterprise-operator/controller/ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/api/catalog.h"
#include "common/api/cert_manager.h"
#include "common/api/conditions.h"
#include "common/api/events.h"
#include "common/api/naming.h"
#include "common/api/ops_request.h"
#include "common/core/time_format.h"
#include "common/kube/conditions.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "common/mysql/served_certificate.h"
#include "common/pki/pki.h"
#include "common/runtime/writes.h"
#include "enterprise-operator/controller/ops_plan.h"

namespace mysqlop::enterprise {

using runtime::Json;
using runtime::ReconcileResult;

namespace {

constexpr const char* kIndexDatabase = "database";

std::string databaseOf(const Json& request) {
  const Json* db = kube::find(request, {"spec", "databaseRef", "name"});
  return db && db->is_string() ? db->get<std::string>() : "";
}

std::string phaseOf(const Json& obj) { return obj.value("status", Json::object()).value("phase", ""); }

}  // namespace

runtime::Indexers opsIndexers() {
  return {{kIndexDatabase, [](const Json& r) {
             const std::string db = databaseOf(r);
             if (db.empty()) return std::vector<std::string>{};
             return std::vector<std::string>{runtime::objectKey(kube::namespaceOf(r), db)};
           }}};
}

std::vector<runtime::Request> requestsForMySQL(const runtime::ObjectCache& requests, const Json& mysql) {
  std::vector<runtime::Request> out;
  const std::string ns = kube::namespaceOf(mysql);
  for (const auto& key : requests.keysByIndex(kIndexDatabase, runtime::objectKey(ns, kube::name(mysql)))) {
    auto r = requests.get(key);
    if (r && !api::isFinished(phaseOf(*r))) out.push_back({ns, kube::name(*r)});
  }
  if (const std::string by = api::pausedBy(mysql); !by.empty() && !requests.get(ns, by)) out.push_back({ns, by});
  return out;
}

std::vector<runtime::Request> requestsForSameDatabase(const runtime::ObjectCache& requests, const Json& request) {
  std::vector<runtime::Request> out;
  const std::string ns = kube::namespaceOf(request), db = databaseOf(request);
  if (db.empty()) return out;
  for (const auto& key : requests.keysByIndex(kIndexDatabase, runtime::objectKey(ns, db))) {
    auto r = requests.get(key);
    if (r && kube::name(*r) != kube::name(request) && !api::isFinished(phaseOf(*r))) out.push_back({ns, kube::name(*r)});
  }
  return out;
}

OpsReconciler::OpsReconciler(client::RestClient& cli, runtime::EventRecorder& events, OpsCaches caches, const LicenceGate& licence,
                             OpsOptions opts, const core::Clock& clock, core::Logger log)
    : cli_(cli), events_(events), c_(caches), licence_(licence), opts_(std::move(opts)), clock_(clock), log_(std::move(log)) {
  if (!opts_.fetchServed) opts_.fetchServed = dbclient::fetchServedCertificate;
  if (!opts_.fetchGroupServed) opts_.fetchGroupServed = dbclient::fetchTlsCertificate;
  if (!opts_.query) opts_.query = dbclient::queryValue;
  if (!opts_.podHost) {
    opts_.podHost = [](const std::string& db, const std::string& ns, int i) { return api::podHost(db, ns, i); };
  }
}

// One reconcile of one request: its facts, the writes that apply a plan, and its end.
struct OpsReconciler::Run {
  OpsReconciler& self;
  Json r;  // the request, as cached
  ops::Facts f;
  core::WallTime now;
  int64_t gen = 0;
  runtime::ObjectPtr mysql;  // as cached (null before admission)

  Json& status() { return f.progress.status; }
  kube::Condition cond(std::string_view type, bool ok, std::string_view reason, std::string message) const {
    return {std::string(type), ok ? "True" : "False", std::string(reason), std::move(message), gen, ""};
  }
  // Writes the request's status (nothing when `mutate` changes nothing); the facts follow.
  core::Status write(const std::function<void(Json&)>& mutate) {
    auto w = runtime::writeStatus(self.cli_, api::opsRequestResource(), r, mutate);
    if (!w) return w.error();
    mutate(status());
    r["status"] = status();
    return {};
  }
  core::Status setCondition(const kube::Condition& c) {
    return write([&](Json& st) { kube::setCondition(st["conditions"], c, now); });
  }
  void event(bool warning, const std::string& reason, const std::string& message) {
    self.events_.event(r, warning ? runtime::kEventWarning : runtime::kEventNormal, reason, message);
  }
  // Lists `type` in the request's namespace, labelled with the database's selector.
  core::Result<std::vector<Json>> listOfDatabase(const kube::ResourceType& type) {
    kube::ListOptions lo;
    lo.labelSelector = kube::LabelSelector::fromMap(api::selectorLabels(f.db)).toString();
    auto list = self.cli_.list(type, f.ns, lo);
    if (!list) return list.error();
    std::vector<Json> items;
    for (const auto& p : list->value("items", Json::array())) items.push_back(p);
    return items;
  }

  // --- the pause marker on the MySQL ------------------------------------------------------------
  // Sets or clears the annotation on the live MySQL (re-read on a conflict).
  core::Status annotate(bool paused) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto live = self.cli_.get(api::mysqlResource(), f.ns, f.db);
      if (!live && live.error().is(core::ErrorCode::kNotFound) && !paused) return {};
      if (!live) return live.error();
      if ((api::pausedBy(*live) == f.name) == paused) return {};
      if (paused) {
        kube::setAnnotation(*live, api::kAnnotationPausedBy, f.name);
      } else {
        kube::removeAnnotation(*live, api::kAnnotationPausedBy);
      }
      auto up = self.cli_.update(api::mysqlResource(), *live);
      if (up) return {};
      if (!up.error().is(core::ErrorCode::kConflict)) return up.error();
    }
    return core::Error(core::ErrorCode::kConflict, "the MySQL kept changing while its pause marker was written");
  }
  core::Status pausedCondition(const Json& db, bool paused) {
    runtime::ConditionChange change;
    if (paused) {
      change.set.push_back({std::string(api::kCondPaused), "True", std::string(api::kReasonPausedByOpsRequest),
                            fmt::format("paused by MySQLOpsRequest {} ({}): the operators change nothing else until it ends",
                                        f.key(), r["spec"].value("type", "")),
                            kube::generation(db), ""});
    } else {
      change.remove.push_back(std::string(api::kCondPaused));
    }
    auto w = runtime::writeConditions(self.cli_, api::mysqlResource(), db, change, now);
    if (!w && !(w.error().is(core::ErrorCode::kNotFound) && !paused)) return w.error();
    return {};
  }

  // Resumes the MySQL when this request paused it (the condition first, then the annotation that
  // the community operator reads: a crash between the two is finished by the next reconcile).
  core::Status resume() {
    auto db = self.c_.mysqls->get(f.ns, f.db);
    const bool marked = db && api::pausedBy(*db) == f.name;
    auto paused = db ? kube::findStatusCondition(*db, api::kCondPaused) : std::nullopt;
    const bool ours = paused && paused->message.find("MySQLOpsRequest " + f.key() + " ") != std::string::npos;
    if (!marked && !ours) return {};
    if (auto st = pausedCondition(*db, false); !st) return st;
    if (auto st = annotate(false); !st) return st;
    if (f.progress.has(api::kOpsCondPaused) && !f.progress.done(api::kOpsCondResumed)) {
      event(false, std::string(api::kEventResuming), fmt::format("Resuming MySQL database {}", f.dbKey()));
      return setCondition(cond(api::kOpsCondResumed, true, api::kOpsReasonResumed, fmt::format("Successfully resumed MySQL {}", f.dbKey())));
    }
    return {};
  }

  // --- the end ---------------------------------------------------------------------------------
  // The request's last status: Failed or Successful (the condition of that name) or Skipped.
  core::Result<ReconcileResult> finish(std::string_view phase, std::string_view type, std::string_view reason, const std::string& message,
                                       bool warning, const std::string& eventMessage) {
    auto st = write([&](Json& s) {
      s["phase"] = phase;
      s["observedGeneration"] = gen;
      kube::setCondition(s["conditions"], cond(type, true, reason, message), now);
      kube::removeCondition(s["conditions"], api::kOpsCondWaiting);
    });
    if (!st) return st.error();
    event(warning, std::string(type == api::kOpsCondSuccessful ? api::kEventSuccessful : reason), eventMessage);
    if (warning) self.log_.warn("ops request failed", {{"namespace", f.ns}, {"name", f.name}, {"reason", std::string(reason)}, {"detail", message}});
    if (auto rs = resume(); !rs) return rs.error();
    return ReconcileResult{};
  }
  core::Result<ReconcileResult> finishFailed(std::string_view reason, const std::string& message) {
    return finish(api::kOpsFailed, api::kOpsCondFailed, reason, message, true, message);
  }
  core::Result<ReconcileResult> pending(const ops::StartPlan& p) {
    auto before = f.progress.condition(api::kOpsCondWaiting);
    auto st = write([&](Json& s) {
      s["phase"] = api::kOpsPending;
      s["observedGeneration"] = gen;
      kube::setCondition(s["conditions"], cond(api::kOpsCondWaiting, true, p.reason, p.message), now);
    });
    if (!st) return st.error();
    if (!before || before->reason != p.reason) event(false, p.eventReason, p.eventMessage);
    ReconcileResult out;
    out.requeueAfter = self.opts_.pendingPoll;
    return out;
  }

  // --- not started: wait, fail, skip or start (nullopt: started, the steps follow) ----------------
  core::Result<std::optional<ReconcileResult>> start();
  core::Result<bool> podsCurrent();

  // --- the steps: observe what each needs, plan it, apply it ----------------------------------------
  core::Result<ops::StepPlan> steps();
  core::Result<ops::StepPlan> apply(ops::StepPlan plan);
  core::Result<std::optional<ops::StepPlan>> applyWrite(const ops::Write& w);
  core::Result<std::optional<ops::StepPlan>> updateSpec(const ops::UpdateDatabaseSpec& u);
  core::Status triggerIssuance(const ops::TriggerIssuance& t);
  ops::Certificates certificates() const;
  core::Result<ops::StepPlan> podsStep();
  core::Result<ops::VerifyFacts> verifyFacts();
  core::Result<std::optional<std::string>> probePods(const api::MySQL& my);
  // The client's view of the database: the auth Secret's account, TLS with the server Secret's CA.
  core::Result<dbclient::ProbeTarget> clientTarget(const api::MySQL& my, std::string* certPem);
  // A group's members as each says of itself ("ONLINE PRIMARY", …, or why it could not be asked).
  std::map<std::string, std::string> memberStates(const api::MySQL& my, const dbclient::ProbeTarget& t);
  core::Result<ReconcileResult> conclude(const ops::AfterStep& after);
};

core::Result<bool> OpsReconciler::Run::podsCurrent() {
  auto sts = self.cli_.get(kube::kStatefulSets, f.ns, api::statefulSetName(f.db));
  if (!sts && sts.error().is(core::ErrorCode::kNotFound)) return true;
  if (!sts) return sts.error();
  const std::string revision = sts->value("status", Json::object()).value("updateRevision", "");
  auto items = listOfDatabase(kube::kPods);
  if (!items) return items.error();
  for (const auto& p : ops::databasePods(*items, f.db)) {
    if (p.revision != revision) return false;
  }
  return true;
}

core::Result<std::optional<ReconcileResult>> OpsReconciler::Run::start() {
  ops::StartFacts s{&r, self.c_.requests->list(f.ns), self.licence_.state(), std::nullopt};
  if (ops::mayBeNothingToDo(f)) {
    auto current = podsCurrent();
    if (!current) return current.error();
    s.podsCurrent = *current;
  }
  const ops::StartPlan p = ops::planStart(f, s);
  auto ended = [](core::Result<ReconcileResult> res) -> core::Result<std::optional<ReconcileResult>> {
    if (!res) return res.error();
    return std::optional<ReconcileResult>(*res);
  };
  switch (p.kind) {
    case ops::StartPlan::Kind::kPending:
      return ended(pending(p));
    case ops::StartPlan::Kind::kFail:
      return ended(finishFailed(p.reason, p.message));
    case ops::StartPlan::Kind::kSkip:
      return ended(finish(api::kOpsSkipped, api::kOpsCondSkipped, p.reason, p.message, false, p.eventMessage));
    case ops::StartPlan::Kind::kStart:
      break;
  }
  auto st = write([&](Json& status) {
    status["phase"] = api::kOpsProgressing;
    status["observedGeneration"] = gen;
    status["startTime"] = core::formatTime(now);
    kube::removeCondition(status["conditions"], api::kOpsCondWaiting);
    kube::setCondition(status["conditions"], cond(api::kOpsCondProgressing, true, p.reason, p.message), now);
  });
  if (!st) return st.error();
  event(false, p.eventReason, p.eventMessage);
  self.log_.info("ops request started", {{"namespace", f.ns}, {"name", f.name}, {"type", std::string(api::toString(f.op->type))}});
  return std::nullopt;
}

// The steps in order; the first that does not go on decides.
core::Result<ops::StepPlan> OpsReconciler::Run::steps() {
  using Step = std::function<core::Result<ops::StepPlan>()>;
  const std::vector<Step> all = {
      [&] { return apply(ops::planPause(f)); },
      [&] { return apply(ops::planSpec(f)); },
      [&] { return apply(ops::planRotation(f, certificates())); },
      [&] { return apply(ops::planSync(f, certificates())); },
      [&] { return podsStep(); },
      [&]() -> core::Result<ops::StepPlan> {
        if (f.progress.done(api::kOpsCondDBReady)) return ops::StepPlan{};
        auto v = verifyFacts();
        if (!v) return v.error();
        return apply(ops::planVerified(f, *v));
      },
      [&]() -> core::Result<ops::StepPlan> {
        if (!f.reconfigure() || f.progress.done(api::kOpsCondCleanedUp)) return ops::StepPlan{};
        auto secrets = listOfDatabase(kube::kSecrets);
        if (!secrets) return secrets.error();
        return apply(ops::planCleanup(f, *secrets));
      },
  };
  for (const auto& step : all) {
    auto outcome = step();
    if (!outcome || outcome->then != ops::StepPlan::Then::kNext) return outcome;
  }
  return ops::StepPlan{};
}

ops::Certificates OpsReconciler::Run::certificates() const {
  ops::Certificates out;
  for (const auto& alias : api::tlsAliases()) {
    const std::string name = api::certificateName(f.db, alias);
    if (auto c = self.c_.certificates->get(f.ns, name)) out[name] = c;
  }
  return out;
}

core::Result<ops::StepPlan> OpsReconciler::Run::podsStep() {
  if (f.progress.done(api::kOpsCondRestart) || f.progress.done(api::kOpsCondDBReady)) return ops::StepPlan{};
  auto sts = self.cli_.get(kube::kStatefulSets, f.ns, api::statefulSetName(f.db));
  if (!sts && !sts.error().is(core::ErrorCode::kNotFound)) return sts.error();
  ops::PodsFacts in;
  if (sts) {
    in.statefulSet = &*sts;
    auto pods = listOfDatabase(kube::kPods);
    if (!pods) return pods.error();
    in.pods = std::move(*pods);
  }
  auto my = api::parseMySQL(*mysql);
  if (sts && my && my->isGroup()) {
    api::setDefaults(*my);
    auto t = clientTarget(*my, nullptr);
    in.members = t ? memberStates(*my, *t) : std::map<std::string, std::string>{{api::podName(f.db, 0), t.error().message}};
  }
  return apply(ops::planPods(f, in));
}

core::Result<dbclient::ProbeTarget> OpsReconciler::Run::clientTarget(const api::MySQL& my, std::string* certPem) {
  auto auth = self.cli_.get(kube::kSecrets, f.ns, my.effectiveAuthSecretName());
  if (!auth) return core::unavailable(fmt::format("reading Secret {}/{}: {}", f.ns, my.effectiveAuthSecretName(), auth.error().message));
  dbclient::ProbeTarget t;
  t.user = kube::secretValue(*auth, "username").value_or("root");
  if (t.user.empty()) t.user = "root";
  t.password = kube::secretValue(*auth, "password").value_or("");
  t.timeout = self.opts_.probeTimeout;
  if (my.tls) {
    const std::string secretName = my.certSecretName(std::string(api::kAliasServer));
    auto server = self.cli_.get(kube::kSecrets, f.ns, secretName);
    if (!server) return core::unavailable(fmt::format("reading Secret {}/{}: {}", f.ns, secretName, server.error().message));
    if (certPem) *certPem = kube::secretValue(*server, "tls.crt").value_or("");
    std::string trust = kube::secretValue(*server, "ca.crt").value_or("");
    // The database's trust bundle (the community operator's, owned by the MySQL): during a CA
    // rotation a pod may still serve a certificate of the former CA, which the bundle keeps.
    auto bundle = self.cli_.get(kube::kSecrets, f.ns, api::trustBundleSecretName(my.name));
    if (bundle && kube::isOwnedBy(*bundle, my.uid)) {
      if (!trust.empty() && trust.back() != '\n') trust += '\n';
      trust += kube::secretValue(*bundle, "ca.crt").value_or("");
    } else if (!bundle && !bundle.error().is(core::ErrorCode::kNotFound)) {
      return core::unavailable(fmt::format("reading Secret {}/{}: {}", f.ns, api::trustBundleSecretName(my.name), bundle.error().message));
    }
    t.tls = dbclient::ProbeTls{std::move(trust), true};
  }
  return t;
}

std::map<std::string, std::string> OpsReconciler::Run::memberStates(const api::MySQL& my, const dbclient::ProbeTarget& base) {
  std::map<std::string, std::string> out;
  for (int64_t i = 0; i < my.replicas; ++i) {
    dbclient::ProbeTarget t = base;
    t.host = self.opts_.podHost(f.db, f.ns, static_cast<int>(i));
    auto v = self.opts_.query(t, "SELECT CONCAT(MEMBER_STATE, ' ', MEMBER_ROLE) FROM performance_schema.replication_group_members "
                                 "WHERE MEMBER_ID = @@server_uuid");
    out[api::podName(f.db, static_cast<int>(i))] = v ? v->value_or("NULL") : v.error().message;
  }
  return out;
}

core::Result<ops::VerifyFacts> OpsReconciler::Run::verifyFacts() {
  ops::VerifyFacts v;
  auto my = api::parseMySQL(*mysql);
  if (!my) {
    std::string errors;
    for (const auto& e : my.error()) errors += (errors.empty() ? "" : "; ") + e.toString();
    v.specError = errors;
    return v;
  }
  api::setDefaults(*my);
  if (!f.reconfigure()) return v;
  auto why = probePods(*my);
  if (!why) return why.error();
  v.notVerified = *why;
  return v;
}

// Each pod asked in turn, as a client would; the first that is not as asked stops the round.
core::Result<std::optional<std::string>> OpsReconciler::Run::probePods(const api::MySQL& my) {
  std::string certPem;
  auto target = clientTarget(my, &certPem);
  if (!target) return target.error().message;
  dbclient::ProbeTarget t = *target;
  for (int64_t i = 0; i < my.replicas; ++i) {
    ops::PodProbe probe{api::podName(f.db, static_cast<int>(i)), std::nullopt, "", std::nullopt, std::nullopt};
    t.host = self.opts_.podHost(f.db, f.ns, static_cast<int>(i));
    if (my.tls) {
      auto served = self.opts_.fetchServed(t.host, api::kMySQLPort, self.opts_.probeTimeout);
      if (served) probe.servedPem = *served;
      if (!served) probe.fetchError = served.error().message;
      probe.groupMember = my.isGroup();
      if (probe.groupMember && !probe.fetchError) {
        auto group = self.opts_.fetchGroupServed(t.host, api::kGroupPort, self.opts_.probeTimeout);
        if (group) probe.groupPem = *group;
        if (!group) probe.groupFetchError = group.error().message;
      }
    }
    if (!probe.fetchError) {
      auto v = self.opts_.query(t, "SELECT @@GLOBAL.require_secure_transport");
      if (v) probe.requireSecureTransport = *v;
      if (!v) probe.queryError = v.error().message;
    }
    if (auto why = ops::podNotVerified(probe, my.tls.has_value(), my.requireSSL, certPem)) return why;
  }
  return std::optional<std::string>{};
}

// The plan's writes in order; the first error stops them (the next reconcile plans again).
core::Result<ops::StepPlan> OpsReconciler::Run::apply(ops::StepPlan plan) {
  for (const auto& w : plan.writes) {
    auto applied = applyWrite(w);
    if (!applied) return applied.error();
    if (*applied) return **applied;
  }
  return plan;
}

core::Result<std::optional<ops::StepPlan>> OpsReconciler::Run::applyWrite(const ops::Write& w) {
  core::Status st;
  if (const auto* c = std::get_if<ops::SetCondition>(&w)) {
    st = setCondition(cond(c->type, c->ok, c->reason, c->message));
  } else if (const auto* e = std::get_if<ops::Announce>(&w)) {
    event(e->warning, e->reason, e->message);
  } else if (const auto* rec = std::get_if<ops::RecordRevisions>(&w)) {
    st = write([&](Json& s) { s["certificateRevisions"] = rec->revisions; });
  } else if (std::holds_alternative<ops::PauseDatabase>(w)) {
    st = annotate(true);
    if (st) st = pausedCondition(*mysql, true);
  } else if (const auto* u = std::get_if<ops::UpdateDatabaseSpec>(&w)) {
    return updateSpec(*u);
  } else if (const auto* t = std::get_if<ops::TriggerIssuance>(&w)) {
    st = triggerIssuance(*t);
  } else if (const auto* p = std::get_if<ops::DeletePod>(&w)) {
    kube::DeleteOptions del;
    del.preconditionUid = p->uid;
    auto gone = self.cli_.remove(kube::kPods, f.ns, p->name, del);
    if (!gone && !gone.error().is(core::ErrorCode::kNotFound) && !gone.error().is(core::ErrorCode::kConflict)) return gone.error();
  } else if (const auto* s = std::get_if<ops::DeleteSecret>(&w)) {
    kube::DeleteOptions del;
    del.preconditionUid = s->uid;
    auto gone = self.cli_.remove(kube::kSecrets, f.ns, s->name, del);
    if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
  }
  if (!st) return st.error();
  return std::optional<ops::StepPlan>{};
}

// The MySQL's spec as asked, derived again from the live object on a conflict.
core::Result<std::optional<ops::StepPlan>> OpsReconciler::Run::updateSpec(const ops::UpdateDatabaseSpec& u) {
  auto failed = [](std::string_view reason, std::string why) {
    return std::optional<ops::StepPlan>{ops::StepPlan{ops::StepPlan::Then::kFail, {}, std::move(why), std::string(reason)}};
  };
  for (int attempt = 0;; ++attempt) {
    auto live = self.cli_.get(api::mysqlResource(), f.ns, f.db);
    if (!live) return live.error();
    auto spec = api::reconfiguredSpec(*live, *f.op->tls);
    if (!spec) {
      std::string errors;
      for (const auto& e : spec.error()) errors += (errors.empty() ? "" : "; ") + e.toString();
      return failed(api::kOpsReasonInvalid, "the MySQL cannot be reconfigured as asked: " + errors);
    }
    if (*spec == live->value("spec", Json::object())) return std::optional<ops::StepPlan>{};
    (*live)["spec"] = *spec;
    auto up = self.cli_.update(api::mysqlResource(), *live);
    if (up) {
      const std::string msg = fmt::format("Successfully {} MySQL {} (generation {})", u.what, f.dbKey(), kube::generation(*up));
      event(false, u.reason, msg);
      if (auto st = setCondition(cond(api::kOpsCondSpecUpdated, true, u.reason, msg)); !st) return st.error();
      return std::optional<ops::StepPlan>{};
    }
    if (up.error().is(core::ErrorCode::kInvalid)) return failed(api::kOpsReasonStepFailed, "updating the MySQL spec: " + up.error().message);
    if (!up.error().is(core::ErrorCode::kConflict) || attempt >= 4) return up.error();
  }
}

core::Status OpsReconciler::Run::triggerIssuance(const ops::TriggerIssuance& t) {
  auto w = runtime::updateStatus(self.cli_, api::certificateResource(), f.ns, t.certificate, [&](Json& live) {
    auto issuing = kube::findStatusCondition(live, "Issuing");
    auto latest = api::parseCertificateStatus(live);
    if ((issuing && issuing->status == kube::kConditionTrue) || (latest && latest->revision > t.revisionBefore)) return false;
    return kube::setStatusCondition(live, {"Issuing", "True", "ManuallyTriggered",
                                          fmt::format("Certificate re-issuance manually triggered by MySQLOpsRequest {}", f.key()),
                                          kube::generation(live), ""},
                                    now);
  });
  if (!w) return w.error();
  return {};
}

core::Result<ReconcileResult> OpsReconciler::Run::conclude(const ops::AfterStep& after) {
  switch (after.kind) {
    case ops::AfterStep::Kind::kError:
      return core::internal(after.message);
    case ops::AfterStep::Kind::kFail:
      return finishFailed(after.reason, after.message);
    case ops::AfterStep::Kind::kSucceed:
      return finish(api::kOpsSuccessful, api::kOpsCondSuccessful, after.reason, after.message, false, after.message);
    case ops::AfterStep::Kind::kWait:
      break;
  }
  if (after.waiting) {
    if (auto st = setCondition(cond(api::kOpsCondWaiting, true, api::kOpsReasonInProgress, *after.waiting)); !st) return st.error();
    self.log_.info("ops request waits", {{"namespace", f.ns}, {"name", f.name}, {"detail", *after.waiting}});
  }
  ReconcileResult out;
  out.requeueAfter = after.requeueAfter;
  return out;
}

core::Result<ReconcileResult> OpsReconciler::resumeOrphaned(const runtime::Request& req) {
  // A request deleted while it ran: its MySQL is resumed (found by the marker that names it).
  for (const auto& mysql : c_.mysqls->list(req.namespace_)) {
    if (api::pausedBy(*mysql) != req.name) continue;
    Run run{*this, Json{{"metadata", {{"name", req.name}, {"namespace", req.namespace_}}}}, {}, clock_.now(), 0, mysql};
    run.f.ns = req.namespace_;
    run.f.name = req.name;
    run.f.db = kube::name(*mysql);
    if (auto st = run.resume(); !st) return st.error();
    log_.info("resumed a MySQL whose ops request was deleted", {{"namespace", req.namespace_}, {"name", kube::name(*mysql)},
                                                               {"request", req.name}});
  }
  return ReconcileResult{};
}

core::Result<ReconcileResult> OpsReconciler::reconcile(const runtime::Request& req, std::stop_token) {
  auto obj = c_.requests->get(req.key());
  if (!obj) return resumeOrphaned(req);
  Run run{*this, *obj, {}, clock_.now(), kube::generation(*obj), nullptr};
  run.f.ns = req.namespace_;
  run.f.name = req.name;
  run.f.db = databaseOf(*obj);
  run.f.progress.status = obj->value("status", Json::object());
  // Never run again; only make sure its database is not left paused.
  if (api::isFinished(run.status().value("phase", ""))) {
    if (auto st = run.resume(); !st) return st.error();
    return ReconcileResult{};
  }
  auto parsed = api::parseOpsRequest(*obj);
  std::optional<std::string> parseErrors;
  if (!parsed) {
    parseErrors = "";
    for (const auto& e : parsed.error()) *parseErrors += (parseErrors->empty() ? "" : "; ") + e.toString();
  }
  run.mysql = parsed ? c_.mysqls->get(req.namespace_, parsed->database) : nullptr;
  if (auto refused = ops::admit(*obj, parseErrors, run.mysql)) return run.finishFailed(refused->reason, refused->message);
  run.f.op = &*parsed;
  run.f.mysql = run.mysql.get();
  if (run.status().value("phase", "") != api::kOpsProgressing) {
    auto started = run.start();
    if (!started) return started.error();
    if (*started) return **started;
  }
  auto outcome = run.steps();
  if (!outcome && outcome.error().is(core::ErrorCode::kConflict)) return outcome.error();  // requeued
  std::optional<std::string> error;
  if (!outcome) error = outcome.error().message;
  auto after = ops::planAfterStep(run.f, outcome ? *outcome : ops::StepPlan{}, error, run.now, opts_.poll);
  if (after.kind == ops::AfterStep::Kind::kError) return outcome.error();
  return run.conclude(after);
}

}  // namespace mysqlop::enterprise
