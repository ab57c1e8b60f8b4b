// enterprise-operator: with a valid licence, has cert-manager issue the server, client and
// metrics-exporter certificates of each TLS MySQL and writes the exporter configuration
// (docs/design.md §1 steps 5–6, §5, §6). See docs/tls.md and docs/licence.md.
#include <prometheus/gauge.h>

#include <chrono>
#include <iostream>

#include "common/api/catalog.h"
#include "common/api/cert_manager.h"
#include "common/api/naming.h"
#include "common/api/ops_request.h"
#include "common/client/config.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "common/licence/licence.h"
#include "common/runtime/manager.h"
#include "common/runtime/operator_flags.h"
#include "common/runtime/secrets.h"
#include "enterprise-operator/controller/issuer_ca.h"
#include "enterprise-operator/controller/licence_gate.h"
#include "enterprise-operator/controller/mappers.h"
#include "enterprise-operator/controller/ops.h"
#include "enterprise-operator/controller/reconciler.h"

using namespace mysqlop;

int main(int argc, char** argv) {
  CLI::App app{"enterprise-operator has cert-manager issue the TLS certificates of KubeDB-compatible MySQL databases "
               "(licence required).",
               "enterprise-operator"};
  runtime::OperatorFlags flags;
  runtime::addOperatorFlags(app, flags);
  std::string licenseFile;
  app.add_option("--license-file", licenseFile, "The licence (PEM); re-read when it changes");
  double recheckHours = 1;
  app.add_option("--license-recheck-interval", recheckHours, "Hours between re-verifications of the licence")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  int workers = 2;
  app.add_option("--workers", workers, "Concurrent reconciles")->check(CLI::Range(1, 64))->capture_default_str();
  std::string clusterResourceNamespace = "cert-manager";
  app.add_option("--cluster-resource-namespace", clusterResourceNamespace,
                 "Where a ClusterIssuer's Secrets are (cert-manager's flag of that name)")
      ->capture_default_str();
  double issuerCaPoll = 30;
  app.add_option("--issuer-ca-poll", issuerCaPoll,
                 "Seconds between reads of each CA issuer's Secret: a new CA there is trusted by its databases (<db>-issuer-ca, "
                 "then <db>-ca-bundle) before it signs their certificates")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  if (auto rc = runtime::parseFlags(app, flags, argc, argv, "enterprise-operator " MYSQLOP_VERSION)) return *rc;

  core::Logger log = core::Logger::root().with("component", "enterprise-operator");
  auto created = runtime::startManager(flags, "enterprise-operator", log);
  if (!created) return 1;
  runtime::Manager& m = *created;

  const runtime::InformerOptions all{.namespace_ = flags.watchNamespace};
  // The MySQLs: kept compact too, found by index from a Secret event (never a scan).
  auto& mysqls = m.informer(api::mysqlResource(),
                            {.namespace_ = flags.watchNamespace, .compact = true, .indexers = enterprise::mysqlIndexers()});
  // Secrets: ours and cert-manager's for us (labelled through secretTemplate), only the keys we
  // read (no key material); others by name when needed (runtime::NamedSecrets).
  const std::string ours =
      kube::LabelSelector::fromMap({{std::string(api::kLabelManagedBy), std::string(api::kLabelManagedByValue)}}).toString();
  auto secretData = runtime::secretTransform({"username", "password", "exporter.cnf"});
  auto& secrets = m.informer(kube::kSecrets, {.namespace_ = flags.watchNamespace, .labelSelector = ours, .transform = secretData,
                                             .compact = true});
  runtime::NamedSecrets namedSecrets(m.client(), secrets.cache(), secretData);
  auto& services = m.informer(kube::kServices, {.namespace_ = flags.watchNamespace, .labelSelector = ours, .compact = true});
  auto& certificates = m.informer(api::certificateResource(), {.namespace_ = flags.watchNamespace, .compact = true});
  auto& issuers = m.informer(api::issuerResource(), all);
  auto& clusterIssuers = m.informer(api::clusterIssuerResource());

  runtime::Controller* controller = nullptr;
  auto enqueueAll = [&mysqls, &controller] {
    if (!controller) return;
    for (const auto& db : mysqls.cache().list()) controller->enqueue({kube::namespaceOf(*db), kube::name(*db)});
  };
  auto clusterId = [&m]() -> core::Result<std::string> {
    auto ns = m.client().get(kube::kNamespaces, "", "kube-system");
    if (!ns) return ns.error();
    return kube::uid(*ns);
  };
  // What this build trusts: a development build's licence CA was generated with the build (its
  // key is in the build tree), so it says so — in the log and in mysqlop_build_info.
  const bool devCa = licence::embeddedCaIsDevelopment();
  prometheus::BuildGauge()
      .Name("mysqlop_build_info")
      .Help("1, labelled with this build's version and the kind of licence CA it trusts (release or development)")
      .Register(m.metrics().registry())
      .Add({{"version", MYSQLOP_VERSION}, {"licence_ca", devCa ? "development" : "release"}})
      .Set(1);
  if (devCa) {
    const std::string note = "development build: it trusts a licence CA generated with the build, not the vendor's";
    log.warn(note, {});
  }
  enterprise::LicenceGate gate({.path = licenseFile,
                                .caPem = licence::embeddedCaPem(),
                                .recheck = std::chrono::milliseconds(static_cast<int64_t>(recheckHours * 3600 * 1000))},
                               clusterId, m.metrics().registry(), enqueueAll, core::systemClock(), log);
  m.addReadyCheck("licence", [&gate]() -> std::optional<std::string> {
    auto s = gate.state();
    if (s.valid) return std::nullopt;
    return s.summary();
  });
  // A CA issuer's CA that changed: every TLS MySQL whose issuer signs with it.
  auto usersOf = [&mysqls, &issuers, &clusterIssuers, &controller, clusterResourceNamespace](const std::string& ns,
                                                                                            const std::string& name) {
    if (!controller) return;
    for (const auto& db : mysqls.cache().list()) {
      auto my = api::parseMySQL(*db);
      if (!my || !my->tls || !my->tls->issuerRef) continue;
      const auto& ref = *my->tls->issuerRef;
      auto issuer = ref.kind == "ClusterIssuer" ? clusterIssuers.cache().get(ref.name) : issuers.cache().get(my->namespace_, ref.name);
      auto where = issuer ? enterprise::caSecretOf(*issuer, ref.kind, clusterResourceNamespace) : std::nullopt;
      if (where && where->first == ns && where->second == name) controller->enqueue({my->namespace_, my->name});
    }
  };
  enterprise::IssuerCas issuerCas(m.client(), issuers.cache(), clusterIssuers.cache(),
                                  {.clusterResourceNamespace = clusterResourceNamespace,
                                   .poll = std::chrono::milliseconds(static_cast<int64_t>(issuerCaPoll * 1000))},
                                  usersOf, log);
  enterprise::Reconciler reconciler(m.client(), m.recorder(),
                                    {.mysqls = &mysqls.cache(),
                                     .secrets = &secrets.cache(),
                                     .named = &namedSecrets,
                                     .services = &services.cache(),
                                     .certificates = &certificates.cache(),
                                     .issuers = &issuers.cache(),
                                     .clusterIssuers = &clusterIssuers.cache(),
                                     .issuerCas = &issuerCas},
                                    gate, core::systemClock(), log);
  auto& c = m.controller({.name = "mysql-tls", .workers = workers},
                         [&reconciler](const runtime::Request& r, std::stop_token st) { return reconciler.reconcile(r, st); });
  controller = &c;

  const std::string group(api::kGroup), kind(api::kKind);
  c.watchPrimary(mysqls);
  c.watchOwned(certificates, group, kind);
  c.watchOwned(services, group, kind);
  // Secrets: the issued TLS Secrets (our labels through secretTemplate, or an owner), the auth
  // Secret by name; Issuers: every TLS MySQL that names them.
  c.watchMapped(secrets, [&mysqls](const runtime::Json& s) { return enterprise::mysqlsForSecret(mysqls.cache(), s); });
  c.watchMapped(issuers, [&mysqls](const runtime::Json& i) { return enterprise::mysqlsForIssuer(mysqls.cache(), i, "Issuer"); });
  c.watchMapped(clusterIssuers,
                [&mysqls](const runtime::Json& i) { return enterprise::mysqlsForIssuer(mysqls.cache(), i, "ClusterIssuer"); });

  // MySQLOpsRequests (issue 19): one controller, keyed by request; a MySQL's change moves its
  // requests on, a request's change the others of its database.
  auto& requests = m.informer(api::opsRequestResource(), {.namespace_ = flags.watchNamespace, .indexers = enterprise::opsIndexers()});
  enterprise::OpsReconciler opsReconciler(m.client(), m.recorder(),
                                          {.requests = &requests.cache(), .mysqls = &mysqls.cache(), .certificates = &certificates.cache()},
                                          gate, {}, core::systemClock(), log.with("controller", "mysql-ops"));
  auto& ops = m.controller({.name = "mysql-ops", .workers = 2},
                           [&opsReconciler](const runtime::Request& r, std::stop_token st) { return opsReconciler.reconcile(r, st); });
  ops.watchPrimary(requests);
  ops.watchMapped(requests, [&requests](const runtime::Json& r) { return enterprise::requestsForSameDatabase(requests.cache(), r); });
  ops.watchMapped(mysqls, [&requests](const runtime::Json& db) { return enterprise::requestsForMySQL(requests.cache(), db); });

  gate.start();
  issuerCas.start();
  int rc = m.run();
  issuerCas.stop();
  gate.stop();
  return rc;
}
