#pragma once
// The enterprise operator's reconcile of one MySQL (docs/design.md §1 steps 5–6, §5), in three steps:
// observe (the informer caches and the licence gate), plan (plan.h: pure, every decision and
// the TLSCertificatesReady verdict), apply (this file: the writes in order, then at most one
// status write, then the Event). TLSCertificatesReady is the only condition it writes. Reads
// come from informer caches; a converged MySQL costs no write.

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
#include "enterprise-operator/controller/licence_gate.h"
#include "enterprise-operator/controller/plan.h"

namespace mysqlop::enterprise {

struct Caches {
  const runtime::ObjectCache* mysqls = nullptr;
  const runtime::ObjectCache* secrets = nullptr;  // ours and cert-manager's for us (labelled)
  // Secrets by name that are not labelled: a user's auth Secret, one in a Certificate's way. Optional.
  runtime::NamedSecrets* named = nullptr;
  const runtime::ObjectCache* services = nullptr;
  const runtime::ObjectCache* certificates = nullptr;
  const runtime::ObjectCache* issuers = nullptr;
  const runtime::ObjectCache* clusterIssuers = nullptr;
  IssuerCas* issuerCas = nullptr;  // the CAs `ca` issuers sign with (optional: none published without)
};

class Reconciler {
 public:
  Reconciler(client::RestClient& cli, runtime::EventRecorder& events, Caches caches, const LicenceGate& licence,
             const core::Clock& clock = core::systemClock(), core::Logger log = core::Logger::root());
  core::Result<runtime::ReconcileResult> reconcile(const runtime::Request& req, std::stop_token stop);

 private:
  core::Result<Observed> observe(const runtime::ObjectPtr& mysql) const;
  core::Status apply(const Json& mysql, const Plan& plan);
  // Whether the MySQL, read live, is this one and not being deleted (issued Secrets may be adopted).
  core::Result<bool> liveAndNotDeleted(const Json& mysql);
  // `created` collects what a step made, for the pass's one Created Event.
  core::Status applyStep(const Json& mysql, const Step& step, std::vector<std::string>& created);

  client::RestClient& cli_;
  runtime::EventRecorder& events_;
  Caches c_;
  const LicenceGate& licence_;
  const core::Clock& clock_;
  core::Logger log_;
};

}  // namespace mysqlop::enterprise
