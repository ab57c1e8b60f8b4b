#pragma once
// The community operator's reconcile of one MySQL (docs/design.md §1 steps 3, 4, 9, 10 and §4), in three
// steps: observe (what the informer caches — and, for a deletion, the API's PVC and Certificate
// lists — say about the MySQL), plan (plan.h: pure, every decision), apply (this file: the
// writes in the plan's order, then at most one status write, then the Events).
//
// Reads come from informer caches; a converged MySQL costs no write. One reconcile per key at a
// time (the controller guarantees it); the reconciler itself keeps no per-key state.

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/runtime/cache.h"
#include "common/runtime/controller.h"
#include "common/runtime/event_recorder.h"
#include "common/runtime/secrets.h"
#include "community-operator/controller/health_checker.h"
#include "community-operator/controller/plan.h"

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
  const runtime::ObjectCache* pods = nullptr;  // the database pods (optional)
  const runtime::ObjectCache* serviceMonitors = nullptr;  // null: the cluster does not serve them
  // A user's auth Secret (not labelled, so not in `secrets`): read by name. Optional.
  runtime::NamedSecrets* named = nullptr;
  // Where the Secret cache's transform keeps the CAs (secret_summary.h), and a read of a Secret
  // through that transform (a CA the pool let go is put back). Optional: without them a Secret
  // must hold its ca.crt.
  std::shared_ptr<const CaPool> caPool;
  std::function<runtime::ObjectPtr(const std::string& ns, const std::string& name)> rereadSecret;
  // How long a CA stays in a trust bundle after its last use (0: the certificates' renewBefore).
  std::chrono::seconds caRetention{0};
};

using PasswordFn = std::function<core::Result<std::string>()>;

class Reconciler {
 public:
  Reconciler(client::RestClient& cli, runtime::EventRecorder& events, Caches caches, HealthChecker& health,
             const core::Clock& clock = core::systemClock(), core::Logger log = core::Logger::root(),
             PasswordFn password = {});

  core::Result<runtime::ReconcileResult> reconcile(const runtime::Request& req, std::stop_token stop);

 private:
  core::Result<Observed> observe(const runtime::ObjectPtr& mysql) const;
  // The trust bundle's inputs: the bundle by name when not ours (a conflict to report), and the
  // PEMs of the CAs the database's TLS Secrets and bundle hold.
  core::Status observeTrust(Observed& o, const std::string& ns, const std::string& db) const;
  core::Result<runtime::ReconcileResult> apply(const Json& mysql, const Plan& plan);
  // `created` collects what a step made, for the pass's one Created Event.
  core::Status applyStep(const Json& mysql, const Step& step, std::vector<std::string>& created);
  core::Status ensure(const Json& mysql, const EnsureStep& step, std::vector<std::string>& created);
  core::Status createAuthSecret(const api::MySQL& my, std::vector<std::string>& created);
  void say(const Json& mysql, const EventSpec& e);

  client::RestClient& cli_;
  runtime::EventRecorder& events_;
  Caches c_;
  HealthChecker& health_;
  const core::Clock& clock_;
  core::Logger log_;
  PasswordFn password_;
};

}  // namespace mysqlop::community
