#include "enterprise-operator/controller/ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/api/catalog.h"
#include "common/api/cert_manager.h"
#include "common/api/conditions.h"
#include "common/api/naming.h"
#include "common/api/ops_request.h"
#include "common/core/time_format.h"
#include "common/kube/conditions.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "common/mysql/served_certificate.h"
#include "common/pki/pki.h"
#include "common/runtime/writes.h"
#include "enterprise-operator/controller/ops_steps.h"

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

std::string joinErrors(const api::FieldErrors& errs) {
  std::string out;
  for (const auto& e : errs) out += (out.empty() ? "" : "; ") + e.toString();
  return out;
}

// The leaf certificate of a PEM bundle, re-encoded (so two encodings of one certificate compare equal).
std::optional<pki::Certificate> leaf(const std::string& pem) {
  auto chain = pki::parseCertificateChain(pem);
  if (!chain || chain->empty()) return std::nullopt;
  return chain->front();
}

std::string human(std::chrono::milliseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 120) return fmt::format("{}s", s);
  return fmt::format("{}m{}s", s / 60, s % 60);
}

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
  if (!opts_.query) opts_.query = dbclient::queryValue;
  if (!opts_.podHost) {
    opts_.podHost = [](const std::string& db, const std::string& ns, int i) { return api::podHost(db, ns, i); };
  }
}

// One reconcile of one request: what it is, where it stands, and the step it takes.
struct OpsReconciler::Run {
  OpsReconciler& self;
  Json r;  // the request, as cached
  std::string ns, name, db;
  core::WallTime now;
  Json status;
  int64_t gen = 0;

  // What a step says: go on, wait (and why), or fail (and why).
  struct Outcome {
    enum class Kind { kNext, kWait, kFail } kind = Kind::kNext;
    std::string message;
    std::string reason;
  };
  static Outcome next() { return {}; }
  static Outcome wait(std::string why) { return {Outcome::Kind::kWait, std::move(why), ""}; }
  static Outcome fail(std::string_view reason, std::string why) { return {Outcome::Kind::kFail, std::move(why), std::string(reason)}; }

  std::string key() const { return ns + "/" + name; }
  std::string dbKey() const { return ns + "/" + db; }
  bool done(std::string_view type) const {
    auto c = kube::findCondition(status.value("conditions", Json::array()), type);
    return c && c->status == kube::kConditionTrue;
  }
  bool has(std::string_view type) const { return kube::findCondition(status.value("conditions", Json::array()), type).has_value(); }

  kube::Condition cond(std::string_view type, bool ok, std::string_view reason, std::string message) const {
    return {std::string(type), ok ? "True" : "False", std::string(reason), std::move(message), gen, ""};
  }
  // Writes the request's status (nothing when `mutate` changes nothing); `status` follows.
  core::Status write(const std::function<void(Json&)>& mutate) {
    auto w = runtime::writeStatus(self.cli_, api::opsRequestResource(), r, mutate);
    if (!w) return w.error();
    Json next = status;
    mutate(next);
    status = std::move(next);
    r["status"] = status;
    return {};
  }
  core::Status setCondition(const kube::Condition& c) {
    return write([&](Json& st) { kube::setCondition(st["conditions"], c, now); });
  }
  void event(bool warning, const std::string& reason, const std::string& message) {
    self.events_.event(r, warning ? runtime::kEventWarning : runtime::kEventNormal, reason, message);
  }

  // The database's pods, as the API has them now (labelled with its selector).
  core::Result<std::vector<Json>> pods() {
    kube::ListOptions lo;
    lo.labelSelector = kube::LabelSelector::fromMap(api::selectorLabels(db)).toString();
    auto list = self.cli_.list(kube::kPods, ns, lo);
    if (!list) return list.error();
    std::vector<Json> items;
    for (const auto& p : list->value("items", Json::array())) items.push_back(p);
    return items;
  }

