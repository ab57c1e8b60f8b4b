#include "enterprise-operator/controller/ops_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/api/cert_manager.h"
#include "common/api/conditions.h"
#include "common/api/events.h"
#include "common/api/mysql.h"
#include "common/api/naming.h"
#include "common/core/time_format.h"
#include "common/kube/object.h"
#include "common/pki/pki.h"

namespace mysqlop::enterprise::ops {

namespace {

std::string joinErrors(const api::FieldErrors& errs) {
  std::string out;
  for (const auto& e : errs) out += (out.empty() ? "" : "; ") + e.toString();
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

StepPlan next(std::vector<Write> writes = {}) { return {StepPlan::Then::kNext, std::move(writes), "", ""}; }
StepPlan wait(std::string why, std::vector<Write> writes = {}) { return {StepPlan::Then::kWait, std::move(writes), std::move(why), ""}; }
StepPlan fail(std::string_view reason, std::string why) { return {StepPlan::Then::kFail, {}, std::move(why), std::string(reason)}; }

// The leaf certificate of a PEM bundle, re-encoded (so two encodings of one certificate compare equal).
std::optional<std::string> leafPem(const std::string& pem) {
  auto chain = pki::parseCertificateChain(pem);
  if (!chain || chain->empty()) return std::nullopt;
  return chain->front().toPem();
}

std::string serialOf(const std::string& pem) {
  auto chain = pki::parseCertificateChain(pem);
  if (!chain || chain->empty()) return "something unreadable";
  return pki::inspect(chain->front()).serialHex;
}

}  // namespace

// --- progress ------------------------------------------------------------------------------------
std::optional<kube::Condition> Progress::condition(std::string_view type) const {
  return kube::findCondition(status.value("conditions", Json::array()), type);
}
bool Progress::done(std::string_view type) const {
  auto c = condition(type);
  return c && c->status == kube::kConditionTrue;
}
bool Progress::has(std::string_view type) const { return condition(type).has_value(); }
std::map<std::string, int64_t> Progress::revisionsBefore() const {
  std::map<std::string, int64_t> out;
  const Json recorded = status.value("certificateRevisions", Json::object());
  for (const auto& [k, v] : recorded.items()) {
    if (v.is_number_integer()) out[k] = v.get<int64_t>();
  }
  return out;
}

bool Facts::tls() const { return mysql->value("spec", Json::object()).contains("tls"); }

std::string human(std::chrono::milliseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 120) return fmt::format("{}s", s);
  return fmt::format("{}m{}s", s / 60, s % 60);
}

// --- before any step ---------------------------------------------------------------------------
std::optional<Failure> admit(const Json& request, const std::optional<std::string>& parseErrors, const runtime::ObjectPtr& mysql) {
  if (parseErrors) return Failure{std::string(api::kOpsReasonInvalid), "The MySQLOpsRequest is invalid: " + *parseErrors};
  const Json* db = kube::find(request, {"spec", "databaseRef", "name"});
  const std::string dbKey = kube::namespaceOf(request) + "/" + (db && db->is_string() ? db->get<std::string>() : "");
  if (!mysql || kube::isBeingDeleted(*mysql)) {
    return Failure{std::string(api::kOpsReasonDatabaseNotFound),
                   fmt::format("spec.databaseRef.name: MySQL {} {}", dbKey, mysql ? "is being deleted" : "does not exist")};
  }
  const Json status = request.value("status", Json::object());
  const int64_t gen = kube::generation(request);
  if (status.value("phase", "") == api::kOpsProgressing && gen != status.value("observedGeneration", gen)) {
    // Changed after it started: half of one operation and half of another would be neither.
    return Failure{std::string(api::kOpsReasonInvalid),
                   fmt::format("spec changed after the request started (generation {}, started at {}): a request runs once as "
                               "made; make another MySQLOpsRequest",
                               gen, status.value("observedGeneration", int64_t{0}))};
  }
  return std::nullopt;
}

// --- not started ---------------------------------------------------------------------------------
bool mayBeNothingToDo(const Facts& f) {
  if (!f.reconfigure() || f.op->tls->rotateCertificates) return false;
  auto spec = api::reconfiguredSpec(*f.mysql, *f.op->tls);
  return spec && *spec == f.mysql->value("spec", Json::object());
}

StartPlan planStart(const Facts& f, const StartFacts& s) {
  auto pending = [](std::string_view reason, std::string message) {
    return StartPlan{StartPlan::Kind::kPending, std::string(reason), message, std::string(reason), message};
  };
  if (auto other = waitsFor(*s.request, s.sameNamespace)) {
    return pending(api::kOpsReasonWaitingForRequest,
                   fmt::format("waiting for MySQLOpsRequest {}/{} to finish: one operation at a time per database, in creation order",
                               f.ns, *other));
  }
  if (const std::string by = api::pausedBy(*f.mysql); !by.empty() && by != f.name) {
    return pending(api::kOpsReasonWaitingForRequest, fmt::format("MySQL {} is paused by MySQLOpsRequest {}/{}", f.dbKey(), f.ns, by));
  }
  if (!s.licence.valid) return pending(api::kOpsReasonLicenseInvalid, "No operation runs without a valid licence: " + s.licence.summary());
  if (f.reconfigure()) {
    auto spec = api::reconfiguredSpec(*f.mysql, *f.op->tls);
    if (!spec) {
      const std::string msg = fmt::format("MySQL {} cannot be reconfigured as asked: {}", f.dbKey(), joinErrors(spec.error()));
      return {StartPlan::Kind::kFail, std::string(api::kOpsReasonInvalid), msg, std::string(api::kOpsReasonInvalid), msg};
    }
    if (mayBeNothingToDo(f) && s.podsCurrent.value_or(false)) {
      return {StartPlan::Kind::kSkip, std::string(api::kOpsReasonNothingToDo),
              fmt::format("MySQL {} already is as asked: nothing to change", f.dbKey()), std::string(api::kOpsReasonNothingToDo),
              fmt::format("MySQL {} already is as asked", f.dbKey())};
    }
  }
  const std::string dbPhase = f.mysql->value("status", Json::object()).value("phase", "");
  if (f.op->apply == api::ApplyPolicy::kIfReady && dbPhase != api::kPhaseReady) {
    return pending(api::kOpsReasonWaitingForReady,
                   fmt::format("waiting for MySQL {} to be Ready (it is {}); with apply: Always the request starts at once", f.dbKey(),
                               dbPhase.empty() ? "not reported yet" : dbPhase));
  }
  return {StartPlan::Kind::kStart, std::string(api::kOpsReasonProgressingStarted),
          fmt::format("Controller has started to Progress the MySQLOpsRequest: {}", f.key()), std::string(api::kEventStarting),
          fmt::format("Start processing {} of MySQL {}", api::toString(f.op->type), f.dbKey())};
}

// --- the steps ---------------------------------------------------------------------------------
StepPlan planPause(const Facts& f) {
  if (f.progress.done(api::kOpsCondPaused) && api::pausedBy(*f.mysql) == f.name) return next();
  std::vector<Write> w = {PauseDatabase{}};
  if (!f.progress.done(api::kOpsCondPaused)) {
    w.push_back(Announce{false, std::string(api::kEventPausing), fmt::format("Pausing MySQL database {}", f.dbKey())});
    w.push_back(SetCondition{std::string(api::kOpsCondPaused), true, std::string(api::kOpsReasonPaused),
                             fmt::format("Successfully paused MySQL {}", f.dbKey())});
  }
  return wait("pausing the database", std::move(w));
}

StepPlan planSpec(const Facts& f) {
  if (!f.reconfigure()) return next();
  const api::OpsTLS& tls = *f.op->tls;
  auto want = api::reconfiguredSpec(*f.mysql, tls);
  if (!want) return fail(api::kOpsReasonInvalid, "the MySQL cannot be reconfigured as asked: " + joinErrors(want.error()));
  const Json spec = f.mysql->value("spec", Json::object());
  if (*want != spec) {
    const bool hadTls = spec.contains("tls");
    const auto reason = tls.remove ? api::kOpsReasonRemovedTLS : hadTls ? api::kOpsReasonUpdatedTLS : api::kOpsReasonAddedTLS;
    const std::string what = tls.remove ? "removed the TLS configuration of" : hadTls ? "updated the TLS configuration of" : "added TLS to";
    std::vector<Write> w;
    if (!f.progress.has(api::kOpsCondSpecUpdated)) {
      w.push_back(SetCondition{std::string(api::kOpsCondSpecUpdated), false, std::string(reason),
                               fmt::format("updating MySQL {}: {} it", f.dbKey(), what)});
    }
    w.push_back(UpdateDatabaseSpec{std::string(reason), what});
    return wait("waiting for the updated MySQL spec", std::move(w));
  }
  const bool changes = tls.remove || tls.issuerRef || !tls.certificates.empty() || tls.requireSSL;
  if (!changes || f.progress.done(api::kOpsCondSpecUpdated)) return next();
  // Written before this reconcile (its condition then says what was being done) or by hand.
  auto intent = f.progress.condition(api::kOpsCondSpecUpdated);
  return next({SetCondition{std::string(api::kOpsCondSpecUpdated), true,
                            intent ? intent->reason : std::string(api::kOpsReasonUpdatedTLS),
                            fmt::format("MySQL {} is as asked (generation {})", f.dbKey(), kube::generation(*f.mysql))}});
}

StepPlan planRotation(const Facts& f, const Certificates& certificates) {
  if (!f.reconfigure() || !f.op->tls->rotateCertificates || !f.tls() || f.progress.done(api::kOpsCondIssuing)) return next();
  auto certificate = [&](const std::string& name) -> runtime::ObjectPtr {
    auto it = certificates.find(name);
    return it == certificates.end() ? nullptr : it->second;
  };
  const auto before = f.progress.revisionsBefore();
  if (before.empty()) {
    RecordRevisions record;
    for (const auto& alias : api::tlsAliases()) {
      const std::string name = api::certificateName(f.db, alias);
      auto c = certificate(name);
      std::optional<api::CertificateStatus> st;
      if (c) {
        if (auto parsed = api::parseCertificateStatus(*c)) st = *parsed;
      }
      if (!st || !st->ready.ready) return wait(fmt::format("waiting for Certificate {} to be issued before it is rotated", name));
      record.revisions[name] = st->revision;
    }
    return wait("noting the Certificates' revisions", {record});
  }
  std::vector<Write> w;
  std::vector<std::string> names;
  for (const auto& [name, revision] : before) {
    auto c = certificate(name);
    if (!c) return wait("waiting for Certificate " + name, std::move(w));
    names.push_back(name);
    auto st = api::parseCertificateStatus(*c);
    auto issuing = kube::findStatusCondition(*c, "Issuing");
    if ((st && st->revision > revision) || (issuing && issuing->status == kube::kConditionTrue)) continue;
    w.push_back(TriggerIssuance{name, revision});
  }
  const std::string msg = "Asked cert-manager to re-issue Certificates " + join(names);
  w.push_back(Announce{false, std::string(api::kEventIssuingCertificates), msg});
  w.push_back(SetCondition{std::string(api::kOpsCondIssuing), true, std::string(api::kOpsReasonIssuingTriggered), msg});
  return wait("waiting for cert-manager to re-issue the Certificates", std::move(w));
}

StepPlan planSync(const Facts& f, const Certificates& certificates) {
  if (!f.reconfigure() || f.progress.done(api::kOpsCondCertificateSynced) || f.progress.done(api::kOpsCondRestart)) return next();
  if (auto why = certificatesNotSynced(*f.mysql, certificates, f.progress.revisionsBefore())) return wait(*why);
  if (!f.tls()) return next();
  const std::string msg = "Successfully synced all certificates";
  return next({Announce{false, std::string(api::kEventCertificateSynced), msg},
               SetCondition{std::string(api::kOpsCondCertificateSynced), true, std::string(api::kOpsReasonCertificateSynced), msg}});
}

namespace {

// A group: the next restart waits until every member is ONLINE; secondaries go first, the primary last.
RestartDecision groupRestart(const RestartDecision& d, const std::map<std::string, std::string>& members, const std::vector<Pod>& pods,
                             const std::function<bool(const Pod&)>& outdated) {
  std::string primary;
  for (const auto& p : pods) {
    auto m = members.find(p.name);
    const std::string said = m == members.end() ? "not asked" : m->second;
    if (said.rfind("ONLINE", 0) != 0) {
      return {RestartDecision::Kind::kWait, "", fmt::format("waiting for member {} to be ONLINE in the group ({})", p.name, said),
              d.outdated};
    }
    if (said == "ONLINE PRIMARY") primary = p.name;
  }
  if (d.kind != RestartDecision::Kind::kRestart || d.pod != primary) return d;
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (it->name != primary && outdated(*it)) return {RestartDecision::Kind::kRestart, it->name, "", d.outdated};
  }
  return d;
}

}  // namespace

