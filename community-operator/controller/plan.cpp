#include "community-operator/controller/plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/catalog.h"
#include "common/api/conditions.h"
#include "common/api/events.h"
#include "common/api/naming.h"
#include "common/api/ops_request.h"
#include "common/core/time_format.h"
#include "common/kube/object.h"
#include "common/pki/pki.h"
#include "common/runtime/writes.h"
#include "community-operator/builders/rbac_builder.h"
#include "community-operator/builders/secret_builder.h"
#include "community-operator/builders/service_builder.h"
#include "community-operator/builders/statefulset_builder.h"
#include "community-operator/controller/group_plan.h"
#include "community-operator/controller/secret_summary.h"
#include "community-operator/controller/trust_bundle.h"

namespace mysqlop::community {
namespace {

std::string join(const std::vector<std::string>& parts, std::string_view sep = ", ") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}

std::string joinErrors(const api::FieldErrors& errs) {
  std::vector<std::string> parts;
  for (const auto& e : errs) parts.push_back(e.toString());
  return join(parts, "; ");
}

// Labelled for this MySQL: the whole selector — instance and managed-by alone are shared by every
// KubeDB database of that name (a MariaDB `my` labels its Secrets instance=my too).
bool labelledFor(const Json& obj, const std::string& db) {
  for (const auto& [k, v] : api::selectorLabels(db)) {
    if (kube::label(obj, k) != v) return false;
  }
  return true;
}

// Ours to delete: owned by this MySQL (its uid), or the auth Secret we made (labelled and marked).
bool madeFor(const Json& obj, const std::string& db, const std::string& uid) {
  return kube::isOwnedBy(obj, uid) || (labelledFor(obj, db) && kube::annotation(obj, api::kAnnotationAuthSecretFor) == db);
}

Blocker blocker(std::string_view reason, std::string message) { return Blocker{std::string(reason), std::move(message)}; }

std::string key(const Json& mysql) { return kube::namespaceOf(mysql) + "/" + kube::name(mysql); }

// One reconcile's decision in the making.
struct Planner {
  const Observed& o;
  core::WallTime now;
  Plan out;
  StatusFacts facts;

