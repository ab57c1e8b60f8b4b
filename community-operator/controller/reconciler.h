#pragma once
// The community operator's reconcile of one MySQL (DESIGN §1 steps 3, 4, 9, 10 and §4):
//
//   finalizer kubedb.com → parse, default, validate (InvalidSpec: condition + Warning Event,
//   nothing created) → catalog image → ServiceAccount/Role/RoleBinding → governing, primary
//   (and stats) Services → auth Secret (made with a CSPRNG password and recorded in
//   spec.authSecret.name, or the user's, never changed) → spec.halted → the TLS gate (every
//   TLS Secret must exist) → StatefulSet → status from the facts and the health checker's verdict.
//
// Deletion follows spec.deletionPolicy: Delete (workload and PVCs go, secrets stay), WipeOut
// (our secrets go too), Halt (only the workload goes), DoNotTerminate (nothing goes; the
// finalizer stays and a condition and Warning Event say how to proceed).
//
// Reads come from informer caches; a converged MySQL costs no write. One reconcile per key at a
// time (the controller guarantees it); the reconciler itself keeps no per-key state.

#include <functional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "common/api/mysql.h"
#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/runtime/cache.h"
#include "common/runtime/controller.h"
#include "common/runtime/event_recorder.h"
#include "community-operator/controller/health_checker.h"
#include "community-operator/controller/status.h"

namespace mysqlop::community {

struct Caches {
  const runtime::ObjectCache* mysqls = nullptr;
  const runtime::ObjectCache* versions = nullptr;
  const runtime::ObjectCache* secrets = nullptr;
  const runtime::ObjectCache* services = nullptr;
  const runtime::ObjectCache* statefulSets = nullptr;
  const runtime::ObjectCache* serviceAccounts = nullptr;
  const runtime::ObjectCache* roles = nullptr;
  const runtime::ObjectCache* roleBindings = nullptr;
};

using PasswordFn = std::function<core::Result<std::string>()>;

class Reconciler {
 public:
  Reconciler(client::RestClient& cli, runtime::EventRecorder& events, Caches caches, HealthChecker& health,
             const core::Clock& clock = core::systemClock(), core::Logger log = core::Logger::root(),
             PasswordFn password = {});

  core::Result<runtime::ReconcileResult> reconcile(const runtime::Request& req, std::stop_token stop);

 private:
  struct Run;  // one reconcile's state

  core::Result<runtime::ReconcileResult> provision(Run& run);
  core::Result<runtime::ReconcileResult> terminate(Run& run);
  core::Result<bool> ensureObject(Run& run, const kube::ResourceType& rt, const runtime::ObjectCache& cache,
                                  const Json& desired, const std::string& what);
  core::Result<bool> ensureAuthSecret(Run& run);
  core::Result<runtime::ReconcileResult> finish(Run& run);
  core::Result<bool> writeStatus(Run& run);

  client::RestClient& cli_;
  runtime::EventRecorder& events_;
  Caches c_;
  HealthChecker& health_;
  const core::Clock& clock_;
  core::Logger log_;
  PasswordFn password_;
};

// The Secrets a MySQL refers to by name: its auth Secret, its TLS Secrets and the exporter
// configuration (for mapping Secret events back to the MySQL).
std::set<std::string> referencedSecrets(const Json& mysql);

}  // namespace mysqlop::community