StepPlan planPods(const Facts& f, const PodsFacts& in) {
  if (f.progress.done(api::kOpsCondRestart) || f.progress.done(api::kOpsCondDBReady)) return next();
  if (!in.statefulSet) return wait(fmt::format("waiting for StatefulSet {}/{}", f.ns, api::statefulSetName(f.db)));
  if (auto why = workloadNotStaged(*f.mysql, in.statefulSet)) return wait(*why);
  const Json& sts = *in.statefulSet;
  const std::string revision = sts.value("status", Json::object()).value("updateRevision", "");
  const int64_t replicas = sts.value("spec", Json::object()).value("replicas", int64_t{1});
  const auto startTime = core::parseTime(f.progress.status.value("startTime", ""));
  std::function<bool(const Pod&)> outdated = [&](const Pod& p) { return p.revision != revision; };
  if (!f.reconfigure()) {
    outdated = [&](const Pod& p) {
      auto created = core::parseTime(p.created);
      return !created || !startTime || *created <= *startTime;
    };
  }
  auto d = nextRestart(databasePods(in.pods, f.db), replicas, outdated);
  // A group's next restart, and the end of the restarts, wait until every member is ONLINE.
  if (in.members && d.kind != RestartDecision::Kind::kWait) d = groupRestart(d, *in.members, databasePods(in.pods, f.db), outdated);
  // ReconfigureTLS where only certificates changed: no restart (verified below).
  if (f.reconfigure() && d.outdated == 0 && !f.progress.has(api::kOpsCondRestart)) return next();
  switch (d.kind) {
    case RestartDecision::Kind::kWait:
      return wait(d.why);
    case RestartDecision::Kind::kRestart: {
      auto pod = std::find_if(in.pods.begin(), in.pods.end(), [&](const Json& p) { return kube::name(p) == d.pod; });
      return wait(fmt::format("restarting pod {}", d.pod),
                  {DeletePod{d.pod, pod == in.pods.end() ? "" : kube::uid(*pod)},
                   Announce{false, std::string(api::kEventRestartingPod), fmt::format("Restarting Pod: {}/{}", f.ns, d.pod)},
                   SetCondition{std::string(api::kOpsCondRestart), false, std::string(api::kOpsReasonRestartingPods),
                                fmt::format("restarting pod {} ({} of {} still to restart)", d.pod, d.outdated, replicas)}});
    }
    case RestartDecision::Kind::kDone:
      break;
  }
  return next({SetCondition{std::string(api::kOpsCondRestart), true, std::string(api::kOpsReasonRestarted),
                            fmt::format("Successfully restarted MySQL pods for MySQLOpsRequest: {}", f.key())}});
}