  void ensure(const kube::ResourceType& rt, Json desired, const runtime::ObjectPtr& cached, std::string what) {
    out.steps.push_back(EnsureStep{&rt, std::move(desired), cached, std::move(what), {}});
  }
  // Finishes with the community status from `facts` (written only when it changes).
  Plan finish() {
    StatusChange change{.facts = facts, .deletionBlocked = std::nullopt};
    const Json current = o.mysql->value("status", Json::object());
    const Json next = change.applyTo(current, now);
    if (next != current) {
      out.status = std::move(change);
      if (auto e = readyEvent(current, next)) out.onStatusWrite.push_back(*e);
      for (auto& e : servedEvents(current, next)) out.onStatusWrite.push_back(std::move(e));
    }
    return std::move(out);
  }
};

struct Catalog {
  Images images;
  bool deprecated = false;
};

// The MySQLVersion: the images, or why there are none.
core::Result<Catalog, Blocker> readCatalog(const api::MySQL& my, const Observed& o) {
  if (!o.version) {
    return blocker(api::kReasonVersionNotFound,
                   fmt::format("spec.version: MySQLVersion {:?} not found; `kubectl get mysqlversions` lists the "
                               "versions this cluster offers",
                               my.version));
  }
  auto version = api::parseMySQLVersion(*o.version);
  if (!version) {
    return blocker(api::kReasonVersionNotFound, fmt::format("spec.version: MySQLVersion {:?} is malformed: {}", my.version,
                                                            joinErrors(version.error())));
  }
  if (my.monitor && version->exporterImage.empty()) {
    return blocker(api::kReasonInvalidSpec,
                   fmt::format("spec.monitor: MySQLVersion {:?} has no spec.exporter.image for the exporter sidecar",
                               my.version));
  }
  return Catalog{Images{version->dbImage, version->exporterImage}, version->deprecated};
}

// RBAC for the database pods and the Services; the stats Service goes when monitoring does.
void planOffshoots(Planner& p, const api::MySQL& my) {
  const Observed& o = p.o;
  p.ensure(kube::kServiceAccounts, buildServiceAccount(my), o.serviceAccount, "service account");
  p.ensure(kube::kRoles, buildRole(my), o.role, "role");
  p.ensure(kube::kRoleBindings, buildRoleBinding(my), o.roleBinding, "role binding");
  auto service = [&](const std::string& name) {
    auto it = o.services.find(name);
    return it == o.services.end() ? nullptr : it->second;
  };
  p.ensure(kube::kServices, buildGoverningService(my), service(api::governingServiceName(my.name)), "governing service");
  p.ensure(kube::kServices, buildPrimaryService(my), service(api::primaryServiceName(my.name)),
           "service for primary/standalone");
  const std::string standby = api::standbyServiceName(my.name);
  if (my.isGroup()) {
    p.ensure(kube::kServices, buildStandbyService(my), service(standby), "service for standby");
  } else if (auto s = service(standby); s && kube::isOwnedBy(*s, my.uid)) {
    p.out.steps.push_back(DeleteStep{&kube::kServices, standby, "", std::nullopt});
  }
  const std::string stats = api::statsServiceName(my.name);
  const auto monitor = buildServiceMonitor(my);
  if (my.monitor) {
    EnsureStep step{&kube::kServices, buildStatsService(my), service(stats), "stats service", {}};
    if (monitor && !o.serviceMonitorsServed) {
      step.onWrite.push_back({true, std::string(api::kEventServiceMonitorUnavailable),
                              fmt::format("spec.monitor.agent {}: this cluster does not serve monitoring.coreos.com/v1 "
                                          "ServiceMonitors, so none is made for {}/{} (install the Prometheus Operator's "
                                          "CRDs, then restart the community operator); the stats Service is there to scrape",
                                          api::kAgentPrometheusOperator, my.namespace_, stats)});
    }
    p.out.steps.push_back(std::move(step));
  } else if (auto s = service(stats); s && kube::isOwnedBy(*s, my.uid)) {
    p.out.steps.push_back(DeleteStep{&kube::kServices, stats, "",
                                     EventSpec{false, std::string(api::kEventDeleted),
                                               fmt::format("Deleted stats service {}/{}: spec.monitor is no longer set",
                                                           my.namespace_, stats)}});
  }
}

// The Prometheus Operator's ServiceMonitor (monitor.agent prometheus.io/operator), where the
// cluster serves them; ours goes when that agent does.
void planServiceMonitor(Planner& p, const api::MySQL& my) {
  const Observed& o = p.o;
  if (!o.serviceMonitorsServed) return;
  if (auto monitor = buildServiceMonitor(my)) {
    p.ensure(api::serviceMonitorResource(), std::move(*monitor), o.serviceMonitor, "service monitor");
  } else if (o.serviceMonitor && kube::isOwnedBy(*o.serviceMonitor, my.uid)) {
    p.out.steps.push_back(DeleteStep{&api::serviceMonitorResource(), kube::name(*o.serviceMonitor), "",
                                     EventSpec{false, std::string(api::kEventDeleted),
                                               fmt::format("Deleted service monitor {}/{}: spec.monitor.agent is no longer {}",
                                                           my.namespace_, kube::name(*o.serviceMonitor), api::kAgentPrometheusOperator)}});
  }
}

// When the pod's mysql container started (its current run); nullopt when it is not running.
std::optional<core::WallTime> mysqlStartedAt(const Json& pod) {
  for (const auto& c : pod.value("status", Json::object()).value("containerStatuses", Json::array())) {
    if (c.value("name", "") != api::kContainerMySQL) continue;
    const Json* at = kube::find(c, {"state", "running", "startedAt"});
    if (!at || !at->is_string()) return std::nullopt;
    auto t = core::parseTime(at->get<std::string>());
    return t ? std::optional(*t) : std::nullopt;
  }
  return std::nullopt;
}

bool podReady(const Json& pod) {
  const Json conditions = pod.value("status", Json::object()).value("conditions", Json::array());
  auto ready = kube::findCondition(conditions, "Ready");
  return ready && ready->status == kube::kConditionTrue;
}

// A group's pods carry the role their member has now (the Services select by it).
void planRoles(Planner& p, const GroupFacts& group) {
  for (const auto& [name, pod] : p.o.pods) {
    const Json* have = kube::find(*pod, {"metadata", "labels", std::string(api::kLabelRole)});
    std::optional<std::string> want = roleLabel(group, name);
    // Only what its current mysqld said: facts from before it started were its predecessor's (a
    // restarted server is writable until it joins — labelled primary on old facts, it would take
    // writes the group never sees).
    const auto started = mysqlStartedAt(*pod);
    // (startedAt has whole seconds: a second's margin.)
    if (want && (!podReady(*pod) || !started || group.observedAt <= *started + std::chrono::seconds(1))) want.reset();
    const std::optional<std::string> current = have && have->is_string() ? std::optional(have->get<std::string>()) : std::nullopt;
    if (want != current) p.out.steps.push_back(LabelPodStep{name, want});
  }
}

// The StatefulSet and what its status and the health checker say of it.
void planWorkload(Planner& p, const api::MySQL& my, const Images& images, bool deprecated) {
  const Observed& o = p.o;
  const Json desired = buildStatefulSet(my, images);
  const bool writes = !runtime::converged(o.statefulSet, desired);
  EnsureStep step{&kube::kStatefulSets, desired, o.statefulSet, "StatefulSet", {}};
  if (deprecated) {
    step.onWrite.push_back({true, std::string(api::kEventDeprecatedVersion),
                            fmt::format("MySQLVersion {:?} is deprecated; plan an upgrade to a current version "
                                        "(`kubectl get mysqlversions`)",
                                        my.version)});
  }
  p.out.steps.push_back(std::move(step));
  ReplicaCounts counts{my.replicas, 0};
  if (o.statefulSet && !writes) {
    const Json& st = o.statefulSet->value("status", Json::object());
    counts.ready = st.value("readyReplicas", int64_t{0});
    // A status from an older spec says nothing about this one.
    if (st.value("observedGeneration", int64_t{0}) < kube::generation(*o.statefulSet)) counts.ready = 0;
  }
  p.facts.statefulSet = counts;
  if (writes) {
    p.out.triggerHealth = true;
    p.facts.workloadWritten = true;
  } else {
    p.facts.health = o.health;
    p.facts.outdatedPods = outdatedPods(*o.statefulSet, o.pods);
    // While a MySQLOpsRequest runs (the pause marker), pods restart by its hand alone.
    if (api::pausedBy(*o.mysql).empty()) {
      if (auto restart = restartForTls(my, o)) p.out.steps.push_back(std::move(*restart));
    }
    if (my.isGroup() && o.health && o.health->group) planRoles(p, *o.health->group);
  }
}

Plan provision(Planner& p) {
  if (!kube::hasFinalizer(*p.o.mysql, api::kFinalizer)) p.out.steps.push_back(AddFinalizerStep{});
  auto spec = readSpec(*p.o.mysql);
  if (!spec) {
    p.facts.blocker = spec.error();
    return p.finish();
  }
  api::MySQL my = std::move(*spec);
  p.facts.tls = my.tls.has_value();
  if (my.isGroup() && my.topology->groupName.empty()) {
    // Named before anything is made from it; the write brings the MySQL back.
    p.out.steps.push_back(RecordGroupStep{kube::resourceVersion(*p.o.mysql), my.topology->groupMode});
    return p.finish();
  }
  auto catalog = readCatalog(my, p.o);
  if (!catalog) {
    p.facts.blocker = catalog.error();
    return p.finish();
  }
  planOffshoots(p, my);
  planServiceMonitor(p, my);
  if (auto b = authSecretBlocker(my, p.o)) {
    p.facts.blocker = *b;
    // A user's Secret carries no label of ours, so no watch brings it: it is looked for again.
    if (b->reason == api::kReasonAuthSecretMissing) p.out.requeueAfter = kUserSecretRecheck;
    return p.finish();
  }
  if (my.authSecretName.empty()) {
    // Ours: made once, and its name recorded in the spec as KubeDB does.
    if (!p.o.secret(api::authSecretName(my.name))) p.out.steps.push_back(CreateAuthSecretStep{my});
    my.authSecretName = api::authSecretName(my.name);
    p.out.steps.push_back(RecordAuthSecretStep{my.authSecretName});
  }
  if (my.halted) {
    // The workload goes, everything else stays.
    if (auto sts = p.o.statefulSet; sts && kube::isOwnedBy(*sts, my.uid)) {
      p.out.steps.push_back(DeleteStep{
          &kube::kStatefulSets, kube::name(*sts), "Background",
          EventSpec{false, std::string(api::kEventHalted),
                    fmt::format("Halted MySQL {}: deleted StatefulSet {}; PVCs and secrets are kept", key(*p.o.mysql),
                                kube::name(*sts))}});
    }
    p.facts.halted = true;
    return p.finish();
  }
  if (auto b = tlsGate(my, p.o)) {
    p.facts.blocker = *b;
    return p.finish();
  }
  if (auto bundle = p.o.secret(api::trustBundleSecretName(my.name)); !my.tls && bundle && kube::isOwnedBy(*bundle, my.uid)) {
    // TLS removed: its trust bundle goes with it.
    p.out.steps.push_back(DeleteStep{&kube::kSecrets, kube::name(*bundle), "", std::nullopt});
  }
  if (auto b = my.tls ? planTrustBundle(p.out, p.facts, my, p.o, p.now) : std::nullopt) {
    p.facts.blocker = *b;
    return p.finish();
  }
  planWorkload(p, my, catalog->images, catalog->deprecated);
  return p.finish();
}

// --- deletion ----------------------------------------------------------------------------------

std::string doNotTerminateMessage(const Json& mysql) {
  return fmt::format(
      "MySQL {} is not deleted because its deletionPolicy is DoNotTerminate; to delete it, set another policy, e.g. "
      "kubectl patch mysql {} -n {} --type=merge -p '{{\"spec\":{{\"deletionPolicy\":\"Delete\"}}}}'",
      key(mysql), kube::name(mysql), kube::namespaceOf(mysql));
}

// Deletion refused: only DeletionBlocked is set, and said once.
// How long a WipeOut waits for the enterprise operator before the status says so.
constexpr std::chrono::seconds kCertificateRemovalPatience{30};

Plan blockDeletion(Planner& p, std::string_view reason, const std::string& message) {
  const kube::Condition blocked{std::string(api::kCondDeletionBlocked), "True", std::string(reason), message,
                                kube::generation(*p.o.mysql), ""};
  StatusChange change{.facts = std::nullopt, .deletionBlocked = blocked};
  const Json current = p.o.mysql->value("status", Json::object());
  if (change.applyTo(current, p.now) != current) p.out.status = std::move(change);
  if (!kube::findStatusCondition(*p.o.mysql, api::kCondDeletionBlocked)) {
    p.out.onStatusWrite.push_back({true, std::string(api::kCondDeletionBlocked), message});
  }
  return std::move(p.out);
}

// PVCs: Halt keeps them (and their data) out of the garbage collector's reach; the others delete them.
void planVolumes(Planner& p, api::DeletionPolicy policy, const std::string& uid, std::vector<std::string>& done) {
  for (const auto& pvc : p.o.pvcs) {
    if (policy == api::DeletionPolicy::kHalt) {
      Json next = pvc;
      if (kube::removeOwnerReference(next, uid)) {
        p.out.steps.push_back(DisownStep{&kube::kPersistentVolumeClaims, std::move(next)});
      }
    } else {
      p.out.steps.push_back(DeleteStep{&kube::kPersistentVolumeClaims, kube::name(pvc), "", std::nullopt});
      done.push_back("PVC " + kube::name(pvc));
    }
  }
}

// Secrets we (or cert-manager for us) made: owned by this database, or the auth Secret we marked.
// WipeOut deletes them; Delete and Halt keep them without our ownerReference. A user's Secret, or
// another database's that merely shares labels, is neither and is never touched.
void planSecrets(Planner& p, api::DeletionPolicy policy, const std::string& uid, std::vector<std::string>& done) {
  const std::string db = kube::name(*p.o.mysql);
  for (const auto& [name, s] : p.o.secrets) {
    if (!madeFor(*s, db, uid)) continue;
    if (policy == api::DeletionPolicy::kWipeOut) {
      p.out.steps.push_back(DeleteStep{&kube::kSecrets, name, "", std::nullopt});
      done.push_back("Secret " + name);
    } else if (Json next = *s; kube::removeOwnerReference(next, uid)) {
      p.out.steps.push_back(DisownStep{&kube::kSecrets, std::move(next)});
    }
  }
}

Plan terminate(Planner& p) {
  const Json& obj = *p.o.mysql;
  p.out.forgetHealth = true;
  if (!kube::hasFinalizer(obj, api::kFinalizer)) return std::move(p.out);
  auto policy = api::readDeletionPolicy(obj.value("spec", Json::object()));
  if (!policy) {
    return blockDeletion(p, api::kReasonInvalidDeletionPolicy,
                         fmt::format("MySQL {} is not deleted because its deletion policy cannot be read: {}; correct it "
                                     "with kubectl patch mysql {} -n {} --type=merge",
                                     key(obj), joinErrors(policy.error()), kube::name(obj), kube::namespaceOf(obj)));
  }
  const api::DeletionPolicy pol = policy->value_or(api::DeletionPolicy::kDelete);
  if (pol == api::DeletionPolicy::kDoNotTerminate) return blockDeletion(p, api::kReasonDoNotTerminate, doNotTerminateMessage(obj));

  if (pol == api::DeletionPolicy::kWipeOut && kube::hasFinalizer(obj, api::kTlsFinalizer)) {
    // The enterprise operator removes the Certificates it made (while one exists, cert-manager
    // would issue its Secret again the moment we delete it) and then its finalizer, whose removal
    // brings us back. Nothing goes before that; a wait that lasts is reported.
    p.out.requeueAfter = kCertificateRemovalPatience;
    auto since = core::parseTime(obj["metadata"].value("deletionTimestamp", ""));
    if (since && p.now - *since >= kCertificateRemovalPatience) {
      Json rest = Json::array();
      for (const auto& f : obj["metadata"].value("finalizers", Json::array())) {
        if (f != api::kTlsFinalizer) rest.push_back(f);
      }
      const Json patch = {{"metadata", {{"finalizers", rest}}}};
      return blockDeletion(p, api::kReasonWaitingForCertificateRemoval,
                           fmt::format("MySQL {} waits for the enterprise operator to remove its Certificates (finalizer "
                                       "{}); if the enterprise operator is no longer installed, remove that finalizer: "
                                       "kubectl patch mysql {} -n {} --type=merge -p '{}'",
                                       key(obj), api::kTlsFinalizer, kube::name(obj), kube::namespaceOf(obj), patch.dump()));
    }
    return std::move(p.out);
  }

  const std::string uid = kube::uid(obj);
  std::vector<std::string> done;
  if (auto sts = p.o.statefulSet; sts && kube::isOwnedBy(*sts, uid)) {
    if (!kube::isBeingDeleted(*sts)) {
      p.out.steps.push_back(DeleteStep{&kube::kStatefulSets, kube::name(*sts), "Background", std::nullopt});
    }
    done.push_back("StatefulSet " + kube::name(*sts));
  }
  if (pol != api::DeletionPolicy::kHalt && !p.o.pods.empty()) {
    // The volumes go once the pods have: a StatefulSet controller acting on a stale cache could
    // otherwise make a pod, and with it a claim, again — one nobody would ever delete.
    p.out.requeueAfter = std::chrono::seconds(1);
    return std::move(p.out);
  }
  planVolumes(p, pol, uid, done);
  planSecrets(p, pol, uid, done);
  p.out.steps.push_back(DropFinalizerStep{
      EventSpec{false, std::string(api::kEventTerminated),
                fmt::format("MySQL {} deleted with deletionPolicy {}{}{}", key(obj), api::toString(pol),
                            done.empty() ? "" : ": removed ", join(done))}});
  return std::move(p.out);
}

}  // namespace

