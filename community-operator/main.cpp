// community-operator: turns a kubedb.com MySQL into a running, TLS-ready database (docs/design.md §1
// steps 3, 4, 9, 10): auth Secret, RBAC, Services, the TLS gate and the StatefulSet, with
// status, Events and a health checker. See docs/community-operator.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "common/api/catalog.h"
#include "common/api/naming.h"
#include "common/client/config.h"
#include "common/kube/object.h"
#include "common/runtime/manager.h"
#include "common/runtime/operator_flags.h"
#include "common/runtime/secrets.h"
#include "community-operator/controller/crd_upgrade.h"
#include "community-operator/controller/health_checker.h"
#include "community-operator/controller/mappers.h"
#include "community-operator/controller/reconciler.h"

using namespace mysqlop;

int main(int argc, char** argv) {
  CLI::App app{"community-operator provisions KubeDB-compatible MySQL databases: auth Secret, RBAC, Services and, "
               "once every TLS Secret exists, the StatefulSet.",
               "community-operator"};
  runtime::OperatorFlags flags;
  runtime::addOperatorFlags(app, flags);
  double healthInterval = 10;
  app.add_option("--health-check-interval", healthInterval, "Seconds between health checks of each database")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  double expiryWarningHours = 24 * 7;
  app.add_option("--certificate-expiry-warning", expiryWarningHours,
                 "Hours before a served certificate's expiry from which it is reported (condition "
                 "ServedCertificatesExpiring, a Warning Event)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  double caRetention = 0;
  app.add_option("--ca-retention", caRetention,
                 "Seconds a CA stays in a database's trust bundle (<db>-ca-bundle) after nothing of the database uses "
                 "it; 0: the longest renewBefore of its certificates (cert-manager's default: a third of their duration)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  double trustPropagation = 120;
  app.add_option("--trust-propagation", trustPropagation,
                 "Seconds after a trust bundle changes during which each pod is asked to reload its TLS material at "
                 "every check (the kubelet refreshes mounted Secrets within about a minute)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  int workers = 2;
  app.add_option("--workers", workers, "Concurrent reconciles")->check(CLI::Range(1, 64))->capture_default_str();
  int healthWorkers = 8;
  app.add_option("--health-check-workers", healthWorkers, "Databases checked at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  std::string crdsDir;
  app.add_option("--crds-dir", crdsDir,
                 "A directory of the chart's CRDs (chartVersion, *.json): at start, served CRDs from an older chart are "
                 "updated to these (the Helm chart mounts them from a ConfigMap)");
  if (auto rc = runtime::parseFlags(app, flags, argc, argv, "community-operator " MYSQLOP_VERSION)) return *rc;

  core::Logger log = core::Logger::root().with("component", "community-operator");
  auto created = runtime::startManager(flags, "community-operator", log);
  if (!created) return 1;
  runtime::Manager& m = *created;
  std::shared_ptr<community::CrdUpgradeLoop> crdUpgrade;  // shared with the readiness check
  if (!crdsDir.empty()) {
    // Before anything else, in every replica: a rollout (`helm upgrade --wait`, `kubectl rollout
    // status`) is complete only once the CRDs are this chart's. Never an older chart's, so an old
    // replica starting beside a new one changes nothing.
    auto shipped = community::readShippedCrds(crdsDir);
    if (!shipped) {
      log.error("cannot read the chart's CRDs", {{"error", shipped.error().toString()}});
      return 1;
    }
    crdUpgrade = std::make_shared<community::CrdUpgradeLoop>(
        [&m, crds = *shipped, &log] { return community::upgradeCrds(m.client(), crds, log); }, shipped->chartVersion,
        std::chrono::seconds(30), log);
    crdUpgrade->start();
    m.addReadyCheck("crds", [loop = crdUpgrade] { return loop->notReady(); });
  }
  // What we own is read now and then: kept serialized (runtime::ObjectCache's compact mode).
  const runtime::InformerOptions owned{.namespace_ = flags.watchNamespace, .labelSelector = community::ownedSelector(),
                                       .compact = true};
  // The MySQLs: kept compact too, found by index from a Secret event (never a scan).
  auto& mysqls = m.informer(api::mysqlResource(),
                            {.namespace_ = flags.watchNamespace, .compact = true, .indexers = community::mysqlIndexers()});
  auto& versions = m.informer(api::mysqlVersionResource());
  // Secrets: ours and cert-manager's for us (labelled), only the keys read, certificates as a
  // summary and each distinct CA once (secret_summary.h); a user's auth Secret is read by name
  // (runtime::NamedSecrets).
  auto caPool = std::make_shared<community::CaPool>();
  auto secretData = community::summarizingSecretTransform({"username", "password"}, caPool);
  auto& secrets = m.informer(kube::kSecrets, {.namespace_ = flags.watchNamespace,
                                             .labelSelector = community::ownedSelector(),
                                             .transform = secretData,
                                             .compact = true,
                                             .indexers = {runtime::labelIndex(std::string(api::kLabelInstance))}});
  runtime::NamedSecrets namedSecrets(m.client(), secrets.cache(), secretData);
  auto& services = m.informer(kube::kServices, owned);
  auto& statefulSets = m.informer(kube::kStatefulSets, owned);
  auto& serviceAccounts = m.informer(kube::kServiceAccounts, owned);
  auto& roles = m.informer(kube::kRoles, owned);
  auto& roleBindings = m.informer(kube::kRoleBindings, owned);
  runtime::InformerOptions podOptions = owned;
  podOptions.indexers = {runtime::labelIndex(std::string(api::kLabelInstance))};
  auto& pods = m.informer(kube::kPods, podOptions);
  // The Prometheus Operator's ServiceMonitors, watched only where the cluster serves them
  // (looked up once, at start: installing its CRDs later needs a restart, which the MySQLs that
  // ask for one say in an Event).
  runtime::Informer* serviceMonitors = nullptr;
  auto discovery = m.client().execute({.method = "GET", .path = "/apis/monitoring.coreos.com/v1", .verb = "get"});
  if (discovery && discovery->value("resources", runtime::Json::array()).dump().find("\"servicemonitors\"") != std::string::npos) {
    serviceMonitors = &m.informer(api::serviceMonitorResource(), owned);
  } else {
    log.info("monitoring.coreos.com/v1 ServiceMonitors are not served: a MySQL asking for one (monitor.agent "
             "prometheus.io/operator) gets its stats Service only");
  }

  // A Secret read again through the transform: a CA the pool let go is put back.
  auto rereadSecret = [&m, secretData](const std::string& ns, const std::string& name) -> runtime::ObjectPtr {
    auto got = m.client().get(kube::kSecrets, ns, name);
    if (!got) return nullptr;
    secretData(*got);
    return std::make_shared<const runtime::Json>(std::move(*got));
  };
  runtime::Controller* controller = nullptr;
  community::HealthChecker checker(
      mysqls.cache(), secrets.cache(), statefulSets.cache(),
      [&controller](const std::string& key) {
        auto [ns, name] = runtime::splitKey(key);
        if (controller) controller->enqueue({ns, name});
      },
      {.interval = std::chrono::milliseconds(static_cast<int64_t>(healthInterval * 1000)),
       .workers = healthWorkers,
       .group = {.leaving = [&pods](const std::string& ns, const std::string& pod) {
         auto p = pods.cache().get(ns, pod);
         return p && kube::isBeingDeleted(*p);
       }},
       .trustPropagation = std::chrono::milliseconds(static_cast<int64_t>(trustPropagation * 1000)),
       .expiryWarning = std::chrono::seconds(static_cast<int64_t>(expiryWarningHours * 3600)),
       .metrics = &m.metrics().registry(),
       .namedSecret = [&namedSecrets](const std::string& ns, const std::string& name) { return namedSecrets.peek(ns, name); },
       .caPool = caPool,
       .rereadSecret = rereadSecret,
       // Only the leader checks, once its caches hold every Secret (its controller runs then).
       .active = [&controller] { return controller && controller->running(); }},
      core::systemClock(), log);
  community::Reconciler reconciler(m.client(), m.recorder(),
                                   {.mysqls = &mysqls.cache(),
                                    .versions = &versions.cache(),
                                    .secrets = &secrets.cache(),
                                    .services = &services.cache(),
                                    .statefulSets = &statefulSets.cache(),
                                    .serviceAccounts = &serviceAccounts.cache(),
                                    .roles = &roles.cache(),
                                    .roleBindings = &roleBindings.cache(),
                                    .pods = &pods.cache(),
                                    .serviceMonitors = serviceMonitors ? &serviceMonitors->cache() : nullptr,
                                    .named = &namedSecrets,
                                    .caPool = caPool,
                                    .rereadSecret = rereadSecret,
                                    .caRetention = std::chrono::seconds(static_cast<int64_t>(caRetention))},
                                   checker, core::systemClock(), log);
  auto& c = m.controller({.name = "mysql", .workers = workers},
                         [&reconciler](const runtime::Request& r, std::stop_token st) { return reconciler.reconcile(r, st); });
  controller = &c;

  const std::string group(api::kGroup), kind(api::kKind);
  c.watchPrimary(mysqls);
  for (auto* inf : {&services, &statefulSets, &serviceAccounts, &roles, &roleBindings}) c.watchOwned(*inf, group, kind);
  if (serviceMonitors) c.watchOwned(*serviceMonitors, group, kind);
  // Secrets: by controller owner, by our labels, or by the name a MySQL gives them; the catalog:
  // every MySQL of that version.
  c.watchMapped(secrets, [&mysqls](const runtime::Json& s) { return community::mysqlsForSecret(mysqls.cache(), s); });
  c.watchMapped(versions, [&mysqls](const runtime::Json& v) { return community::mysqlsForVersion(mysqls.cache(), v); });
  // Pods and StatefulSets changing: check the database's health now.
  auto healthTrigger = [&checker](const runtime::ObjectPtr& o) {
    if (auto k = community::instanceKey(*o)) checker.trigger(*k);
  };
  // ... and its Secrets (a renewal, a trust bundle that changed: the pods reload sooner).
  for (auto* inf : {&pods, &statefulSets, &secrets}) {
    inf->addHandler({.onAdd = healthTrigger,
                     .onUpdate = [healthTrigger](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { healthTrigger(o); },
                     .onDelete = healthTrigger});
  }

  checker.start();
  int rc = m.run();  // returns once the workers stopped and the lease is released
  if (crdUpgrade) crdUpgrade->stop();  // no retry against a client being torn down
  // A probe in flight (a name lookup cannot be interrupted) does not hold the exit back.
  if (!checker.stop(std::chrono::seconds(2))) {
    log.info("exiting with health checks still in flight", {});
    std::fflush(nullptr);
    std::_Exit(rc);
  }
  return rc;
}
