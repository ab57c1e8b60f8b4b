#include "enterprise-operator/controller/reconciler.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>

#include "common/api/catalog.h"
#include "common/api/cert_manager.h"
#include "common/api/events.h"
#include "common/api/naming.h"
#include "common/kube/object.h"
#include "common/runtime/writes.h"

namespace mysqlop::enterprise {

using runtime::ReconcileResult;

Reconciler::Reconciler(client::RestClient& cli, runtime::EventRecorder& events, Caches caches, const LicenceGate& licence,
                       const core::Clock& clock, core::Logger log)
    : cli_(cli), events_(events), c_(caches), licence_(licence), clock_(clock), log_(std::move(log)) {}

core::Result<ReconcileResult> Reconciler::reconcile(const runtime::Request& req, std::stop_token) {
  auto obj = c_.mysqls->get(req.key());
  if (!obj) return ReconcileResult{};
  auto observed = observe(obj);
  if (!observed) return observed.error();
  const Plan p = plan(*observed, clock_.now());
  // Never silent: a wait the status does not say yet is in the log.
  if (!p.waitingFor.empty()) log_.info("waiting", {{"namespace", req.namespace_}, {"name", req.name}, {"for", p.waitingFor}});
  auto applied = apply(*obj, p);
  if (!applied && !applied.error().is(core::ErrorCode::kConflict)) {
    events_.event(*obj, runtime::kEventWarning, std::string(api::kEventReconcileFailed),
                  fmt::format("Failed to manage the TLS certificates of MySQL {}: {}", req.key(), applied.error().message));
  }
  if (!applied) return applied.error();
  ReconcileResult result;
  if (p.requeueAfter) result.requeueAfter = *p.requeueAfter;
  return result;
}

core::Result<Observed> Reconciler::observe(const runtime::ObjectPtr& mysql) const {
  const std::string ns = kube::namespaceOf(*mysql), db = kube::name(*mysql);
  Observed o;
  o.mysql = mysql;
  o.licence = licence_.state();
  auto my = api::parseMySQL(*mysql);
  if (!my) return o;  // plan() leaves an unreadable spec to the community operator
  api::setDefaults(*my);
  if (my->tls && my->tls->issuerRef) {
    const auto& ref = *my->tls->issuerRef;
    o.issuer = ref.kind == "ClusterIssuer" ? c_.clusterIssuers->get(ref.name) : c_.issuers->get(ns, ref.name);
    if (o.issuer && c_.issuerCas) o.issuerCa = c_.issuerCas->caOf(*o.issuer, ref.kind);
  }
  std::vector<std::string> secrets = {my->effectiveAuthSecretName(), api::exporterConfigSecretName(db), api::issuerCaSecretName(db)};
  for (const auto& alias : api::tlsAliases()) {
    if (my->tls) secrets.push_back(my->certSecretName(alias));
    if (auto cert = c_.certificates->get(ns, api::certificateName(db, alias))) o.certificates.emplace(kube::name(*cert), cert);
  }
  for (const auto& name : secrets) {
    if (auto s = c_.secrets->get(ns, name)) o.secrets.emplace(name, s);
  }
  for (const auto& name : {api::primaryServiceName(db), api::governingServiceName(db)}) {
    if (auto s = c_.services->get(ns, name)) o.services.emplace(name, s);
  }
  if (c_.named) {
    // Not labelled by us: the auth Secret when it is a user's; a TLS Secret name just before its
    // Certificate is made (the database's objects are there) — a Secret of that name that
    // cert-manager did not issue for it would be overwritten (SecretNameConflict).
    // (The community operator's own <db>-auth is labelled: it comes through the informer.)
    const std::string auth = my->effectiveAuthSecretName();
    if (!o.secrets.count(auth) && auth != api::authSecretName(db)) {
      auto s = c_.named->fetch(ns, auth);
      if (!s) return s.error();
      if (*s) o.secrets.emplace(auth, *s);
    }
    const bool objectsThere = o.secrets.count(auth) && o.services.size() == 2;
    for (const auto& alias : api::tlsAliases()) {
      const std::string name = my->certSecretName(alias);
      // Read before the Certificate is made, and whenever the spec names another Secret than the
      // Certificate's (a retarget): cert-manager would overwrite what it finds there.
      auto cert = o.certificate(api::certificateName(db, alias));
      const Json* target = cert ? kube::find(*cert, {"spec", "secretName"}) : nullptr;
      const bool sameTarget = target && *target == name;
      if (!my->tls || !objectsThere || o.secrets.count(name) || sameTarget) continue;
      auto s = c_.named->fetch(ns, name);
      if (!s) return s.error();
      if (*s) o.secrets.emplace(name, *s);
    }
  }
  return o;
}

core::Status Reconciler::apply(const Json& mysql, const Plan& p) {
  // What this pass created is said in one Event (three Certificates and a Secret at once).
  std::vector<std::string> created;
  auto sayCreated = [&] {
    if (!created.empty()) {
      events_.event(mysql, runtime::kEventNormal, std::string(api::kEventCreated), fmt::format("Successfully created {}", fmt::join(created, ", ")));
    }
  };
  std::optional<bool> mayAdopt;  // asked of the live MySQL once per pass, before the first adoption
  for (const auto& step : p.steps) {
    if (std::holds_alternative<AdoptIssuedSecretStep>(step)) {
      if (!mayAdopt) {
        auto m = liveAndNotDeleted(mysql);
        if (!m) {
          sayCreated();
          return m.error();
        }
        mayAdopt = *m;
      }
      if (!*mayAdopt) continue;
    }
    if (auto st = applyStep(mysql, step, created); !st) {
      sayCreated();
      return st;
    }
  }
  sayCreated();
  if (!p.status) return {};
  auto written = runtime::writeConditions(cli_, api::mysqlResource(), mysql, *p.status, clock_.now());
  if (!written) return written.error();
  if (p.onStatusWrite) events_.event(mysql, *p.onStatusWrite);
  return {};
}

core::Result<bool> Reconciler::liveAndNotDeleted(const Json& mysql) {
  // Our caches are not ordered across kinds: the Secret's may already show the community
  // operator releasing it (a deletion under Delete or Halt) while the MySQL's does not show the
  // deletion yet. Adopting it then would hand it to the garbage collector: the live MySQL decides.
  auto live = cli_.get(api::mysqlResource(), kube::namespaceOf(mysql), kube::name(mysql));
  if (!live && live.error().is(core::ErrorCode::kNotFound)) return false;
  if (!live) return live.error();
  return kube::uid(*live) == kube::uid(mysql) && !kube::isBeingDeleted(*live);
}

core::Status Reconciler::applyStep(const Json& mysql, const Step& step, std::vector<std::string>& created) {
  const std::string ns = kube::namespaceOf(mysql);
  if (auto* s = std::get_if<DeleteStep>(&step)) {
    auto gone = cli_.remove(*s->type, ns, s->name);
    if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
    return {};
  }
  if (auto* s = std::get_if<FinalizerStep>(&step)) {
    const std::string f(api::kTlsFinalizer);
    auto changed = s->add ? runtime::ensureFinalizer(cli_, api::mysqlResource(), mysql, f)
                          : runtime::dropFinalizer(cli_, api::mysqlResource(), mysql, f);
    // A MySQL gone once our finalizer was its last one is what we wanted.
    if (!changed && !(changed.error().is(core::ErrorCode::kNotFound) && !s->add)) return changed.error();
    return {};
  }
  if (auto* s = std::get_if<AdoptIssuedSecretStep>(&step)) {
    auto updated = runtime::writeOwnerReferences(cli_, kube::kSecrets, s->secret);
    if (!updated) return updated.error();
    return {};
  }
  const auto& e = std::get<EnsureStep>(step);
  auto outcome = runtime::ensureOwned(cli_, *e.type, e.cached, e.desired, kube::uid(mysql), "MySQL " + runtime::objectKey(mysql));
  if (!outcome) return outcome.error();
  const std::string what = fmt::format("{} {}/{}", e.what, ns, kube::name(e.desired));
  if (*outcome == runtime::WriteOutcome::kCreated) {
    created.push_back(what);
  } else if (*outcome == runtime::WriteOutcome::kUpdated && e.announceUpdates) {
    events_.event(mysql, runtime::kEventNormal, std::string(api::kEventUpdated), "Successfully patched " + what);
  }
  return {};
}

}  // namespace mysqlop::enterprise