runtime::ObjectPtr Observed::secret(const std::string& name) const {
  auto it = secrets.find(name);
  return it == secrets.end() ? nullptr : it->second;
}

Json StatusChange::applyTo(const Json& status, core::WallTime now) const {
  if (facts) return desiredStatus(status, *facts, now);
  Json out = status.is_object() ? status : Json::object();
  if (deletionBlocked) runtime::ConditionChange{{*deletionBlocked}, {}}.applyTo(out, now);
  return out;
}

core::Result<api::MySQL, Blocker> readSpec(const Json& mysql) {
  auto parsed = api::parseMySQL(mysql);
  api::FieldErrors errors;
  if (parsed) {
    api::setDefaults(*parsed);
    errors = api::validate(*parsed);
  } else {
    errors = parsed.error();
  }
  if (!errors.empty()) return blocker(api::kReasonInvalidSpec, "The MySQL spec is invalid: " + joinErrors(errors));
  return std::move(*parsed);
}

std::optional<Blocker> tlsGate(const api::MySQL& my, const Observed& o) {
  if (!my.tls) return std::nullopt;
  std::vector<std::string> needed;
  for (const auto& alias : api::tlsAliases()) needed.push_back(my.certSecretName(alias));
  needed.push_back(api::exporterConfigSecretName(my.name));
  if (std::all_of(needed.begin(), needed.end(), [&](const std::string& n) { return o.secret(n) != nullptr; })) {
    return std::nullopt;
  }
  // The same words until the wait ends: each Secret that appears costs no status write (which
  // are still missing: kubectl get secrets; what cert-manager is at: TLSCertificatesReady).
  return blocker(api::kReasonWaitingForTLSSecrets,
                 fmt::format("wait for all necessary secrets for db {}/{}: Secrets {} (made by cert-manager and the "
                             "enterprise operator; see condition TLSCertificatesReady)",
                             my.namespace_, my.name, join(needed)));
}