  // --- the pause marker on the MySQL ------------------------------------------------------------
  // Sets or clears the annotation on the live MySQL (re-read on a conflict).
  core::Status annotate(bool paused) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto live = self.cli_.get(api::mysqlResource(), ns, db);
      if (!live && live.error().is(core::ErrorCode::kNotFound) && !paused) return {};
      if (!live) return live.error();
      if ((api::pausedBy(*live) == name) == paused) return {};
      if (paused) {
        kube::setAnnotation(*live, api::kAnnotationPausedBy, name);
      } else {
        kube::removeAnnotation(*live, api::kAnnotationPausedBy);
      }
      auto up = self.cli_.update(api::mysqlResource(), *live);
      if (up) return {};
      if (!up.error().is(core::ErrorCode::kConflict)) return up.error();
    }
    return core::Error(core::ErrorCode::kConflict, "the MySQL kept changing while its pause marker was written");
  }
  core::Status pausedCondition(const Json& mysql, bool paused) {
    runtime::ConditionChange change;
    if (paused) {
      change.set.push_back({std::string(api::kCondPaused), "True", std::string(api::kReasonPausedByOpsRequest),
                            fmt::format("paused by MySQLOpsRequest {} ({}): the operators change nothing else until it ends",
                                        key(), r["spec"].value("type", "")),
                            kube::generation(mysql), ""});
    } else {
      change.remove.push_back(std::string(api::kCondPaused));
    }
    auto w = runtime::writeConditions(self.cli_, api::mysqlResource(), mysql, change, now);
    if (!w && !(w.error().is(core::ErrorCode::kNotFound) && !paused)) return w.error();
    return {};
  }

  // Resumes the MySQL when this request paused it (the condition first, then the annotation that
  // the community operator reads: a crash between the two is finished by the next reconcile).
  core::Status resume() {
    auto mysql = self.c_.mysqls->get(ns, db);
    const bool marked = mysql && api::pausedBy(*mysql) == name;
    auto paused = mysql ? kube::findStatusCondition(*mysql, api::kCondPaused) : std::nullopt;
    const bool ours = paused && paused->message.find("MySQLOpsRequest " + key() + " ") != std::string::npos;
    if (!marked && !ours) return {};
    if (auto st = pausedCondition(*mysql, false); !st) return st;
    if (auto st = annotate(false); !st) return st;
    if (has(api::kOpsCondPaused) && !done(api::kOpsCondResumed)) {
      event(false, "Resuming", fmt::format("Resuming MySQL database {}", dbKey()));
      return setCondition(cond(api::kOpsCondResumed, true, api::kOpsReasonResumed,
                               fmt::format("Successfully resumed MySQL {}", dbKey())));
    }
    return {};
  }

  // --- the end ---------------------------------------------------------------------------------
  core::Result<ReconcileResult> finishFailed(std::string_view reason, const std::string& message) {
    auto st = write([&](Json& s) {
      s["phase"] = api::kOpsFailed;
      s["observedGeneration"] = gen;
      kube::setCondition(s["conditions"], cond(api::kOpsCondFailed, true, reason, message), now);
      kube::removeCondition(s["conditions"], api::kOpsCondWaiting);
    });
    if (!st) return st.error();
    event(true, std::string(reason), message);
    self.log_.warn("ops request failed", {{"namespace", ns}, {"name", name}, {"reason", std::string(reason)}, {"detail", message}});
    if (auto rs = resume(); !rs) return rs.error();
    return ReconcileResult{};
  }
  core::Result<ReconcileResult> finishSuccessful(const std::string& message) {
    auto st = write([&](Json& s) {
      s["phase"] = api::kOpsSuccessful;
      s["observedGeneration"] = gen;
      kube::setCondition(s["conditions"], cond(api::kOpsCondSuccessful, true, api::kOpsReasonSuccessful, message), now);
      kube::removeCondition(s["conditions"], api::kOpsCondWaiting);
    });
    if (!st) return st.error();
    event(false, "Successful", message);
    if (auto rs = resume(); !rs) return rs.error();
    return ReconcileResult{};
  }
  core::Result<ReconcileResult> pending(std::string_view reason, const std::string& message) {
    auto before = kube::findCondition(status.value("conditions", Json::array()), api::kOpsCondWaiting);
    auto st = write([&](Json& s) {
      s["phase"] = api::kOpsPending;
      s["observedGeneration"] = gen;
      kube::setCondition(s["conditions"], cond(api::kOpsCondWaiting, true, reason, message), now);
    });
    if (!st) return st.error();
    if (!before || before->reason != reason) event(false, std::string(reason), message);
    ReconcileResult out;
    out.requeueAfter = self.opts_.pendingPoll;
    return out;
  }
};