std::optional<std::string> podNotVerified(const PodProbe& probe, bool tls, bool requireSSL, const std::string& issuedPem) {
  if (tls) {
    auto issued = leafPem(issuedPem);
    if (!issued) return "waiting for the server Secret to hold a certificate";
    if (probe.fetchError) return fmt::format("pod {}: {}", probe.pod, *probe.fetchError);
    if (leafPem(probe.servedPem) != issued) {
      return fmt::format("waiting for pod {} to serve the certificate of its Secret (serial {}; it serves {})", probe.pod,
                         serialOf(issuedPem), serialOf(probe.servedPem));
    }
    if (probe.groupMember && probe.groupFetchError) return fmt::format("pod {} group port: {}", probe.pod, *probe.groupFetchError);
    if (probe.groupMember && leafPem(probe.groupPem) != issued) {
      return fmt::format("waiting for pod {} to present the certificate of its Secret on its group port (serial {}; it "
                         "presents {})",
                         probe.pod, serialOf(issuedPem), serialOf(probe.groupPem));
    }
  }
  if (probe.queryError) return fmt::format("pod {}: {}", probe.pod, *probe.queryError);
  const std::string want = tls && requireSSL ? "1" : "0";
  if (probe.requireSecureTransport.value_or("") != want) {
    return fmt::format("pod {} has require_secure_transport={}, {} was asked", probe.pod,
                       probe.requireSecureTransport.value_or("NULL"), want);
  }
  return std::nullopt;
}