namespace {

// What of the database uses which CA now: its TLS Secrets' ca.crt and its pods' served
// certificates; `servedKnown` when every pod's signer was seen.
std::vector<CaUse> caUses(const api::MySQL& my, const Observed& o, bool& servedKnown) {
  std::vector<CaUse> uses;
  for (const auto& alias : api::tlsAliases()) {
    if (auto secret = o.secret(my.certSecretName(alias))) {
      for (auto& d : caDigestsOf(*secret)) uses.push_back({std::move(d), alias});
    }
  }
  // The CA the issuer signs with now (the enterprise operator's, for `ca` issuers): trusted before
  // any certificate of it exists.
  if (auto issuer = o.secret(api::issuerCaSecretName(my.name)); issuer && kube::isOwnedBy(*issuer, my.uid)) {
    for (auto& d : caDigestsOf(*issuer)) uses.push_back({std::move(d), "issuer"});
  }
  const auto* served = o.health && o.health->served ? &*o.health->served : nullptr;
  servedKnown = served && static_cast<int64_t>(served->size()) >= std::max<int64_t>(my.replicas, 1);
  if (served) {
    for (const auto& s : *served) {
      if (s.caSha256.empty()) servedKnown = false;
      else uses.push_back({s.caSha256, "served by " + s.pod});
    }
  }
  return uses;
}

std::vector<TrustedCaStatus> trustedStatus(const TrustDecision& d, const Observed& o, std::chrono::seconds grace) {
  std::vector<TrustedCaStatus> out;
  for (const auto& ca : d.cas) {
    TrustedCaStatus st{.sha256 = ca.sha256, .usedBy = ca.usedBy};
    if (o.health) {
      const auto& loaded = o.health->loadedCas;
      st.loadedByPods = std::find(loaded.begin(), loaded.end(), ca.sha256) != loaded.end();
    }
    if (auto pem = o.caPems.find(ca.sha256); pem != o.caPems.end()) {
      if (auto c = pki::parseCertificate(pem->second)) {
        const auto f = pki::inspect(*c);
        st.subject = f.subjectLine;
        st.notAfter = core::formatTime(f.notAfter);
      }
    }
    if (ca.unusedSince) {
      st.unusedSince = core::formatTime(*ca.unusedSince);
      st.leavesAfter = core::formatTime(*ca.unusedSince + grace);
    }
    out.push_back(std::move(st));
  }
  return out;
}

bool sameState(const std::vector<TrustedCa>& a, const std::vector<TrustedCa>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].sha256 != b[i].sha256 || a[i].unusedSince != b[i].unusedSince) return false;
  }
  return true;
}

