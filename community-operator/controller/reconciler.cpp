#include "community-operator/controller/reconciler.h"

#include <fmt/format.h>

#include "common/api/catalog.h"
#include "common/api/cert_manager.h"
#include "common/api/naming.h"
#include "common/kube/conditions.h"
#include "common/kube/object.h"
#include "common/runtime/writes.h"
#include "community-operator/builders/rbac_builder.h"
#include "community-operator/builders/secret_builder.h"
#include "community-operator/builders/service_builder.h"
#include "community-operator/builders/statefulset_builder.h"
#include "community-operator/controller/password.h"

namespace mysqlop::community {

using runtime::ReconcileResult;

struct Reconciler::Run {
  runtime::Request req;
  runtime::ObjectPtr obj;
  std::string key, ns, name, uid;
  api::MySQL my;
  StatusFacts facts;
};

namespace {

std::string joinErrors(const api::FieldErrors& errs) {
  std::string out;
  for (const auto& e : errs) {
    if (!out.empty()) out += "; ";
    out += e.toString();
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// Ours: it carries this database's instance label and our managed-by label.
bool labelledFor(const Json& obj, const std::string& db) {
  return kube::label(obj, api::kLabelInstance) == db &&
         kube::label(obj, api::kLabelManagedBy) == std::string(api::kLabelManagedByValue);
}

std::string selectorString(const std::string& db) {
  std::string out;
  for (const auto& [k, v] : api::selectorLabels(db)) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

std::string policyOf(const Json& obj) {
  const Json& spec = obj.value("spec", Json::object());
  for (const char* k : {"deletionPolicy", "terminationPolicy"}) {
    if (auto it = spec.find(k); it != spec.end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return "Delete";
}

}  // namespace

std::set<std::string> referencedSecrets(const Json& mysql) {
  std::set<std::string> out;
  const std::string db = kube::name(mysql);
  auto parsed = api::parseMySQL(mysql);
  if (!parsed) {
    out.insert(api::authSecretName(db));
    return out;
  }
  api::MySQL my = std::move(*parsed);
  api::setDefaults(my);
  out.insert(my.authSecretName.empty() ? api::authSecretName(db) : my.authSecretName);
  if (my.tls) {
    for (const auto& alias : api::tlsAliases()) out.insert(my.certSecretName(alias));
    out.insert(api::exporterConfigSecretName(db));
  }
  return out;
}

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
  Run run;
  run.req = req;
  run.key = req.key();
  run.obj = c_.mysqls->get(run.key);
  if (!run.obj) {
    health_.forget(run.key);
    return ReconcileResult{};
  }
  run.ns = req.namespace_;
  run.name = req.name;
  run.uid = kube::uid(*run.obj);
  run.facts.ns = run.ns;
  run.facts.name = run.name;
  run.facts.generation = kube::generation(*run.obj);
  if (kube::isBeingDeleted(*run.obj)) return terminate(run);

  if (!kube::hasFinalizer(*run.obj, api::kFinalizer)) {
    auto added = runtime::ensureFinalizer(cli_, api::mysqlResource(), *run.obj, std::string(api::kFinalizer));
    if (!added) return added.error();
  }
  auto result = provision(run);
  if (!result && !result.error().is(core::ErrorCode::kConflict)) {
    events_.event(*run.obj, runtime::kEventWarning, "ReconcileFailed",
                  fmt::format("Failed to provision MySQL {}: {}", run.key, result.error().message));
  }
  return result;
}

core::Result<bool> Reconciler::ensureObject(Run& run, const kube::ResourceType& rt, const runtime::ObjectCache& cache,
                                            const Json& desired, const std::string& what) {
  const std::string name = kube::name(desired);
  auto cached = cache.get(run.ns, name);
  if (cached && !kube::isOwnedBy(*cached, run.uid)) {
    return core::Error(core::ErrorCode::kAlreadyExists,
                       fmt::format("{} {}/{} already exists and is not controlled by MySQL {}", rt.kind, run.ns, name, run.key));
  }
  auto outcome = runtime::createOrUpdate(cli_, rt, cached, desired);
  if (!outcome && !cached && outcome.error().is(core::ErrorCode::kAlreadyExists)) {
    // Made by an earlier reconcile that our cache has not seen yet: come back when it has.
    return core::Error(core::ErrorCode::kConflict, fmt::format("{} {}/{} is not in the cache yet", rt.kind, run.ns, name));
  }
  if (!outcome) return outcome.error();
  if (*outcome == runtime::WriteOutcome::kUnchanged) return false;
  const bool created = *outcome == runtime::WriteOutcome::kCreated;
  events_.event(*run.obj, runtime::kEventNormal, created ? "Created" : "Updated",
                fmt::format("Successfully {} {} {}/{}", created ? "created" : "patched", what, run.ns, name));
  return true;
}

core::Result<ReconcileResult> Reconciler::provision(Run& run) {
  // --- the spec
  auto parsed = api::parseMySQL(*run.obj);
  api::FieldErrors errors;
  if (parsed) {
    run.my = std::move(*parsed);
    api::setDefaults(run.my);
    errors = api::validate(run.my);
  } else {
    errors = parsed.error();
  }
  if (!errors.empty()) {
    run.facts.blocker = Blocker{std::string(kReasonInvalidSpec), "The MySQL spec is invalid: " + joinErrors(errors)};
    return finish(run);
  }

  // --- the catalog
  Images images;
  auto versionObj = c_.versions->get(run.my.version);
  if (!versionObj) {
    run.facts.blocker = Blocker{std::string(kReasonVersionNotFound),
                                fmt::format("spec.version: MySQLVersion {:?} not found; `kubectl get mysqlversions` lists the "
                                            "versions this cluster offers",
                                            run.my.version)};
    return finish(run);
  }
  auto version = api::parseMySQLVersion(*versionObj);
  if (!version) {
    run.facts.blocker = Blocker{std::string(kReasonVersionNotFound),
                                fmt::format("spec.version: MySQLVersion {:?} is malformed: {}", run.my.version,
                                            joinErrors(version.error()))};
    return finish(run);
  }
  if (run.my.monitor && version->exporterImage.empty()) {
    run.facts.blocker = Blocker{std::string(kReasonInvalidSpec),
                                fmt::format("spec.monitor: MySQLVersion {:?} has no spec.exporter.image for the exporter "
                                            "sidecar",
                                            run.my.version)};
    return finish(run);
  }
  images = Images{version->dbImage, version->exporterImage};

  // --- identity and network
  if (auto r = ensureObject(run, kube::kServiceAccounts, *c_.serviceAccounts, buildServiceAccount(run.my), "service account"); !r)
    return r.error();
  if (auto r = ensureObject(run, kube::kRoles, *c_.roles, buildRole(run.my), "role"); !r) return r.error();
  if (auto r = ensureObject(run, kube::kRoleBindings, *c_.roleBindings, buildRoleBinding(run.my), "role binding"); !r)
    return r.error();
  if (auto r = ensureObject(run, kube::kServices, *c_.services, buildGoverningService(run.my), "governing service"); !r)
    return r.error();
  if (auto r = ensureObject(run, kube::kServices, *c_.services, buildPrimaryService(run.my), "service for primary/standalone");
      !r)
    return r.error();
  const std::string statsName = api::statsServiceName(run.name);
  if (run.my.monitor) {
    if (auto r = ensureObject(run, kube::kServices, *c_.services, buildStatsService(run.my), "stats service"); !r)
      return r.error();
  } else if (auto stats = c_.services->get(run.ns, statsName); stats && kube::isOwnedBy(*stats, run.uid)) {
    auto gone = cli_.remove(kube::kServices, run.ns, statsName);
    if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
    events_.event(*run.obj, runtime::kEventNormal, "Deleted",
                  fmt::format("Deleted stats service {}/{}: spec.monitor is no longer set", run.ns, statsName));
  }

  // --- credentials
  auto auth = ensureAuthSecret(run);
  if (!auth) return auth.error();
  if (!*auth) return finish(run);  // a blocker says why

  // --- halted: the workload goes, everything else stays
  const std::string stsName = api::statefulSetName(run.name);
  if (run.my.halted) {
    if (auto sts = c_.statefulSets->get(run.ns, stsName); sts && kube::isOwnedBy(*sts, run.uid)) {
      auto gone = cli_.remove(kube::kStatefulSets, run.ns, stsName, {.propagationPolicy = "Background"});
      if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
      events_.event(*run.obj, runtime::kEventNormal, "Halted",
                    fmt::format("Halted MySQL {}: deleted StatefulSet {}; PVCs and secrets are kept", run.key, stsName));
    }
    run.facts.halted = true;
    return finish(run);
  }

  // --- the TLS gate (KubeDB: every TLS Secret, and the exporter configuration)
  if (run.my.tls) {
    std::vector<std::string> missing;
    for (const auto& alias : api::tlsAliases()) {
      const std::string s = run.my.certSecretName(alias);
      if (!c_.secrets->get(run.ns, s)) missing.push_back(s);
    }
    const std::string cnf = api::exporterConfigSecretName(run.name);
    if (!c_.secrets->get(run.ns, cnf)) missing.push_back(cnf);
    if (!missing.empty()) {
      run.facts.blocker = Blocker{std::string(kReasonWaitingForTLSSecrets),
                                  fmt::format("wait for all necessary secrets for db {}: missing Secret{} {}", run.key,
                                              missing.size() == 1 ? "" : "s", join(missing))};
      return finish(run);
    }
  }

  // --- the workload
  auto stsWritten = ensureObject(run, kube::kStatefulSets, *c_.statefulSets, buildStatefulSet(run.my, images), "StatefulSet");
  if (!stsWritten) return stsWritten.error();
  if (*stsWritten && version->deprecated) {
    events_.event(*run.obj, runtime::kEventWarning, "DeprecatedVersion",
                  fmt::format("MySQLVersion {:?} is deprecated; plan an upgrade to a current version "
                              "(`kubectl get mysqlversions`)",
                              run.my.version));
  }
  auto sts = c_.statefulSets->get(run.ns, stsName);
  ReplicaCounts counts{run.my.replicas, 0};
  if (sts && !*stsWritten) {
    const Json& st = sts->value("status", Json::object());
    counts.ready = st.value("readyReplicas", int64_t{0});
    // A status from an older spec says nothing about this one.
    if (st.value("observedGeneration", int64_t{0}) < kube::generation(*sts)) counts.ready = 0;
  }
  run.facts.statefulSet = counts;
  if (*stsWritten) {
    health_.trigger(run.key);
  } else {
    run.facts.health = health_.verdict(run.key, run.uid);
  }
  return finish(run);
}

core::Result<bool> Reconciler::ensureAuthSecret(Run& run) {
  if (!run.my.authSecretName.empty()) {
    // The user's Secret: read, never changed.
    auto s = c_.secrets->get(run.ns, run.my.authSecretName);
    if (!s) {
      run.facts.blocker = Blocker{std::string(kReasonAuthSecretMissing),
                                  fmt::format("spec.authSecret.name: Secret {}/{} does not exist; create it with the keys "
                                              "username and password",
                                              run.ns, run.my.authSecretName)};
      return false;
    }
    const Json& data = s->value("data", Json::object());
    if (!data.contains("password")) {
      run.facts.blocker = Blocker{std::string(kReasonAuthSecretMissing),
                                  fmt::format("spec.authSecret.name: Secret {}/{} has no key \"password\"", run.ns,
                                              run.my.authSecretName)};
      return false;
    }
    return true;
  }
  const std::string name = api::authSecretName(run.name);
  auto cached = c_.secrets->get(run.ns, name);
  if (cached && !labelledFor(*cached, run.name)) {
    run.facts.blocker = Blocker{std::string(kReasonAuthSecretConflict),
                                fmt::format("intended secret {}/{} already exists and does not belong to MySQL {}; it is left "
                                            "alone: name another auth Secret in spec.authSecret.name or remove that Secret",
                                            run.ns, name, run.key)};
    return false;
  }
  if (!cached) {
    auto password = password_();
    if (!password) return password.error();
    auto created = cli_.create(kube::kSecrets, run.ns, buildAuthSecret(run.my, *password));
    if (!created && !created.error().is(core::ErrorCode::kAlreadyExists)) return created.error();
    if (!created) {
      // Created meanwhile (our cache is behind): the next reconcile checks whose it is.
      return core::Error(core::ErrorCode::kConflict, fmt::format("Secret {}/{} appeared meanwhile", run.ns, name));
    }
    events_.event(*run.obj, runtime::kEventNormal, "Created",
                  fmt::format("Successfully created database auth secret {}/{}", run.ns, name));
  }
  // Record the name in the spec, as KubeDB does (only this field is patched).
  auto patched = cli_.patch(api::mysqlResource(), run.ns, run.name, kube::PatchType::kMerge,
                            Json{{"spec", {{"authSecret", {{"name", name}}}}}});
  if (!patched) return patched.error();
  run.my.authSecretName = name;
  return true;
}

core::Result<ReconcileResult> Reconciler::finish(Run& run) {
  auto written = writeStatus(run);
  if (!written) return written.error();
  return ReconcileResult{};
}

core::Result<bool> Reconciler::writeStatus(Run& run) {
  const core::WallTime now = clock_.now();
  const Json current = run.obj->value("status", Json::object());
  Json next = desiredStatus(current, run.facts, now);
  if (next == current) return false;
  auto before = kube::findCondition(current.value("conditions", Json::array()), kCondReady);
  auto written = runtime::updateStatus(cli_, api::mysqlResource(), run.ns, run.name, [&](Json& latest) {
    Json s = desiredStatus(latest.value("status", Json::object()), run.facts, now);
    if (latest.contains("status") && s == latest["status"]) return false;
    latest["status"] = std::move(s);
    return true;
  });
  if (!written) return written.error();
  // Say it once, when Ready changes: why provisioning waits or fails, or that it is ready.
  auto after = kube::findCondition(next["conditions"], kCondReady);
  if (after && (!before || before->reason != after->reason || before->message != after->message)) {
    const bool warning = after->reason == kReasonInvalidSpec || after->reason == kReasonAuthSecretConflict ||
                         after->reason == kReasonAuthSecretMissing || after->reason == kReasonVersionNotFound ||
                         after->reason == "ReadinessCheckFailed";
    if (after->reason != "ReadinessCheckPending") {
      events_.event(*run.obj, warning ? runtime::kEventWarning : runtime::kEventNormal, after->reason, after->message);
    }
  }
  return *written;
}

core::Result<ReconcileResult> Reconciler::terminate(Run& run) {
  if (!kube::hasFinalizer(*run.obj, api::kFinalizer)) return ReconcileResult{};
  const std::string policy = policyOf(*run.obj);
  if (policy == "DoNotTerminate") {
    run.facts.deletionBlocked = fmt::format(
        "MySQL {} is not deleted because its deletionPolicy is DoNotTerminate; to delete it, set another policy, e.g. "
        "kubectl patch mysql {} -n {} --type=merge -p '{{\"spec\":{{\"deletionPolicy\":\"Delete\"}}}}'",
        run.key, run.name, run.ns);
    const bool wasBlocked = kube::findStatusCondition(*run.obj, kCondDeletionBlocked).has_value();
    // Only the deletion condition is added; the rest of the status stays as it is.
    const kube::Condition blocked{std::string(kCondDeletionBlocked), "True", "DoNotTerminate", *run.facts.deletionBlocked,
                                  run.facts.generation, ""};
    const core::WallTime now = clock_.now();
    Json conds = run.obj->value("status", Json::object()).value("conditions", Json::array());
    if (kube::setCondition(conds, blocked, now)) {
      auto w = runtime::updateStatus(cli_, api::mysqlResource(), run.ns, run.name, [&](Json& latest) {
        Json c = latest.value("status", Json::object()).value("conditions", Json::array());
        if (!kube::setCondition(c, blocked, now)) return false;
        latest["status"]["conditions"] = std::move(c);
        return true;
      });
      if (!w) return w.error();
    }
    if (!wasBlocked) events_.event(*run.obj, runtime::kEventWarning, "DeletionBlocked", *run.facts.deletionBlocked);
    return ReconcileResult{};
  }

  std::vector<std::string> done;
  // The workload.
  const std::string stsName = api::statefulSetName(run.name);
  if (auto sts = c_.statefulSets->get(run.ns, stsName); sts && kube::isOwnedBy(*sts, run.uid)) {
    auto gone = cli_.remove(kube::kStatefulSets, run.ns, stsName, {.propagationPolicy = "Background"});
    if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
    done.push_back("StatefulSet " + stsName);
  }
  // The data: the StatefulSet's PVCs carry its selector labels.
  auto pvcs = cli_.listAll(kube::kPersistentVolumeClaims, run.ns, {.labelSelector = selectorString(run.name)});
  if (!pvcs) return pvcs.error();
  for (const auto& pvc : pvcs->value("items", Json::array())) {
    const std::string n = kube::name(pvc);
    if (policy == "Halt") {
      Json next = pvc;
      if (!kube::removeOwnerReference(next, run.uid)) continue;
      auto w = cli_.update(kube::kPersistentVolumeClaims, next);
      if (!w && !w.error().is(core::ErrorCode::kNotFound)) return w.error();
    } else {
      auto gone = cli_.remove(kube::kPersistentVolumeClaims, run.ns, n);
      if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
      done.push_back("PVC " + n);
    }
  }
  // WipeOut: the cert-manager Certificates made for this database go first — while one exists,
  // cert-manager would issue its Secret again the moment it is deleted. (No cert-manager API on
  // the cluster: nothing to do.)
  if (policy == "WipeOut") {
    auto certs = cli_.listAll(api::certificateResource(), run.ns, {.labelSelector = selectorString(run.name)});
    if (!certs && !certs.error().is(core::ErrorCode::kNotFound)) return certs.error();
    bool waiting = false;
    for (const auto& c : certs ? certs->value("items", Json::array()) : Json::array()) {
      if (!kube::isOwnedBy(c, run.uid)) continue;
      waiting = true;
      if (kube::isBeingDeleted(c)) continue;
      auto gone = cli_.remove(api::certificateResource(), run.ns, kube::name(c));
      if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
    }
    if (waiting) return ReconcileResult{.requeueAfter = std::chrono::milliseconds(500)};
  }
  // The secrets we (or cert-manager for us) made: labelled for this database or owned by it.
  // A user's Secret is neither and is never touched.
  for (const auto& s : c_.secrets->list(run.ns)) {
    if (!labelledFor(*s, run.name) && !kube::isOwnedBy(*s, run.uid)) continue;
    const std::string n = kube::name(*s);
    if (policy == "WipeOut") {
      auto gone = cli_.remove(kube::kSecrets, run.ns, n);
      if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
      done.push_back("Secret " + n);
    } else {
      // Delete and Halt keep secrets: take them out of the garbage collector's reach.
      Json next = *s;
      if (!kube::removeOwnerReference(next, run.uid)) continue;
      auto w = cli_.update(kube::kSecrets, next);
      if (!w && !w.error().is(core::ErrorCode::kNotFound)) return w.error();
    }
  }
  auto dropped = runtime::dropFinalizer(cli_, api::mysqlResource(), *run.obj, std::string(api::kFinalizer));
  if (!dropped && dropped.error().is(core::ErrorCode::kNotFound)) return ReconcileResult{};  // already gone
  if (!dropped) return dropped.error();
  health_.forget(run.key);
  events_.event(*run.obj, runtime::kEventNormal, "Terminated",
                fmt::format("MySQL {} deleted with deletionPolicy {}{}{}", run.key, policy, done.empty() ? "" : ": removed ",
                            join(done)));
  log_.info("terminated", {{"namespace", run.ns}, {"name", run.name}, {"policy", policy}});
  return ReconcileResult{};
}

}  // namespace mysqlop::community
