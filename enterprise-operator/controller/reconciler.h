#pragma once
// The enterprise operator's reconcile of one MySQL (DESIGN §1 steps 5–6, §5): with spec.tls and
// a valid licence, once the issuer is Ready and the community operator's auth Secret and
// Services exist, it keeps one cert-manager Certificate per alias and the exporter configuration,
// gives the issued TLS Secrets an ownerReference to the MySQL, and reports
// TLSCertificatesReady (the only condition it writes). Reads come from informer caches; a
// converged MySQL costs no write.

#include <stop_token>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/runtime/cache.h"
#include "common/runtime/controller.h"
#include "common/runtime/event_recorder.h"
#include "enterprise-operator/controller/licence_gate.h"

namespace mysqlop::enterprise {

inline constexpr std::string_view kCondTLSReady = "TLSCertificatesReady";

struct Caches {
  const runtime::ObjectCache* mysqls = nullptr;
  const runtime::ObjectCache* secrets = nullptr;
  const runtime::ObjectCache* services = nullptr;
  const runtime::ObjectCache* certificates = nullptr;
  const runtime::ObjectCache* issuers = nullptr;
  const runtime::ObjectCache* clusterIssuers = nullptr;
};

class Reconciler {
 public:
  Reconciler(client::RestClient& cli, runtime::EventRecorder& events, Caches caches, const LicenceGate& licence,
             const core::Clock& clock = core::systemClock(), core::Logger log = core::Logger::root());
  core::Result<runtime::ReconcileResult> reconcile(const runtime::Request& req, std::stop_token stop);

 private:
  struct Verdict {
    bool ready = false;
    std::string reason, message;
  };
  core::Result<runtime::ReconcileResult> run(const runtime::Request& req, const runtime::ObjectPtr& obj);
  core::Result<runtime::ReconcileResult> report(const runtime::Json& obj, const Verdict& v);

  client::RestClient& cli_;
  runtime::EventRecorder& events_;
  Caches c_;
  const LicenceGate& licence_;
  const core::Clock& clock_;
  core::Logger log_;
};

}  // namespace mysqlop::enterprise