std::string shortList(const std::vector<std::string>& digests) {
  std::vector<std::string> out;
  for (const auto& d : digests) out.push_back("sha256:" + d.substr(0, 16));
  return join(out);
}

}  // namespace

std::optional<Blocker> planTrustBundle(Plan& out, StatusFacts& facts, const api::MySQL& my, const Observed& o,
                                       core::WallTime now) {
  const std::string name = api::trustBundleSecretName(my.name);
  auto bundle = o.secret(name);
  if (bundle && !kube::isOwnedBy(*bundle, my.uid)) {
    return blocker(api::kReasonTrustBundleConflict,
                   fmt::format("Secret {}/{} exists and does not belong to MySQL {}/{}; it is left alone: the database's "
                               "trust bundle needs that name",
                               my.namespace_, name, my.namespace_, my.name));
  }
  bool servedKnown = false;
  const auto uses = caUses(my, o, servedKnown);
  const std::vector<TrustedCa> previous = bundle ? trustedCasOf(*bundle) : std::vector<TrustedCa>{};
  const auto grace = retentionOf(my, o.caRetention);
  const TrustDecision d = decideTrust({previous, uses, servedKnown, grace}, now);
  if (d.nextChange) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(std::max(*d.nextChange, std::chrono::seconds(1)));
    out.requeueAfter = out.requeueAfter ? std::min(*out.requeueAfter, wait) : wait;
  }
  facts.trustedCas = trustedStatus(d, o, grace);
  std::vector<std::string> want, have = bundle ? caDigestsOf(*bundle) : std::vector<std::string>{};
  for (const auto& ca : d.cas) want.push_back(ca.sha256);
  if (bundle && have == want && sameState(previous, d.cas)) return std::nullopt;  // converged: no write
  auto desired = buildTrustBundle(my, d.cas, o.caPems);
  if (!desired) {
    out.requeueAfter = std::chrono::seconds(1);
    return blocker(api::kReasonTrustBundlePending,
                   fmt::format("the trust bundle {}/{} waits: {}", my.namespace_, name, desired.error().message));
  }
  EnsureStep step{&kube::kSecrets, std::move(*desired), bundle, "trust bundle", {}};
  if (bundle && have != want) {
    std::vector<std::string> added, removed;
    for (const auto& d2 : want) {
      if (std::find(have.begin(), have.end(), d2) == have.end()) added.push_back(d2);
    }
    for (const auto& d2 : have) {
      if (std::find(want.begin(), want.end(), d2) == want.end()) removed.push_back(d2);
    }
    std::string msg = fmt::format("Trust bundle {}/{} now holds {} CA(s)", my.namespace_, name, want.size());
    if (!added.empty()) msg += "; added " + shortList(added);
    if (!removed.empty()) msg += "; removed " + shortList(removed) + " (nothing of the database uses it any more)";
    step.onWrite.push_back({false, std::string(api::kEventTrustBundleChanged), msg});
  }
  out.steps.push_back(std::move(step));
  return std::nullopt;
}

