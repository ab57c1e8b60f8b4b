#pragma once
// The enterprise operator's decisions, as pure functions (observe → plan → apply): what the
// caches and the licence gate say about one MySQL goes in as `Observed`; out come the writes in
// order and the TLSCertificatesReady condition to converge to, with the Event that announces a
// change. The reconciler (reconciler.h) gathers and applies; every branch here is table-tested
// without a server (plan_test.cpp).
//
// The gates, in order: a valid licence → the issuer exists and is Ready → the community
// operator's auth Secret and Services exist → our finalizer → Certificates and the exporter
// configuration (never someone else's) → the issued Secrets follow the MySQL → every
// Certificate issued. A deletion: planDeletion.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/api/mysql.h"
#include "common/core/clock.h"
#include "common/kube/resource.h"
#include "common/runtime/cache.h"
#include "common/runtime/event_recorder.h"
#include "common/runtime/writes.h"
#include "enterprise-operator/controller/issuer_ca.h"
#include "enterprise-operator/controller/licence_gate.h"

namespace mysqlop::enterprise {

using runtime::Json;

struct Observed {
  runtime::ObjectPtr mysql;  // never null
  LicenceState licence;
  runtime::ObjectPtr issuer;  // the Issuer or ClusterIssuer spec.tls.issuerRef names; null: none
  IssuerCa issuerCa;          // the CA that issuer signs with now (issuer_ca.h)
  // By name, as the caches hold them: the auth Secret, the TLS Secrets and the exporter
  // configuration; the primary and governing Services; the three Certificates.
  std::map<std::string, runtime::ObjectPtr> secrets, services, certificates;

  runtime::ObjectPtr secret(const std::string& name) const;
  runtime::ObjectPtr certificate(const std::string& name) const;
};

// TLSCertificatesReady as the plan decides it.
struct Verdict {
  bool ready = false;
  std::string reason, message;
  bool operator==(const Verdict&) const = default;
};

using runtime::EventSpec;

// Create or update an object the MySQL controls (a Certificate, the exporter configuration).
struct EnsureStep {
  const kube::ResourceType* type = nullptr;
  Json desired;
  runtime::ObjectPtr cached;
  std::string what;
  bool announceUpdates = true;  // an Updated Event too, not only Created
};
struct DeleteStep {
  const kube::ResourceType* type = nullptr;
  std::string name;
};
// An issued TLS Secret gains a (non-controller) ownerReference to the MySQL: the deletion policy
// then decides its fate. Only the ownerReferences are patched (the cache keeps no key material).
struct AdoptIssuedSecretStep {
  Json secret;  // with the reference added, the cached resourceVersion kept
};
// Add or remove our finalizer (api::kTlsFinalizer) on the MySQL.
struct FinalizerStep {
  bool add = true;
};
using Step = std::variant<EnsureStep, DeleteStep, AdoptIssuedSecretStep, FinalizerStep>;

struct Plan {
  std::vector<Step> steps;
  std::optional<runtime::ConditionChange> status;  // nullopt: TLSCertificatesReady is already right
  std::optional<EventSpec> onStatusWrite;
  std::optional<std::chrono::milliseconds> requeueAfter;
  // A wait not yet reported in the status (within its patience): what it waits for, logged.
  std::string waitingFor;
};

// How long after a MySQL's creation a wait for the community operator's objects goes unreported
// (1,000 MySQLs made at once keep it busy for a while: docs/performance.md).
inline constexpr std::chrono::seconds kDatabaseObjectsPatience{60};

Plan plan(const Observed& o, core::WallTime now);

// A MySQL being deleted, while it carries our finalizer (put there before the first Certificate
// is made): with WipeOut our Certificates go first, then the finalizer, which lets the community
// operator delete the Secrets (cert-manager would issue them again while a Certificate exists).
// With another policy the community operator decides (and may refuse, DoNotTerminate); once its
// finalizer is gone ours goes, and the Certificates follow the MySQL through their owner
// references. Not licence-gated: removing what we made never waits for a licence.
Plan planDeletion(const Observed& o);

// --- the pure pieces -----------------------------------------------------------------------
// The first gate that holds issuance back, in the order above; nullopt when all are open.
std::optional<Verdict> gate(const api::MySQL& my, const Observed& o);
// What cert-manager has issued so far: Issuing (naming each Certificate still pending and why)
// or CertificatesIssued (each alias with its expiry).
Verdict issuanceVerdict(const api::MySQL& my, const Observed& o);
// The condition change for a verdict and the Event that says it (only when status or reason
// changes).
void report(Plan& p, const Observed& o, const Verdict& v, core::WallTime now);

}  // namespace mysqlop::enterprise
