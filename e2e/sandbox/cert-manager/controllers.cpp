#include "e2e/sandbox/cert-manager/controllers.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/cert_manager.h"
#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/conditions.h"
#include "common/kube/object.h"
#include "common/runtime/writes.h"
#include "e2e/sandbox/cert-manager/certificate.h"
#include "e2e/sandbox/cert-manager/issuer.h"
#include "e2e/sandbox/cert-manager/mappers.h"

namespace mysqlop::sandbox::certmanager {

using runtime::Json;
using runtime::ReconcileResult;
using namespace std::chrono_literals;

namespace {

const std::string kReady = "Ready";
const std::string kIssuing = "Issuing";
const std::string kUpToDate = "Certificate is up to date and has not expired";

kube::Condition condition(const std::string& type, bool status, std::string reason, std::string message, int64_t gen) {
  return {type, status ? "True" : "False", std::move(reason), std::move(message), gen, ""};
}

std::chrono::nanoseconds until(core::WallTime when, core::WallTime now) {
  auto d = when - now;
  return d < 1s ? std::chrono::nanoseconds(1s) : std::chrono::duration_cast<std::chrono::nanoseconds>(d);
}

}  // namespace

CertManagerControllers::CertManagerControllers(runtime::Manager& m, const core::Clock& clock, ControllerOptions opts,
                                               core::Logger log)
    : m_(m), clock_(clock), opts_(std::move(opts)), log_(std::move(log)) {
  const runtime::InformerOptions scoped{.namespace_ = opts_.watchNamespace};
  certificates_ = &m_.informer(api::certificateResource(), scoped);
  issuers_ = &m_.informer(api::issuerResource(), scoped);
  clusterIssuers_ = &m_.informer(api::clusterIssuerResource());
  secrets_ = &m_.informer(kube::kSecrets);

  auto& issuerCtl = m_.controller({.name = "issuers"}, [this](const runtime::Request& r, std::stop_token) {
    return reconcileIssuer(r, false);
  });
  auto& clusterIssuerCtl = m_.controller({.name = "clusterissuers"}, [this](const runtime::Request& r, std::stop_token) {
    return reconcileIssuer(r, true);
  });
  auto& certCtl = m_.controller({.name = "certificates", .workers = 2},
                                [this](const runtime::Request& r, std::stop_token) { return reconcileCertificate(r); });
  certController_ = &certCtl;

  issuerCtl.watchPrimary(*issuers_);
  clusterIssuerCtl.watchPrimary(*clusterIssuers_);
  certCtl.watchPrimary(*certificates_);
  // A CA Secret changing re-evaluates the issuers that read it; Certificates follow their
  // Secret and their issuer.
  issuerCtl.watchMapped(*secrets_, [this](const Json& s) { return issuersForSecret(issuers_->cache(), s); });
  clusterIssuerCtl.watchMapped(*secrets_, [this](const Json& s) {
    return clusterIssuersForSecret(clusterIssuers_->cache(), s, opts_.clusterResourceNamespace);
  });
  certCtl.watchMapped(*secrets_, [this](const Json& s) { return certificatesForSecret(certificates_->cache(), s); });
  certCtl.watchMapped(*issuers_, [this](const Json& i) { return certificatesForIssuer(certificates_->cache(), i, "Issuer"); });
  certCtl.watchMapped(*clusterIssuers_,
                      [this](const Json& i) { return certificatesForIssuer(certificates_->cache(), i, "ClusterIssuer"); });
}

void CertManagerControllers::resync() {
  for (const auto& c : certificates_->cache().list()) certController_->enqueue({kube::namespaceOf(*c), kube::name(*c)});
}

const Json* CertManagerControllers::issuerSecret(const Json& issuer, bool cluster, runtime::ObjectPtr& hold) const {
  const std::string name = caSecretName(issuer);
  if (name.empty()) return nullptr;
  hold = secrets_->cache().get(cluster ? opts_.clusterResourceNamespace : kube::namespaceOf(issuer), name);
  return hold.get();
}

core::Result<ReconcileResult> CertManagerControllers::reconcileIssuer(const runtime::Request& r, bool cluster) {
  const auto& rt = cluster ? api::clusterIssuerResource() : api::issuerResource();
  auto obj = (cluster ? clusterIssuers_ : issuers_)->cache().get(r.key());
  if (!obj) return ReconcileResult{};
  runtime::ObjectPtr hold;
  IssuerVerdict v = evaluateIssuer(*obj, issuerSecret(*obj, cluster, hold));
  const auto before = kube::findStatusCondition(*obj, kReady);
  const runtime::ConditionChange change{{condition(kReady, v.ready, v.reason, v.message, kube::generation(*obj))}, {}};
  auto written = runtime::writeConditions(m_.client(), rt, *obj, change, clock_.now());
  if (!written) return written.error();
  if (*written && (!before || before->status != change.set[0].status || before->reason != v.reason)) {
    m_.recorder().event(*obj, v.ready ? runtime::kEventNormal : runtime::kEventWarning, v.reason,
                        v.message.empty() ? std::string("Issuer is ready") : v.message);
  }
  return ReconcileResult{};
}

core::Result<bool> CertManagerControllers::writeCertificateStatus(const Json& cert,
                                                                   const std::function<void(Json&)>& mutate) {
  return runtime::writeStatus(m_.client(), api::certificateResource(), cert, mutate);
}

core::Result<ReconcileResult> CertManagerControllers::reconcileCertificate(const runtime::Request& r) {
  auto obj = certificates_->cache().get(r.key());
  if (!obj) return ReconcileResult{};
  auto parsed = parseCertificate(*obj);
  if (!parsed) return reportBadConfig(*obj, parsed.error());
  const CertificateSpec spec = std::move(*parsed);
  auto secret = secrets_->cache().get(r.namespace_, spec.secretName);
  const core::WallTime now = clock_.now();
  auto why = issuanceDue(spec, secret.get(), obj->value("status", Json::object()), now);
  if (!why) return keepCurrent(*obj, spec, *secret);

  // Issuance is due; is the issuer there and Ready?
  const bool cluster = spec.issuerRef.kind == "ClusterIssuer";
  auto issuerObj = cluster ? clusterIssuers_->cache().get(spec.issuerRef.name)
                           : issuers_->cache().get(r.namespace_, spec.issuerRef.name);
  runtime::ObjectPtr caHold;
  IssuerVerdict issuer;
  if (issuerObj) issuer = evaluateIssuer(*issuerObj, issuerSecret(*issuerObj, cluster, caHold));
  if (!issuerObj) return waitForIssuer(*obj, *why, fmt::format("{} {:?} not found", spec.issuerRef.kind, spec.issuerRef.name));
  if (!issuer.ready) {
    return waitForIssuer(*obj, *why, fmt::format("{} {:?} is not Ready: {}: {}", spec.issuerRef.kind, spec.issuerRef.name,
                                                  issuer.reason, issuer.message));
  }

  // The caches may trail our last issuance: decide on the live objects before issuing again.
  auto& cli = m_.client();
  auto liveCert = cli.get(api::certificateResource(), r.namespace_, r.name);
  if (!liveCert && liveCert.error().is(core::ErrorCode::kNotFound)) return ReconcileResult{};  // deleted meanwhile
  if (!liveCert) return liveCert.error();
  auto liveSecret = cli.get(kube::kSecrets, r.namespace_, spec.secretName);
  if (!liveSecret && !liveSecret.error().is(core::ErrorCode::kNotFound)) return liveSecret.error();
  const Json* current = liveSecret ? &*liveSecret : nullptr;
  const Json status = liveCert->value("status", Json::object());
  why = issuanceDue(spec, current, status, now);
  if (!why) return ReconcileResult{.requeueAfter = std::chrono::milliseconds(200)};  // already done
  if (auto wait = backoffRemaining(status, now, opts_.backoffBase)) return ReconcileResult{.requeueAfter = *wait};
  return issueNow(*liveCert, spec, current, *why, issuer);
}

core::Result<ReconcileResult> CertManagerControllers::reportBadConfig(const Json& cert, const FieldErrors& errors) {
  std::string msg = "Certificate is invalid: ";
  for (size_t i = 0; i < errors.size(); ++i) msg += (i ? "; " : "") + errors[i].toString();
  const auto before = kube::findStatusCondition(cert, kReady);
  const runtime::ConditionChange change{{condition(kReady, false, "BadConfig", msg, kube::generation(cert))}, {kIssuing}};
  auto w = runtime::writeConditions(m_.client(), api::certificateResource(), cert, change, clock_.now());
  if (!w) return w.error();
  if (!before || before->reason != "BadConfig") m_.recorder().event(cert, runtime::kEventWarning, "BadConfig", msg);
  return ReconcileResult{};
}

// Up to date: keep the Secret's metadata in step, report, come back at renewal time.
core::Result<ReconcileResult> CertManagerControllers::keepCurrent(const Json& cert, const CertificateSpec& spec,
                                                                  const Json& secret) {
  Json synced = secret;
  bool changed = false;
  for (const auto& [k, v] : secretLabels(spec)) changed |= kube::setLabel(synced, k, v);
  for (const auto& [k, v] : secretAnnotations(spec, kube::name(cert))) changed |= kube::setAnnotation(synced, k, v);
  if (opts_.certificateOwnerRef) {
    auto added = kube::addOwnerReference(synced, kube::makeOwnerReference(cert, /*controller=*/true));
    changed |= added && *added;
  }
  if (changed) {
    auto u = m_.client().update(kube::kSecrets, synced);
    if (!u) return u.error();
  }
  const auto now = clock_.now();
  auto facts = pki::inspect(*pki::parseCertificate(kube::secretValue(secret, "tls.crt").value_or("")));
  const core::WallTime renewAt = renewalTime(spec, facts.notBefore, facts.notAfter);
  auto w = writeCertificateStatus(cert, [&](Json& s) {
    runtime::ConditionChange{{condition(kReady, true, "Ready", kUpToDate, kube::generation(cert))}, {kIssuing}}.applyTo(s, now);
    s["notBefore"] = core::formatTime(facts.notBefore);
    s["notAfter"] = core::formatTime(facts.notAfter);
    s["renewalTime"] = core::formatTime(renewAt);
    if (!s.contains("revision")) s["revision"] = 1;
  });
  if (!w) return w.error();
  return ReconcileResult{.requeueAfter = until(renewAt, now)};
}

core::Result<ReconcileResult> CertManagerControllers::waitForIssuer(const Json& cert, const IssueReason& why,
                                                                    const std::string& problem) {
  const int64_t gen = kube::generation(cert);
  runtime::ConditionChange change{{condition(kIssuing, true, why.reason, why.message + "; waiting for the issuer: " + problem, gen)},
                                  {}};
  if (!stillValidWhile(why)) change.set.push_back(condition(kReady, false, why.reason, why.message, gen));
  const auto before = kube::findStatusCondition(cert, kIssuing);
  auto w = runtime::writeConditions(m_.client(), api::certificateResource(), cert, change, clock_.now());
  if (!w) return w.error();
  if (*w && (!before || before->reason != why.reason)) {
    m_.recorder().event(cert, runtime::kEventWarning, "IssuerNotReady", problem);
  }
  return ReconcileResult{};  // the issuer's watch brings us back
}

core::Result<ReconcileResult> CertManagerControllers::recordFailure(const Json& cert, const IssueReason& why,
                                                                    const std::string& message) {
  const core::WallTime now = clock_.now();
  const int64_t gen = kube::generation(cert);
  const int attempts = cert.value("status", Json::object()).value("failedIssuanceAttempts", 0);
  auto w = writeCertificateStatus(cert, [&](Json& s) {
    runtime::ConditionChange change{{condition(kIssuing, false, "Failed", message, gen)}, {}};
    if (!stillValidWhile(why)) change.set.push_back(condition(kReady, false, why.reason, why.message, gen));
    change.applyTo(s, now);
    s["lastFailureTime"] = core::formatTime(now);
    s["failedIssuanceAttempts"] = attempts + 1;
  });
  if (!w) return w.error();
  m_.recorder().event(cert, runtime::kEventWarning, "Failed", message);
  return ReconcileResult{.requeueAfter = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             opts_.backoffBase * (1 << std::min(attempts, 5)))};
}