std::optional<Blocker> authSecretBlocker(const api::MySQL& my, const Observed& o) {
  if (!my.authSecretName.empty()) {
    // The user's Secret (or ours, once recorded): read, never changed.
    auto s = o.secret(my.authSecretName);
    if (!s) {
      return blocker(api::kReasonAuthSecretMissing,
                     fmt::format("spec.authSecret.name: Secret {}/{} does not exist; create it with the keys username "
                                 "and password",
                                 my.namespace_, my.authSecretName));
    }
    if (!s->value("data", Json::object()).contains("password")) {
      return blocker(api::kReasonAuthSecretMissing, fmt::format("spec.authSecret.name: Secret {}/{} has no key \"password\"",
                                                                my.namespace_, my.authSecretName));
    }
    return std::nullopt;
  }
  const std::string name = api::authSecretName(my.name);
  if (auto s = o.secret(name); s && !labelledFor(*s, my.name)) {
    return blocker(api::kReasonAuthSecretConflict,
                   fmt::format("intended secret {}/{} already exists and does not belong to MySQL {}/{}; it is left alone: "
                               "name another auth Secret in spec.authSecret.name or remove that Secret",
                               my.namespace_, name, my.namespace_, my.name));
  }
  return std::nullopt;
}

std::optional<EventSpec> readyEvent(const Json& before, const Json& after) {
  auto was = kube::findCondition(before.value("conditions", Json::array()), api::kCondReady);
  auto now = kube::findCondition(after.value("conditions", Json::array()), api::kCondReady);
  if (!now || (was && was->reason == now->reason && was->message == now->message)) return std::nullopt;
  // Expected waits are said by the condition alone.
  if (now->reason == api::kReasonReadinessCheckPending || now->reason == api::kReasonWaitingForTLSSecrets) return std::nullopt;
  const bool warning = now->reason == api::kReasonInvalidSpec || now->reason == api::kReasonAuthSecretConflict ||
                       now->reason == api::kReasonAuthSecretMissing || now->reason == api::kReasonVersionNotFound ||
                       now->reason == api::kReasonReadinessCheckFailed;
  return EventSpec{warning, now->reason, now->message};
}

