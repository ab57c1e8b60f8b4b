#pragma once
// The sandbox cert-manager's controllers on common/runtime:
//  - issuers / clusterissuers: Ready from evaluateIssuer(), re-evaluated when the CA Secret
//    changes;
//  - certificates: issue into the Secret when whyIssue() says so or someone set Issuing=True
//    (cmctl renew), wait while the issuer is missing or not Ready, record failures with
//    exponential backoff, keep the Secret's metadata in step with secretTemplate, and come back
//    at renewalTime. Time comes from the injected clock (the apiserver's, in the sandbox).
// Each reconcile writes only what differs; one reconcile per key at a time.

#include <chrono>
#include <string>

#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/runtime/manager.h"
#include "e2e/sandbox/cert-manager/certificate.h"
#include "e2e/sandbox/cert-manager/issuer.h"

namespace mysqlop::sandbox::certmanager {

struct ControllerOptions {
  std::string clusterResourceNamespace = "cert-manager";
  bool certificateOwnerRef = false;  // upstream's --enable-certificate-owner-ref
  std::chrono::seconds backoffBase{3600};  // first retry after a failed issuance; doubles, capped at 32x
  std::string watchNamespace;
};

class CertManagerControllers {
 public:
  CertManagerControllers(runtime::Manager& m, const core::Clock& clock, ControllerOptions opts,
                         core::Logger log = core::Logger::root());
  // Re-examine every Certificate (the clock jumped).
  void resync();

 private:
  core::Result<runtime::ReconcileResult> reconcileIssuer(const runtime::Request& r, bool cluster);
  core::Result<runtime::ReconcileResult> reconcileCertificate(const runtime::Request& r);
  // The steps of reconcileCertificate, one per outcome.
  core::Result<runtime::ReconcileResult> reportBadConfig(const runtime::Json& cert, const FieldErrors& errors);
  core::Result<runtime::ReconcileResult> keepCurrent(const runtime::Json& cert, const CertificateSpec& spec,
                                                     const runtime::Json& secret);
  core::Result<runtime::ReconcileResult> waitForIssuer(const runtime::Json& cert, const IssueReason& why,
                                                       const std::string& problem);
  core::Result<runtime::ReconcileResult> issueNow(const runtime::Json& cert, const CertificateSpec& spec,
                                                  const runtime::Json* secret, const IssueReason& why,
                                                  const IssuerVerdict& issuer);
  core::Result<runtime::ReconcileResult> recordFailure(const runtime::Json& cert, const IssueReason& why,
                                                       const std::string& message);
  core::Result<bool> writeCertificateStatus(const runtime::Json& cert, const std::function<void(runtime::Json&)>& mutate);
  const runtime::Json* issuerSecret(const runtime::Json& issuer, bool cluster, runtime::ObjectPtr& hold) const;

  runtime::Manager& m_;
  const core::Clock& clock_;
  ControllerOptions opts_;
  core::Logger log_;
  runtime::Informer* certificates_ = nullptr;
  runtime::Informer* issuers_ = nullptr;
  runtime::Informer* clusterIssuers_ = nullptr;
  runtime::Informer* secrets_ = nullptr;
  runtime::Controller* certController_ = nullptr;
};

}  // namespace mysqlop::sandbox::certmanager