core::Result<ReconcileResult> CertManagerControllers::issueNow(const Json& cert, const CertificateSpec& spec,
                                                               const Json* secret, const IssueReason& why,
                                                               const IssuerVerdict& issuer) {
  const std::string ns = kube::namespaceOf(cert), name = kube::name(cert);
  m_.recorder().event(cert, runtime::kEventNormal, "Issuing", why.message);
  const core::WallTime now = clock_.now();
  auto material = issue(issuer, spec, secret, now);
  if (!material) return recordFailure(cert, why, material.error().message);

  // One write of the Secret: data and metadata together.
  Json s = secret ? *secret
                  : Json{{"apiVersion", "v1"},
                         {"kind", "Secret"},
                         {"metadata", {{"name", spec.secretName}, {"namespace", ns}}},
                         {"type", "kubernetes.io/tls"}};
  s["data"]["tls.crt"] = kube::base64Encode(material->tlsCrt);
  s["data"]["tls.key"] = kube::base64Encode(material->keyPem);
  s["data"]["ca.crt"] = kube::base64Encode(material->caCrt);
  for (const auto& [k, v] : secretLabels(spec)) kube::setLabel(s, k, v);
  for (const auto& [k, v] : secretAnnotations(spec, name)) kube::setAnnotation(s, k, v);
  if (opts_.certificateOwnerRef) (void)kube::addOwnerReference(s, kube::makeOwnerReference(cert, /*controller=*/true));
  auto written = secret ? m_.client().update(kube::kSecrets, s) : m_.client().create(kube::kSecrets, ns, s);
  if (!written && (written.error().is(core::ErrorCode::kInvalid) || written.error().is(core::ErrorCode::kForbidden))) {
    // The API server will not take this Secret (e.g. it is immutable): a failed issuance.
    return recordFailure(cert, why, fmt::format("Failed to write the Secret {:?}: {}", spec.secretName, written.error().message));
  }
  if (!written) return written.error();

  const auto& facts = material->facts;
  const core::WallTime renewAt = renewalTime(spec, facts.notBefore, facts.notAfter);
  const int64_t revision = cert.value("status", Json::object()).value("revision", int64_t{0}) + 1;
  auto w = writeCertificateStatus(cert, [&](Json& st) {
    runtime::ConditionChange{{condition(kReady, true, "Ready", kUpToDate, kube::generation(cert))}, {kIssuing}}.applyTo(st, now);
    st["notBefore"] = core::formatTime(facts.notBefore);
    st["notAfter"] = core::formatTime(facts.notAfter);
    st["renewalTime"] = core::formatTime(renewAt);
    st["revision"] = revision;
    st.erase("lastFailureTime");
    st.erase("failedIssuanceAttempts");
  });
  if (!w) return w.error();
  m_.recorder().event(cert, runtime::kEventNormal, "Issuing", "The certificate has been successfully issued");
  log_.info("issued", {{"namespace", ns}, {"name", name}, {"revision", revision}, {"serial", facts.serialHex},
                       {"reason", why.reason}});
  return ReconcileResult{.requeueAfter = until(renewAt, now)};
}

}  // namespace mysqlop::sandbox::certmanager