std::vector<EventSpec> servedEvents(const Json& before, const Json& after) {
  std::vector<EventSpec> out;
  auto was = kube::findCondition(before.value("conditions", Json::array()), api::kCondServedCertificatesCurrent);
  auto now = kube::findCondition(after.value("conditions", Json::array()), api::kCondServedCertificatesCurrent);
  if (now && now->status == "False" && (!was || was->reason != now->reason || was->message != now->message) &&
      (now->reason == api::kReasonReloadFailed || now->reason == api::kReasonReloadUnsupported)) {
    out.push_back({true, now->reason, now->message});
  }
  auto wasExpiring = kube::findCondition(before.value("conditions", Json::array()), api::kCondServedCertificatesExpiring);
  auto expiring = kube::findCondition(after.value("conditions", Json::array()), api::kCondServedCertificatesExpiring);
  if (expiring && expiring->status == "True" && (!wasExpiring || wasExpiring->reason != expiring->reason)) {
    out.push_back({true, std::string(expiring->reason == api::kReasonExpired ? api::kEventCertificateExpired : api::kEventCertificateExpiring), expiring->message});
  }
  auto reloads = [](const Json& status) {
    std::map<std::string, std::string> m;
    for (const auto& p : status.value("tls", Json::object()).value("servedCertificates", Json::array())) {
      m[p.value("pod", "")] = p.value("lastReloadTime", "");
    }
    return m;
  };
  // A pod that now serves a certificate of another CA than before: clients that trust one CA
  // alone fail from now on (docs/tls.md §5).
  auto signers = [](const Json& status) {
    std::map<std::string, std::string> m;
    for (const auto& p : status.value("tls", Json::object()).value("servedCertificates", Json::array())) {
      m[p.value("pod", "")] = p.value("caSha256", "");
    }
    return m;
  };
  const auto signedBefore = signers(before);
  for (const auto& [pod, ca] : signers(after)) {
    auto it = signedBefore.find(pod);
    if (ca.empty() || it == signedBefore.end() || it->second.empty() || it->second == ca) continue;
    out.push_back({false, std::string(api::kEventServingNewCa),
                   fmt::format("pod {} serves a certificate of CA sha256:{} (before: sha256:{}); clients that trust a single "
                               "CA must trust the bundle Secret, which holds both",
                               pod, ca.substr(0, 16), it->second.substr(0, 16))});
  }
  const auto earlier = reloads(before);
  for (const auto& p : after.value("tls", Json::object()).value("servedCertificates", Json::array())) {
    const std::string pod = p.value("pod", ""), at = p.value("lastReloadTime", "");
    auto it = earlier.find(pod);
    if (at.empty() || (it != earlier.end() && it->second == at)) continue;
    out.push_back({false, std::string(api::kEventTLSReloaded),
                   fmt::format("pod {} reloaded its TLS material and serves the Secret's certificate (serial {}, until {})",
                               pod, p.value("serialNumber", ""), p.value("notAfter", ""))});
  }
  return out;
}

std::optional<DeleteStep> restartForTls(const api::MySQL& my, const Observed& o) {
  if (!my.tls || !o.health || !o.health->served) return std::nullopt;
  // One at a time, each back and Ready before the next: no pod may be going or not Ready.
  for (const auto& [_, pod] : o.pods) {
    if (kube::isBeingDeleted(*pod) || !podReady(*pod)) return std::nullopt;
  }
  auto secret = o.secret(my.certSecretName(std::string(api::kAliasServer)));
  if (!secret) return std::nullopt;
  const auto issued = certificateOf(*secret);
  if (!issued) return std::nullopt;
  for (const auto& s : *o.health->served) {
    auto pod = o.pods.find(s.pod);
    if (s.reason != api::kReasonReloadUnsupported || pod == o.pods.end()) continue;
    const Json* created = kube::find(*pod->second, {"metadata", "creationTimestamp"});
    if (!created || !created->is_string()) continue;
    auto started = core::parseTime(created->get<std::string>());
    if (!started || *started >= issued->notBefore) continue;  // a restart would bring nothing newer
    return DeleteStep{&kube::kPods, s.pod, "",
                      EventSpec{true, std::string(api::kEventRestartingPod),
                                fmt::format("restarting pod {} to load the renewed TLS certificate (serial {}): {}", s.pod,
                                            issued->serialHex, s.message)}};
  }
  return std::nullopt;
}