StepPlan planVerified(const Facts& f, const VerifyFacts& v) {
  if (f.progress.done(api::kOpsCondDBReady)) return next();
  if (v.specError) return fail(api::kOpsReasonStepFailed, "the MySQL's spec cannot be read: " + *v.specError);
  if (v.notVerified) return wait(*v.notVerified);
  const Json st = f.mysql->value("status", Json::object());
  if (st.value("phase", "") != api::kPhaseReady || st.value("observedGeneration", int64_t{0}) < kube::generation(*f.mysql)) {
    return wait(fmt::format("waiting for MySQL {} to be Ready (it is {})", f.dbKey(), st.value("phase", "not reported")));
  }
  std::vector<Write> w;
  if (f.reconfigure() && f.tls() && !f.progress.has(api::kOpsCondRestart) && !f.progress.done(api::kOpsCondReload)) {
    w.push_back(SetCondition{std::string(api::kOpsCondReload), true, std::string(api::kOpsReasonReloaded),
                             "Every pod serves the certificates in their Secrets, reloaded without a restart"});
  }
  w.push_back(f.reconfigure()
                  ? SetCondition{std::string(api::kOpsCondDBReady), true, std::string(api::kOpsReasonReconfiguredTLS),
                                 fmt::format("Successfully reconfigured MySQL TLS for MySQLOpsRequest: {}", f.key())}
                  : SetCondition{std::string(api::kOpsCondDBReady), true, std::string(api::kOpsReasonRestartedDatabase),
                                 fmt::format("Successfully restarted MySQL {} for MySQLOpsRequest: {}", f.dbKey(), f.key())});
  return next(std::move(w));
}

