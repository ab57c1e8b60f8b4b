#include "community-operator/controller/reconciler.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/api/catalog.h"
#include "common/api/events.h"
#include "common/api/naming.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "common/runtime/writes.h"
#include "community-operator/builders/secret_builder.h"
#include "community-operator/controller/password.h"

namespace mysqlop::community {

using runtime::ReconcileResult;

namespace {

// The objects of a database (its PVCs) carry its selector labels.
std::string selectorOf(const std::string& db) { return kube::LabelSelector::fromMap(api::selectorLabels(db)).toString(); }

// Whether a write went through (its result is not needed).
template <typename T>
core::Status statusOf(const core::Result<T>& r) {
  if (r) return {};
  return r.error();
}

// A deletion of something already gone is done.
core::Status ignoreNotFound(const core::Result<Json>& r) {
  if (r || r.error().is(core::ErrorCode::kNotFound)) return {};
  return r.error();
}

// The items of a live list; an API the cluster does not serve (no cert-manager) lists nothing.
core::Result<std::vector<Json>> items(core::Result<Json> list) {
  if (!list && list.error().is(core::ErrorCode::kNotFound)) return std::vector<Json>{};
  if (!list) return list.error();
  return list->value("items", Json::array()).get<std::vector<Json>>();
}

// The auth Secret a MySQL uses: spec.authSecret.name, else ours (also for a spec that does not parse).
std::string authSecretNameOf(const Json& mysql) {
  auto my = api::parseMySQL(mysql);
  if (!my) return api::authSecretName(kube::name(mysql));
  api::setDefaults(*my);
  return my->effectiveAuthSecretName();
}

}  // namespace

Reconciler::Reconciler(client::RestClient& cli, runtime::EventRecorder& events, Caches caches, HealthChecker& health,
                       const core::Clock& clock, core::Logger log, PasswordFn password)
    : cli_(cli),
      events_(events),
      c_(caches),
      health_(health),
      clock_(clock),
      log_(std::move(log)),
      password_(password ? std::move(password) : PasswordFn([] { return randomPassword(); })) {}

core::Result<ReconcileResult> Reconciler::reconcile(const runtime::Request& req, std::stop_token) {
  auto obj = c_.mysqls->get(req.key());
  if (!obj) {
    health_.forget(req.key());
    return ReconcileResult{};
  }
  auto observed = observe(obj);
  if (!observed) return observed.error();
  const Plan p = plan(*observed, clock_.now());
  auto result = apply(*obj, p);
  if (!result && !result.error().is(core::ErrorCode::kConflict) && !kube::isBeingDeleted(*obj)) {
    events_.event(*obj, runtime::kEventWarning, std::string(api::kEventReconcileFailed),
                  fmt::format("Failed to provision MySQL {}: {}", req.key(), result.error().message));
  }
  return result;
}

core::Result<Observed> Reconciler::observe(const runtime::ObjectPtr& mysql) const {
  const std::string ns = kube::namespaceOf(*mysql), db = kube::name(*mysql), uid = kube::uid(*mysql);
  Observed o;
  o.mysql = mysql;
  if (const Json* version = kube::find(*mysql, {"spec", "version"}); version && version->is_string()) {
    o.version = c_.versions->get(version->get<std::string>());
  }
  // Ours (labelled for it, or owned), and what it names — by index and by key, never a scan of
  // the namespace (the cache keeps Secrets serialized: each read parses).
  auto consider = [&](const runtime::ObjectPtr& s) {
    if (kube::namespaceOf(*s) == ns) o.secrets.emplace(kube::name(*s), s);
  };
  for (const auto& s : c_.secrets->byLabel(std::string(api::kLabelInstance), db)) consider(s);
  for (const auto& s : c_.secrets->byOwner(uid)) consider(s);
  for (const auto& name : referencedSecrets(*mysql)) {
    if (o.secrets.count(name)) continue;
    if (auto s = c_.secrets->get(ns, name)) o.secrets.emplace(name, s);
  }
  if (c_.named) {
    // The auth Secret when it is not one of ours (a user's, or someone's in our way): by name.
    const std::string auth = authSecretNameOf(*mysql);
    if (!o.secrets.count(auth)) {
      auto s = c_.named->fetch(ns, auth);
      if (!s) return s.error();
      if (*s) o.secrets.emplace(auth, *s);
    }
  }
  for (const auto& name : {api::governingServiceName(db), api::primaryServiceName(db), api::statsServiceName(db),
                           api::standbyServiceName(db)}) {
    if (auto s = c_.services->get(ns, name)) o.services.emplace(name, s);
  }
  o.serviceAccount = c_.serviceAccounts->get(ns, api::serviceAccountName(db));
  o.role = c_.roles->get(ns, api::serviceAccountName(db));
  o.roleBinding = c_.roleBindings->get(ns, api::serviceAccountName(db));
  o.statefulSet = c_.statefulSets->get(ns, api::statefulSetName(db));
  if (c_.serviceMonitors) {
    o.serviceMonitorsServed = true;
    o.serviceMonitor = c_.serviceMonitors->get(ns, api::statsServiceName(db));
  }
  if (c_.pods) {
    for (const auto& pod : c_.pods->byLabel(std::string(api::kLabelInstance), db)) {
      if (kube::namespaceOf(*pod) == ns) o.pods.emplace(kube::name(*pod), pod);
    }
  }
  o.health = health_.verdict(runtime::objectKey(*mysql), uid);
  if (const Json* tls = kube::find(*mysql, {"spec", "tls"}); tls && tls->is_object() && !kube::isBeingDeleted(*mysql)) {
    if (auto st = observeTrust(o, ns, db); !st) return st.error();
  }
  if (kube::isBeingDeleted(*mysql) && kube::hasFinalizer(*mysql, api::kFinalizer)) {
    // The data is not cached: list it when a deletion needs it.
    auto pvcs = items(cli_.listAll(kube::kPersistentVolumeClaims, ns, {.labelSelector = selectorOf(db)}));
    if (!pvcs) return pvcs.error();
    o.pvcs = std::move(*pvcs);
  }
  return o;
}

core::Status Reconciler::observeTrust(Observed& o, const std::string& ns, const std::string& db) const {
  o.caRetention = c_.caRetention;
  const std::string bundleName = api::trustBundleSecretName(db);
  if (!o.secrets.count(bundleName) && c_.named) {
    auto s = c_.named->fetch(ns, bundleName);
    if (!s) return s.error();
    if (*s) o.secrets.emplace(bundleName, *s);
  }
  std::vector<std::string> names = {bundleName, api::issuerCaSecretName(db)};
  auto my = api::parseMySQL(*o.mysql);
  if (my) {
    api::setDefaults(*my);
    for (const auto& alias : api::tlsAliases()) names.push_back(my->certSecretName(alias));
  }
  static const CaPool kNoPool(0);
  const CaPool& pool = c_.caPool ? *c_.caPool : kNoPool;
  for (const auto& name : names) {
    auto secret = o.secret(name);
    if (!secret) continue;
    auto pems = casOf(*secret, pool);
    if (!pems && c_.rereadSecret) {  // a CA the pool let go: reading the Secret puts it back
      if (auto again = c_.rereadSecret(ns, name)) pems = casOf(*again, pool);
    }
    if (!pems) continue;  // the plan says which CA it waits for
    const auto digests = caDigestsOf(*secret);
    for (size_t i = 0; i < digests.size() && i < pems->size(); ++i) o.caPems.emplace(digests[i], (*pems)[i]);
  }
  return {};
}

core::Result<ReconcileResult> Reconciler::apply(const Json& mysql, const Plan& p) {
  // What this pass created is said in one Event (a new database makes seven objects at once).
  std::vector<std::string> created;
  struct SayCreated {
    Reconciler& r;
    const Json& mysql;
    std::vector<std::string>& created;
    ~SayCreated() {
      if (!created.empty()) r.say(mysql, {false, std::string(api::kEventCreated), fmt::format("Successfully created {}", fmt::join(created, ", "))});
    }
  } sayCreated{*this, mysql, created};
  for (const auto& step : p.steps) {
    auto st = applyStep(mysql, step, created);
    if (!st && st.error().is(core::ErrorCode::kNotFound) && std::holds_alternative<DropFinalizerStep>(step)) {
      return ReconcileResult{};  // the MySQL is already gone
    }
    if (!st) return st.error();
  }
  if (p.status) {
    const core::WallTime now = clock_.now();
    auto written = runtime::writeStatus(cli_, api::mysqlResource(), mysql,
                                        [&](Json& status) { status = p.status->applyTo(status, now); });
    if (!written) return written.error();
    for (const auto& e : p.onStatusWrite) say(mysql, e);
  }
  if (p.triggerHealth) health_.trigger(runtime::objectKey(mysql));
  if (p.forgetHealth) health_.forget(runtime::objectKey(mysql));
  ReconcileResult result;
  if (p.requeueAfter) result.requeueAfter = *p.requeueAfter;
  return result;
}

core::Status Reconciler::applyStep(const Json& mysql, const Step& step, std::vector<std::string>& created) {
  const std::string ns = kube::namespaceOf(mysql), name = kube::name(mysql);
  if (auto* s = std::get_if<EnsureStep>(&step)) return ensure(mysql, *s, created);
  if (auto* s = std::get_if<CreateAuthSecretStep>(&step)) return createAuthSecret(s->my, created);
  if (auto* s = std::get_if<RecordAuthSecretStep>(&step)) {
    auto patched = cli_.patch(api::mysqlResource(), ns, name, kube::PatchType::kMerge,
                              Json{{"spec", {{"authSecret", {{"name", s->name}}}}}});
    return statusOf(patched);
  }
  if (auto* s = std::get_if<LabelPodStep>(&step)) {
    const Json patch = {{"metadata", {{"labels", {{std::string(api::kLabelRole), s->role ? Json(*s->role) : Json(nullptr)}}}}}};
    auto patched = cli_.patch(kube::kPods, ns, s->pod, kube::PatchType::kMerge, patch);
    if (patched) log_.info("group member's role label", {{"namespace", ns}, {"pod", s->pod}, {"role", s->role.value_or("(none)")}});
    return ignoreNotFound(patched);
  }
  if (auto* s = std::get_if<RecordGroupStep>(&step)) {
    auto uuid = randomUuid();
    if (!uuid) return uuid.error();
    const Json patch = {{"metadata", {{"resourceVersion", s->resourceVersion}}},
                        {"spec", {{"topology", {{"group", {{"name", *uuid}, {"mode", s->mode}}}}}}}};
    auto patched = cli_.patch(api::mysqlResource(), ns, name, kube::PatchType::kMerge, patch);
    if (patched) log_.info("recorded the group's name", {{"namespace", ns}, {"name", name}, {"group", *uuid}});
    return statusOf(patched);
  }
  if (auto* s = std::get_if<DeleteStep>(&step)) {
    auto gone = ignoreNotFound(cli_.remove(*s->type, ns, s->name, {.propagationPolicy = s->propagation}));
    if (gone && s->event) say(mysql, *s->event);
    return gone;
  }
  if (auto* s = std::get_if<DisownStep>(&step)) return ignoreNotFound(runtime::writeOwnerReferences(cli_, *s->type, s->object));
  if (std::holds_alternative<AddFinalizerStep>(step)) {
    auto added = runtime::ensureFinalizer(cli_, api::mysqlResource(), mysql, std::string(api::kFinalizer));
    return statusOf(added);
  }
  const auto& drop = std::get<DropFinalizerStep>(step);
  auto dropped = runtime::dropFinalizer(cli_, api::mysqlResource(), mysql, std::string(api::kFinalizer));
  if (!dropped) return dropped.error();
  say(mysql, drop.event);
  log_.info("terminated", {{"namespace", ns}, {"name", name}, {"detail", drop.event.message}});
  return {};
}

core::Status Reconciler::ensure(const Json& mysql, const EnsureStep& s, std::vector<std::string>& created) {
  auto outcome = runtime::ensureOwned(cli_, *s.type, s.cached, s.desired, kube::uid(mysql), "MySQL " + runtime::objectKey(mysql));
  if (!outcome) return outcome.error();
  if (*outcome == runtime::WriteOutcome::kUnchanged) return {};
  const std::string what = fmt::format("{} {}/{}", s.what, kube::namespaceOf(s.desired), kube::name(s.desired));
  if (*outcome == runtime::WriteOutcome::kCreated) {
    created.push_back(what);
  } else {
    say(mysql, {false, std::string(api::kEventUpdated), "Successfully patched " + what});
  }
  for (const auto& e : s.onWrite) say(mysql, e);
  return {};
}

core::Status Reconciler::createAuthSecret(const api::MySQL& my, std::vector<std::string>& created) {
  auto password = password_();
  if (!password) return password.error();
  auto made = cli_.create(kube::kSecrets, my.namespace_, buildAuthSecret(my, *password));
  if (!made && made.error().is(core::ErrorCode::kAlreadyExists)) {
    // Made meanwhile (our cache is behind): the next reconcile checks whose it is.
    return core::Error(core::ErrorCode::kConflict,
                       fmt::format("Secret {}/{} appeared meanwhile", my.namespace_, api::authSecretName(my.name)));
  }
  if (!made) return made.error();
  created.push_back(fmt::format("database auth secret {}/{}", my.namespace_, api::authSecretName(my.name)));
  return {};
}

void Reconciler::say(const Json& mysql, const EventSpec& e) { events_.event(mysql, e); }

}  // namespace mysqlop::community