Plan plan(const Observed& o, core::WallTime now) {
  Planner p{o, now, {}, {}};
  p.facts.ns = kube::namespaceOf(*o.mysql);
  p.facts.name = kube::name(*o.mysql);
  p.facts.generation = kube::generation(*o.mysql);
  if (kube::isBeingDeleted(*o.mysql)) return terminate(p);
  return provision(p);
}

namespace {

std::vector<std::string> stringsOf(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::map<std::string, Json> byName(const Json& list) {
  std::map<std::string, Json> out;
  if (!list.is_array()) return out;
  for (const auto& e : list) {
    if (e.is_object()) out[e.value("name", "")] = e;
  }
  return out;
}

}  // namespace

std::string templateDifferences(const Json& podSpec, const Json& templateSpec) {
  std::vector<std::string> parts;
  const auto have = byName(podSpec.value("containers", Json::array()));
  const auto want = byName(templateSpec.value("containers", Json::array()));
  for (const auto& [name, w] : want) {
    auto h = have.find(name);
    if (h == have.end()) {
      parts.push_back(fmt::format("container {} added", name));
      continue;
    }
    if (h->second.value("image", "") != w.value("image", "")) {
      parts.push_back(fmt::format("container {} image {} -> {}", name, h->second.value("image", ""), w.value("image", "")));
    }
    const auto was = stringsOf(h->second.value("args", Json::array())), is = stringsOf(w.value("args", Json::array()));
    std::vector<std::string> args;
    for (const auto& a : is) {
      if (std::find(was.begin(), was.end(), a) == was.end()) args.push_back("+" + a);
    }
    for (const auto& a : was) {
      if (std::find(is.begin(), is.end(), a) == is.end()) args.push_back("-" + a);
    }
    if (!args.empty()) parts.push_back(fmt::format("container {} args: {}", name, join(args, " ")));
  }
  for (const auto& [name, _] : have) {
    if (!want.count(name)) parts.push_back(fmt::format("container {} removed", name));
  }
  const auto hadVolumes = byName(podSpec.value("volumes", Json::array()));
  const auto wantVolumes = byName(templateSpec.value("volumes", Json::array()));
  for (const auto& [name, _] : wantVolumes) {
    if (!hadVolumes.count(name)) parts.push_back(fmt::format("volume {} added", name));
  }
  for (const auto& [name, v] : hadVolumes) {
    // A claim template becomes a volume of the pod only: not a difference.
    if (!wantVolumes.count(name) && !v.contains("persistentVolumeClaim")) parts.push_back(fmt::format("volume {} removed", name));
  }
  return parts.empty() ? std::string("its template changed") : join(parts, ", ");
}

std::optional<std::vector<OutdatedPod>> outdatedPods(const Json& sts, const std::map<std::string, runtime::ObjectPtr>& pods) {
  const Json status = sts.value("status", Json::object());
  const std::string revision = status.value("updateRevision", "");
  if (revision.empty() || status.value("observedGeneration", int64_t{0}) < kube::generation(sts)) return std::nullopt;
  const Json* tmpl = kube::find(sts, {"spec", "template", "spec"});
  std::vector<OutdatedPod> out;
  for (const auto& [name, pod] : pods) {
    if (!pod || kube::isBeingDeleted(*pod)) continue;
    auto hash = kube::label(*pod, "controller-revision-hash");
    if (!hash || *hash == revision) continue;
    out.push_back({name, tmpl ? templateDifferences(pod->value("spec", Json::object()), *tmpl) : "its template changed"});
  }
  return out;
}

std::set<std::string> referencedSecrets(const Json& mysql) {
  std::set<std::string> out;
  auto parsed = api::parseMySQL(mysql);
  if (!parsed) {
    out.insert(api::authSecretName(kube::name(mysql)));
    return out;
  }
  api::MySQL my = std::move(*parsed);
  api::setDefaults(my);
  out.insert(my.effectiveAuthSecretName());
  if (my.tls) {
    for (const auto& alias : api::tlsAliases()) out.insert(my.certSecretName(alias));
    out.insert(api::exporterConfigSecretName(my.name));
  }
  return out;
}

}  // namespace mysqlop::community