StepPlan planCleanup(const Facts& f, const std::vector<Json>& secrets) {
  if (!f.reconfigure() || f.progress.done(api::kOpsCondCleanedUp)) return next();
  std::set<std::string> inUse;
  if (auto my = api::parseMySQL(*f.mysql)) {
    api::setDefaults(*my);
    if (my->tls) {
      for (const auto& alias : api::tlsAliases()) inUse.insert(my->certSecretName(alias));
      inUse.insert(api::exporterConfigSecretName(f.db));
    }
  }
  std::set<std::string> ourCertificates;
  for (const auto& alias : api::tlsAliases()) ourCertificates.insert(api::certificateName(f.db, alias));
  const std::string owner = kube::uid(*f.mysql);
  std::vector<Write> w;
  std::vector<std::string> removed;
  for (const auto& s : secrets) {
    const std::string n = kube::name(s);
    if (inUse.count(n) || !kube::isOwnedBy(s, owner)) continue;
    const bool issued = ourCertificates.count(kube::annotation(s, "cert-manager.io/certificate-name").value_or(""));
    auto controller = kube::controllerOf(s);
    const bool exporterConfig = n == api::exporterConfigSecretName(f.db) && controller && controller->uid == owner;
    if (!issued && !exporterConfig) continue;
    w.push_back(DeleteSecret{n, kube::uid(s)});
    removed.push_back(n);
  }
  if (removed.empty() && f.tls()) return next();
  const std::string msg = removed.empty() ? "No TLS Secret was left to remove"
                                          : fmt::format("Removed Secrets {} (no longer used by MySQL {})", join(removed), f.dbKey());
  if (!removed.empty()) w.push_back(Announce{false, std::string(api::kEventRemovedSecrets), msg});
  w.push_back(SetCondition{std::string(api::kOpsCondCleanedUp), true, std::string(api::kOpsReasonCleanedUp), msg});
  return next(std::move(w));
}

// --- after the steps ------------------------------------------------------------------------------
AfterStep planAfterStep(const Facts& f, const StepPlan& outcome, const std::optional<std::string>& error, core::WallTime now,
                        std::chrono::milliseconds poll) {
  const auto startTime = core::parseTime(f.progress.status.value("startTime", ""));
  const auto elapsed = startTime ? std::chrono::duration_cast<std::chrono::milliseconds>(now - *startTime) : std::chrono::milliseconds(0);
  const auto& timeout = f.op->timeout;
  const bool timedOut = timeout && elapsed > *timeout;
  auto timedOutWith = [&](const std::string& detail) {
    return AfterStep{AfterStep::Kind::kFail, std::string(api::kOpsReasonTimeout),
                     fmt::format("did not finish within {} (spec.timeout): {}", human(*timeout), detail), std::nullopt, {}};
  };
  if (error) return timedOut ? timedOutWith(*error) : AfterStep{AfterStep::Kind::kError, "", *error, std::nullopt, {}};
  switch (outcome.then) {
    case StepPlan::Then::kFail:
      return {AfterStep::Kind::kFail, outcome.reason, outcome.why, std::nullopt, {}};
    case StepPlan::Then::kWait: {
      if (timedOut) return timedOutWith(outcome.why);
      AfterStep out{AfterStep::Kind::kWait, "", "", std::nullopt, poll};
      // What it waits for, in the status (kubectl describe), written only when that changes.
      auto w = f.progress.condition(api::kOpsCondWaiting);
      if (!w || w->message != outcome.why || w->reason != api::kOpsReasonInProgress) out.waiting = outcome.why;
      if (timeout) out.requeueAfter = std::min(poll, std::max(std::chrono::milliseconds(1), *timeout - elapsed));
      return out;
    }
    case StepPlan::Then::kNext:
      break;
  }
  return {AfterStep::Kind::kSucceed, std::string(api::kOpsReasonSuccessful),
          f.reconfigure() ? fmt::format("Controller has successfully reconfigured TLS of the MySQL {}", f.dbKey())
                          : fmt::format("Controller has successfully restarted the MySQL {}", f.dbKey()),
          std::nullopt, {}};
}

}  // namespace mysqlop::enterprise::ops