core::Result<ReconcileResult> OpsReconciler::resumeOrphaned(const runtime::Request& req) {
  // A request deleted while it ran: its MySQL is resumed (found by the marker that names it).
  for (const auto& mysql : c_.mysqls->list(req.namespace_)) {
    if (api::pausedBy(*mysql) != req.name) continue;
    Run run{*this, Json{{"metadata", {{"name", req.name}, {"namespace", req.namespace_}}}}, req.namespace_, req.name,
            kube::name(*mysql), clock_.now(), Json::object(), 0};
    if (auto st = run.resume(); !st) return st.error();
    log_.info("resumed a MySQL whose ops request was deleted", {{"namespace", req.namespace_}, {"name", kube::name(*mysql)},
                                                               {"request", req.name}});
  }
  return ReconcileResult{};
}

core::Result<ReconcileResult> OpsReconciler::reconcile(const runtime::Request& req, std::stop_token stop) {
  auto obj = c_.requests->get(req.key());
  if (!obj) return resumeOrphaned(req);
  Run run{*this, *obj, req.namespace_, req.name, databaseOf(*obj), clock_.now(), obj->value("status", Json::object()),
          kube::generation(*obj)};
  const std::string phase = run.status.value("phase", "");
  if (api::isFinished(phase)) {
    // Never run again; only make sure its database is not left paused.
    if (auto st = run.resume(); !st) return st.error();
    return ReconcileResult{};
  }
  auto parsed = api::parseOpsRequest(*obj);
  if (!parsed) return run.finishFailed(api::kOpsReasonInvalid, "The MySQLOpsRequest is invalid: " + joinErrors(parsed.error()));
  const api::OpsRequest& op = *parsed;
  auto mysql = c_.mysqls->get(req.namespace_, op.database);
  const bool started = phase == api::kOpsProgressing;
  if (!mysql || kube::isBeingDeleted(*mysql)) {
    return run.finishFailed(api::kOpsReasonDatabaseNotFound,
                            fmt::format("spec.databaseRef.name: MySQL {} {}", run.dbKey(), mysql ? "is being deleted" : "does not exist"));
  }
  if (started && run.gen != run.status.value("observedGeneration", run.gen)) {
    // Changed after it started: half of one operation and half of another would be neither.
    return run.finishFailed(api::kOpsReasonInvalid,
                            fmt::format("spec changed after the request started (generation {}, started at {}): a "
                                        "request runs once as made; make another MySQLOpsRequest",
                                        run.gen, run.status.value("observedGeneration", int64_t{0})));
  }

  // --- not started: wait or start ---------------------------------------------------------------
  if (!started) {
    if (auto other = ops::waitsFor(*obj, c_.requests->list(run.ns))) {
      return run.pending(api::kOpsReasonWaitingForRequest,
                         fmt::format("waiting for MySQLOpsRequest {}/{} to finish: one operation at a time per database, in "
                                     "creation order",
                                     run.ns, *other));
    }
    if (const std::string by = api::pausedBy(*mysql); !by.empty() && by != run.name) {
      return run.pending(api::kOpsReasonWaitingForRequest,
                         fmt::format("MySQL {} is paused by MySQLOpsRequest {}/{}", run.dbKey(), run.ns, by));
    }
    if (auto lic = licence_.state(); !lic.valid) {
      return run.pending(api::kOpsReasonLicenseInvalid, "No operation runs without a valid licence: " + lic.summary());
    }
    if (op.type == api::OpsType::kReconfigureTLS) {
      auto spec = api::reconfiguredSpec(*mysql, *op.tls);
      if (!spec) {
        return run.finishFailed(api::kOpsReasonInvalid,
                                fmt::format("MySQL {} cannot be reconfigured as asked: {}", run.dbKey(), joinErrors(spec.error())));
      }
      // Nothing to change: the spec already says it and every pod runs the StatefulSet's current
      // template (a template staged by a hand edit or a failed request is not "as asked").
      auto podsCurrent = [&]() -> core::Result<bool> {
        auto sts = cli_.get(kube::kStatefulSets, run.ns, api::statefulSetName(run.db));
        if (!sts && sts.error().is(core::ErrorCode::kNotFound)) return true;
        if (!sts) return sts.error();
        const std::string revision = sts->value("status", Json::object()).value("updateRevision", "");
        auto items = run.pods();
        if (!items) return items.error();
        for (const auto& p : ops::databasePods(*items, run.db)) {
          if (p.revision != revision) return false;
        }
        return true;
      };
      bool unchanged = *spec == mysql->value("spec", Json::object()) && !op.tls->rotateCertificates;
      if (unchanged) {
        auto current = podsCurrent();
        if (!current) return current.error();
        unchanged = *current;
      }
      if (unchanged) {
        auto st = run.write([&](Json& s) {
          s["phase"] = api::kOpsSkipped;
          s["observedGeneration"] = run.gen;
          kube::setCondition(s["conditions"],
                             run.cond(api::kOpsCondSkipped, true, api::kOpsReasonNothingToDo,
                                      fmt::format("MySQL {} already is as asked: nothing to change", run.dbKey())),
                             run.now);
        });
        if (!st) return st.error();
        run.event(false, std::string(api::kOpsReasonNothingToDo), fmt::format("MySQL {} already is as asked", run.dbKey()));
        return ReconcileResult{};
      }
    }
    const std::string dbPhase = mysql->value("status", Json::object()).value("phase", "");
    if (op.apply == api::ApplyPolicy::kIfReady && dbPhase != api::kPhaseReady) {
      return run.pending(api::kOpsReasonWaitingForReady,
                         fmt::format("waiting for MySQL {} to be Ready (it is {}); with apply: Always the request starts at once",
                                     run.dbKey(), dbPhase.empty() ? "not reported yet" : dbPhase));
    }
    const std::string message = fmt::format("Controller has started to Progress the MySQLOpsRequest: {}", run.key());
    auto st = run.write([&](Json& s) {
      s["phase"] = api::kOpsProgressing;
      s["observedGeneration"] = run.gen;
      s["startTime"] = core::formatTime(run.now);
      kube::removeCondition(s["conditions"], api::kOpsCondWaiting);
      kube::setCondition(s["conditions"], run.cond(api::kOpsCondProgressing, true, api::kOpsReasonProgressingStarted, message),
                         run.now);
    });
    if (!st) return st.error();
    run.event(false, "Starting", fmt::format("Start processing {} of MySQL {}", api::toString(op.type), run.dbKey()));
    log_.info("ops request started", {{"namespace", run.ns}, {"name", run.name}, {"type", std::string(api::toString(op.type))}});
  }

  // --- running: the steps in order; the first that is not done decides ------------------------------
  const auto startTime = core::parseTime(run.status.value("startTime", ""));
  using Outcome = Run::Outcome;
  auto step = [&]() -> core::Result<Outcome> {
    // Pause.
    if (!run.done(api::kOpsCondPaused) || api::pausedBy(*mysql) != run.name) {
      if (auto st = run.annotate(true); !st) return st.error();
      if (auto st = run.pausedCondition(*mysql, true); !st) return st.error();
      if (!run.done(api::kOpsCondPaused)) {
        run.event(false, "Pausing", fmt::format("Pausing MySQL database {}", run.dbKey()));
        if (auto st = run.setCondition(run.cond(api::kOpsCondPaused, true, api::kOpsReasonPaused,
                                                fmt::format("Successfully paused MySQL {}", run.dbKey())));
            !st) {
          return st.error();
        }
      }
      return Run::wait("pausing the database");
    }
    const bool reconfigure = op.type == api::OpsType::kReconfigureTLS;
    // The MySQL spec (ReconfigureTLS). Waits until the cache shows it, so that what follows is
    // judged on the new generation.
    if (reconfigure) {
      auto want = api::reconfiguredSpec(*mysql, *op.tls);
      if (!want) return Run::fail(api::kOpsReasonInvalid, "the MySQL cannot be reconfigured as asked: " + joinErrors(want.error()));
      const bool changes = op.tls->remove || op.tls->issuerRef || !op.tls->certificates.empty() || op.tls->requireSSL;
      if (*want != mysql->value("spec", Json::object())) {
        const bool hadTls = mysql->value("spec", Json::object()).contains("tls");
        for (int attempt = 0;; ++attempt) {
          auto live = cli_.get(api::mysqlResource(), run.ns, run.db);
          if (!live) return live.error();
          auto spec = api::reconfiguredSpec(*live, *op.tls);
          if (!spec) return Run::fail(api::kOpsReasonInvalid, "the MySQL cannot be reconfigured as asked: " + joinErrors(spec.error()));
          if (*spec == live->value("spec", Json::object())) break;
          (*live)["spec"] = *spec;
          auto up = cli_.update(api::mysqlResource(), *live);
          if (up) {
            const auto reason = op.tls->remove ? api::kOpsReasonRemovedTLS : hadTls ? api::kOpsReasonUpdatedTLS : api::kOpsReasonAddedTLS;
            const std::string what = op.tls->remove ? "removed the TLS configuration of" : hadTls ? "updated the TLS configuration of" : "added TLS to";
            const std::string msg = fmt::format("Successfully {} MySQL {} (generation {})", what, run.dbKey(), kube::generation(*up));
            run.event(false, std::string(reason), msg);
            if (auto st = run.setCondition(run.cond(api::kOpsCondSpecUpdated, true, reason, msg)); !st) return st.error();
            break;
          }
          if (!up.error().is(core::ErrorCode::kConflict) || attempt >= 4) {
            if (up.error().is(core::ErrorCode::kInvalid)) return Run::fail(api::kOpsReasonStepFailed, "updating the MySQL spec: " + up.error().message);
            return up.error();
          }
        }
        return Run::wait("waiting for the updated MySQL spec");
      }
      if (changes && !run.has(api::kOpsCondSpecUpdated)) {
        if (auto st = run.setCondition(run.cond(api::kOpsCondSpecUpdated, true, api::kOpsReasonUpdatedTLS,
                                                fmt::format("MySQL {} is as asked (generation {})", run.dbKey(), kube::generation(*mysql))));
            !st) {
          return st.error();
        }
      }
    }
    const bool tls = mysql->value("spec", Json::object()).contains("tls");
    // Rotation: each Certificate's revision noted, then cert-manager asked to issue it again.
    std::map<std::string, int64_t> revisionsBefore;
    const Json recorded = run.status.value("certificateRevisions", Json::object());
    for (const auto& [k, v] : recorded.items()) {
      if (v.is_number_integer()) revisionsBefore[k] = v.get<int64_t>();
    }
    if (reconfigure && op.tls->rotateCertificates && tls && !run.done(api::kOpsCondIssuing)) {
      if (revisionsBefore.empty()) {
        Json revisions = Json::object();
        for (const auto& alias : api::tlsAliases()) {
          const std::string cert = api::certificateName(run.db, alias);
          auto c = c_.certificates->get(run.ns, cert);
          std::optional<api::CertificateStatus> st;
          if (c) {
            if (auto parsedStatus = api::parseCertificateStatus(*c)) st = *parsedStatus;
          }
          if (!st || !st->ready.ready) return Run::wait(fmt::format("waiting for Certificate {} to be issued before it is rotated", cert));
          revisions[cert] = st->revision;
        }
        if (auto st = run.write([&](Json& s) { s["certificateRevisions"] = revisions; }); !st) return st.error();
        return Run::wait("noting the Certificates' revisions");
      }
      std::vector<std::string> asked;
      for (const auto& [cert, before] : revisionsBefore) {
        auto c = c_.certificates->get(run.ns, cert);
        if (!c) return Run::wait("waiting for Certificate " + cert);
        auto st = api::parseCertificateStatus(*c);
        auto issuing = kube::findStatusCondition(*c, "Issuing");
        if ((st && st->revision > before) || (issuing && issuing->status == kube::kConditionTrue)) continue;
        auto w = runtime::updateStatus(cli_, api::certificateResource(), run.ns, cert, [&](Json& live) {
          auto i = kube::findStatusCondition(live, "Issuing");
          auto latest = api::parseCertificateStatus(live);
          if ((i && i->status == kube::kConditionTrue) || (latest && latest->revision > before)) return false;
          return kube::setStatusCondition(live, {"Issuing", "True", "ManuallyTriggered",
                                                fmt::format("Certificate re-issuance manually triggered by MySQLOpsRequest {}", run.key()),
                                                kube::generation(live), ""},
                                          run.now);
        });
        if (!w) return w.error();
        asked.push_back(cert);
      }
      const std::string msg = fmt::format("Asked cert-manager to re-issue Certificates {}", [&] {
        std::string all;
        for (const auto& [cert, _] : revisionsBefore) all += (all.empty() ? "" : ", ") + cert;
        return all;
      }());
      run.event(false, "IssuingCertificates", msg);
      if (auto st = run.setCondition(run.cond(api::kOpsCondIssuing, true, api::kOpsReasonIssuingTriggered, msg)); !st) return st.error();
      return Run::wait("waiting for cert-manager to re-issue the Certificates");
    }
    // Certificates synced with the spec.
    if (reconfigure && !run.done(api::kOpsCondCertificateSynced) && !run.done(api::kOpsCondRestart)) {
      std::map<std::string, runtime::ObjectPtr> certs;
      for (const auto& alias : api::tlsAliases()) {
        const std::string cert = api::certificateName(run.db, alias);
        if (auto c = c_.certificates->get(run.ns, cert)) certs[cert] = c;
      }
      if (auto why = ops::certificatesNotSynced(*mysql, certs, revisionsBefore)) return Run::wait(*why);
      if (tls) {
        run.event(false, "CertificateSynced", "Successfully synced all certificates");
        if (auto st = run.setCondition(run.cond(api::kOpsCondCertificateSynced, true, api::kOpsReasonCertificateSynced,
                                                "Successfully synced all certificates"));
            !st) {
          return st.error();
        }
      }
    }
    // The pods: restarted one at a time where the template changed (Restart: all), else reloaded.
    if (!run.done(api::kOpsCondRestart) && !run.done(api::kOpsCondDBReady)) {
      auto sts = cli_.get(kube::kStatefulSets, run.ns, api::statefulSetName(run.db));
      if (!sts && !sts.error().is(core::ErrorCode::kNotFound)) return sts.error();
      if (!sts) return Run::wait(fmt::format("waiting for StatefulSet {}/{}", run.ns, api::statefulSetName(run.db)));
      if (auto why = ops::workloadNotStaged(*mysql, &*sts)) return Run::wait(*why);
      auto listed = run.pods();
      if (!listed) return listed.error();
      const std::vector<Json>& items = *listed;
      const auto pods = ops::databasePods(items, run.db);
      const std::string revision = sts->value("status", Json::object()).value("updateRevision", "");
      const int64_t replicas = sts->value("spec", Json::object()).value("replicas", int64_t{1});
      std::function<bool(const ops::Pod&)> outdated;
      if (reconfigure) {
        outdated = [&](const ops::Pod& p) { return p.revision != revision; };
      } else {
        outdated = [&](const ops::Pod& p) {
          auto created = core::parseTime(p.created);
          return !created || !startTime || *created <= *startTime;
        };
      }
      auto d = ops::nextRestart(pods, replicas, outdated);
      const bool restarting = run.has(api::kOpsCondRestart);
      if (reconfigure && d.outdated == 0 && !restarting) {
        // Only certificates changed: no restart (the reload renewals use brings them; verified below).
      } else if (d.kind == ops::RestartDecision::Kind::kWait) {
        return Run::wait(d.why);
      } else if (d.kind == ops::RestartDecision::Kind::kRestart) {
        auto pod = std::find_if(items.begin(), items.end(), [&](const Json& p) { return kube::name(p) == d.pod; });
        kube::DeleteOptions del;
        del.preconditionUid = kube::uid(*pod);
        auto gone = cli_.remove(kube::kPods, run.ns, d.pod, del);
        if (!gone && !gone.error().is(core::ErrorCode::kNotFound) && !gone.error().is(core::ErrorCode::kConflict)) return gone.error();
        run.event(false, "RestartingPod", fmt::format("Restarting Pod: {}/{}", run.ns, d.pod));
        if (auto st = run.setCondition(run.cond(api::kOpsCondRestart, false, "RestartingPods",
                                                fmt::format("restarting pod {} ({} of {} still to restart)", d.pod, d.outdated, replicas)));
            !st) {
          return st.error();
        }
        return Run::wait(fmt::format("restarting pod {}", d.pod));
      } else {
        const std::string msg = fmt::format("Successfully restarted MySQL pods for MySQLOpsRequest: {}", run.key());
        if (auto st = run.setCondition(run.cond(api::kOpsCondRestart, true, api::kOpsReasonRestarted, msg)); !st) return st.error();
      }
    }
    // Verified as a client would.
    if (!run.done(api::kOpsCondDBReady)) {
      auto my = api::parseMySQL(*mysql);
      if (!my) return Run::fail(api::kOpsReasonStepFailed, "the MySQL's spec cannot be read: " + joinErrors(my.error()));
      api::setDefaults(*my);
      if (reconfigure) {
        auto auth = cli_.get(kube::kSecrets, run.ns, my->effectiveAuthSecretName());
        if (!auth) return Run::wait(fmt::format("reading Secret {}/{}: {}", run.ns, my->effectiveAuthSecretName(), auth.error().message));
        dbclient::ProbeTarget t;
        t.user = kube::secretValue(*auth, "username").value_or("root");
        if (t.user.empty()) t.user = "root";
        t.password = kube::secretValue(*auth, "password").value_or("");
        t.timeout = opts_.probeTimeout;
        std::string caPem, certPem;
        if (my->tls) {
          const std::string secretName = my->certSecretName(std::string(api::kAliasServer));
          auto server = cli_.get(kube::kSecrets, run.ns, secretName);
          if (!server) return Run::wait(fmt::format("reading Secret {}/{}: {}", run.ns, secretName, server.error().message));
          caPem = kube::secretValue(*server, "ca.crt").value_or("");
          certPem = kube::secretValue(*server, "tls.crt").value_or("");
          t.tls = dbclient::ProbeTls{caPem, true};
        }
        auto issued = leaf(certPem);
        for (int64_t i = 0; i < my->replicas; ++i) {
          t.host = opts_.podHost(run.db, run.ns, static_cast<int>(i));
          if (my->tls) {
            if (!issued) return Run::wait("waiting for the server Secret to hold a certificate");
            auto served = opts_.fetchServed(t.host, api::kMySQLPort, opts_.probeTimeout);
            if (!served) return Run::wait(fmt::format("pod {}: {}", api::podName(run.db, static_cast<int>(i)), served.error().message));
            auto got = leaf(*served);
            if (!got || got->toPem() != issued->toPem()) {
              return Run::wait(fmt::format("waiting for pod {} to serve the certificate of its Secret (serial {}; it serves {})",
                                           api::podName(run.db, static_cast<int>(i)), pki::inspect(*issued).serialHex,
                                           got ? pki::inspect(*got).serialHex : std::string("something unreadable")));
            }
          }
          auto v = opts_.query(t, "SELECT @@GLOBAL.require_secure_transport");
          if (!v) return Run::wait(fmt::format("pod {}: {}", api::podName(run.db, static_cast<int>(i)), v.error().message));
          const std::string want = my->tls && my->requireSSL ? "1" : "0";
          if (v->value_or("") != want) {
            return Run::wait(fmt::format("pod {} has require_secure_transport={}, {} was asked", api::podName(run.db, static_cast<int>(i)),
                                         v->value_or("NULL"), want));
          }
        }
      }
      const Json st = mysql->value("status", Json::object());
      if (st.value("phase", "") != api::kPhaseReady || st.value("observedGeneration", int64_t{0}) < kube::generation(*mysql)) {
        return Run::wait(fmt::format("waiting for MySQL {} to be Ready (it is {})", run.dbKey(), st.value("phase", "not reported")));
      }
      if (reconfigure && tls && !run.has(api::kOpsCondRestart) && !run.done(api::kOpsCondReload)) {
        if (auto s = run.setCondition(run.cond(api::kOpsCondReload, true, api::kOpsReasonReloaded,
                                               "Every pod serves the certificates in their Secrets, reloaded without a restart"));
            !s) {
          return s.error();
        }
      }
      const std::string msg = reconfigure ? fmt::format("Successfully reconfigured MySQL TLS for MySQLOpsRequest: {}", run.key())
                                          : fmt::format("Successfully restarted MySQL {} for MySQLOpsRequest: {}", run.dbKey(), run.key());
      if (auto s = run.setCondition(run.cond(api::kOpsCondDBReady, true,
                                             reconfigure ? api::kOpsReasonReconfiguredTLS : api::kOpsReasonRestartedDatabase, msg));
          !s) {
        return s.error();
      }
    }
    // TLS Secrets no longer used (TLS removed, or an entry now names another Secret): ours go.
    if (reconfigure && !run.done(api::kOpsCondCleanedUp)) {
      auto my = api::parseMySQL(*mysql);
      std::set<std::string> inUse;
      if (my) {
        api::setDefaults(*my);
        if (my->tls) {
          for (const auto& alias : api::tlsAliases()) inUse.insert(my->certSecretName(alias));
          inUse.insert(api::exporterConfigSecretName(run.db));
        }
      }
      std::set<std::string> ourCertificates;
      for (const auto& alias : api::tlsAliases()) ourCertificates.insert(api::certificateName(run.db, alias));
      kube::ListOptions lo;
      lo.labelSelector = kube::LabelSelector::fromMap(api::selectorLabels(run.db)).toString();
      auto secrets = cli_.list(kube::kSecrets, run.ns, lo);
      if (!secrets) return secrets.error();
      std::vector<std::string> removed;
      for (const auto& s : secrets->value("items", Json::array())) {
        const std::string n = kube::name(s);
        if (inUse.count(n) || !kube::isOwnedBy(s, kube::uid(*mysql))) continue;
        const bool issued = ourCertificates.count(kube::annotation(s, "cert-manager.io/certificate-name").value_or(""));
        auto controller = kube::controllerOf(s);
        const bool exporterConfig = n == api::exporterConfigSecretName(run.db) && controller && controller->uid == kube::uid(*mysql);
        if (!issued && !exporterConfig) continue;
        kube::DeleteOptions del;
        del.preconditionUid = kube::uid(s);
        auto gone = cli_.remove(kube::kSecrets, run.ns, n, del);
        if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
        removed.push_back(n);
      }
      if (!removed.empty() || !tls) {
        std::string list;
        for (const auto& n : removed) list += (list.empty() ? "" : ", ") + n;
        const std::string msg = removed.empty() ? "No TLS Secret was left to remove"
                                                : fmt::format("Removed Secrets {} (no longer used by MySQL {})", list, run.dbKey());
        if (!removed.empty()) run.event(false, "RemovedSecrets", msg);
        if (auto st = run.setCondition(run.cond(api::kOpsCondCleanedUp, true, api::kOpsReasonCleanedUp, msg)); !st) return st.error();
      }
    }
    return Run::next();
  };

  auto outcome = step();
  if (!outcome && outcome.error().is(core::ErrorCode::kConflict)) return outcome.error();  // requeued
  const auto elapsed = startTime ? std::chrono::duration_cast<std::chrono::milliseconds>(run.now - *startTime) : std::chrono::milliseconds(0);
  const bool timedOut = op.timeout && elapsed > *op.timeout;
  if (!outcome) {
    if (!timedOut) return outcome.error();
    return run.finishFailed(api::kOpsReasonTimeout, fmt::format("did not finish within {} (spec.timeout): {}", human(*op.timeout),
                                                                outcome.error().message));
  }
  switch (outcome->kind) {
    case Outcome::Kind::kFail:
      return run.finishFailed(outcome->reason, outcome->message);
    case Outcome::Kind::kWait: {
      if (timedOut) {
        return run.finishFailed(api::kOpsReasonTimeout,
                                fmt::format("did not finish within {} (spec.timeout): {}", human(*op.timeout), outcome->message));
      }
      // What it waits for, in the status (kubectl describe), written only when that changes.
      if (auto w = kube::findCondition(run.status.value("conditions", Json::array()), api::kOpsCondWaiting);
          !w || w->message != outcome->message || w->reason != api::kOpsReasonInProgress) {
        if (auto st = run.setCondition(run.cond(api::kOpsCondWaiting, true, api::kOpsReasonInProgress, outcome->message)); !st) {
          return st.error();
        }
        log_.info("ops request waits", {{"namespace", run.ns}, {"name", run.name}, {"detail", outcome->message}});
      }
      ReconcileResult out;
      out.requeueAfter = opts_.poll;
      if (op.timeout) out.requeueAfter = std::min(opts_.poll, std::max(std::chrono::milliseconds(1), *op.timeout - elapsed));
      return out;
    }
    case Outcome::Kind::kNext:
      break;
  }
  (void)stop;
  return run.finishSuccessful(op.type == api::OpsType::kRestart
                                  ? fmt::format("Controller has successfully restarted the MySQL {}", run.dbKey())
                                  : fmt::format("Controller has successfully reconfigured TLS of the MySQL {}", run.dbKey()));
}

}  // namespace mysqlop::enterprise
