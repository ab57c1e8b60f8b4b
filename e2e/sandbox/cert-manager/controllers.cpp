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
  // A CA Secret changing re-evaluates the issuers that read it.
  issuerCtl.watchMapped(*secrets_, [this](const Json& s) {
    std::vector<runtime::Request> out;
    for (const auto& i : issuers_->cache().list(kube::namespaceOf(s))) {
      if (caSecretName(*i) == kube::name(s)) out.push_back({kube::namespaceOf(*i), kube::name(*i)});
    }
    return out;
  });
  clusterIssuerCtl.watchMapped(*secrets_, [this](const Json& s) {
    std::vector<runtime::Request> out;
    if (kube::namespaceOf(s) != opts_.clusterResourceNamespace) return out;
    for (const auto& i : clusterIssuers_->cache().list()) {
      if (caSecretName(*i) == kube::name(s)) out.push_back({"", kube::name(*i)});
    }
    return out;
  });
  // Certificates follow their Secret and their issuer.
  certCtl.watchMapped(*secrets_, [this](const Json& s) {
    std::vector<runtime::Request> out;
    const std::string ns = kube::namespaceOf(s);
    for (const auto& c : certificates_->cache().list(ns)) {
      if (c->value("spec", Json::object()).value("secretName", "") == kube::name(s)) out.push_back({ns, kube::name(*c)});
    }
    return out;
  });
  auto byIssuer = [this](const std::string& kind) {
    return [this, kind](const Json& issuer) {
      std::vector<runtime::Request> out;
      const std::string ns = kind == "Issuer" ? kube::namespaceOf(issuer) : "";
      for (const auto& c : certificates_->cache().list(ns)) {
        const Json ref = c->value("spec", Json::object()).value("issuerRef", Json::object());
        if (ref.value("name", "") == kube::name(issuer) && ref.value("kind", "Issuer") == kind) {
          out.push_back({kube::namespaceOf(*c), kube::name(*c)});
        }
      }
      return out;
    };
  };
  certCtl.watchMapped(*issuers_, byIssuer("Issuer"));
  certCtl.watchMapped(*clusterIssuers_, byIssuer("ClusterIssuer"));
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
  const kube::Condition want = condition(kReady, v.ready, v.reason, v.message, kube::generation(*obj));
  Json conds = obj->value("status", Json::object()).value("conditions", Json::array());
  const auto before = kube::findCondition(conds, kReady);
  if (!kube::setCondition(conds, want, clock_.now())) return ReconcileResult{};
  auto written = runtime::updateStatus(m_.client(), rt, r.namespace_, r.name, [&](Json& latest) {
    Json c = latest.value("status", Json::object()).value("conditions", Json::array());
    if (!kube::setCondition(c, want, clock_.now())) return false;
    latest["status"]["conditions"] = std::move(c);
    return true;
  });
  if (!written) return written.error();
  if (!before || before->status != want.status || before->reason != want.reason) {
    m_.recorder().event(*obj, v.ready ? runtime::kEventNormal : runtime::kEventWarning, v.reason,
                        v.message.empty() ? std::string("Issuer is ready") : v.message);
  }
  return ReconcileResult{};
}

core::Result<ReconcileResult> CertManagerControllers::reconcileCertificate(const runtime::Request& r) {
  auto obj = certificates_->cache().get(r.key());
  if (!obj) return ReconcileResult{};
  const core::WallTime now = clock_.now();
  const int64_t gen = kube::generation(*obj);
  Json status = obj->value("status", Json::object());
  Json conds = status.value("conditions", Json::array());
  auto& cli = m_.client();
  const auto& rt = api::certificateResource();

  // Writes the status `mutate` leaves when it differs; says `event` once, when Ready or
  // Issuing's reason changes.
  auto writeStatus = [&](const std::function<void(Json&)>& mutate) -> core::Result<bool> {
    Json next = status;
    mutate(next);
    if (next == status) return false;
    return runtime::updateStatus(cli, rt, r.namespace_, r.name, [&](Json& latest) {
      Json s = latest.value("status", Json::object());
      mutate(s);
      if (latest.contains("status") && s == latest["status"]) return false;
      latest["status"] = std::move(s);
      return true;
    });
  };
  auto setConds = [&](Json& s, const std::vector<kube::Condition>& set, const std::vector<std::string>& remove) {
    Json c = s.value("conditions", Json::array());
    for (const auto& k : set) kube::setCondition(c, k, now);
    for (const auto& k : remove) kube::removeCondition(c, k);
    s["conditions"] = std::move(c);
  };
  auto changedReason = [&](const std::string& type, const std::string& reason) {
    auto c = kube::findCondition(conds, type);
    return !c || c->reason != reason;
  };

  // --- the spec
  auto parsed = parseCertificate(*obj);
  if (!parsed) {
    std::string msg = "Certificate is invalid: ";
    for (size_t i = 0; i < parsed.error().size(); ++i) msg += (i ? "; " : "") + parsed.error()[i].toString();
    auto w = writeStatus([&](Json& s) { setConds(s, {condition(kReady, false, "BadConfig", msg, gen)}, {kIssuing}); });
    if (!w) return w.error();
    if (changedReason(kReady, "BadConfig")) m_.recorder().event(*obj, runtime::kEventWarning, "BadConfig", msg);
    return ReconcileResult{};
  }
  const CertificateSpec spec = std::move(*parsed);
  auto secret = secrets_->cache().get(r.namespace_, spec.secretName);

  // --- does the Secret still answer the spec?
  std::optional<IssueReason> why = whyIssue(spec, secret.get(), now);
  const auto issuing = kube::findCondition(conds, kIssuing);
  if (!why && issuing && issuing->status == "True") {
    why = IssueReason{issuing->reason.empty() ? "ManuallyTriggered" : issuing->reason,
                      issuing->message.empty() ? "Certificate re-issuance manually triggered" : issuing->message};
  }
  // A certificate still valid keeps Ready=True while it is being renewed.
  const bool validNow = !why || why->reason == "Renewing" || why->reason == "ManuallyTriggered" ||
                        why->reason == "RequestChanged" || why->reason == "IncorrectIssuer" || why->reason == "SecretMismatch";

  if (!why) {
    // Up to date: keep the Secret's metadata in step, report, come back at renewal time.
    Json synced = *secret;
    bool changed = false;
    for (const auto& [k, v] : secretLabels(spec)) changed |= kube::setLabel(synced, k, v);
    for (const auto& [k, v] : secretAnnotations(spec, r.name)) changed |= kube::setAnnotation(synced, k, v);
    if (opts_.certificateOwnerRef) {
      auto added = kube::addOwnerReference(synced, kube::makeOwnerReference(*obj, /*controller=*/true));
      changed |= added && *added;
    }
    if (changed) {
      auto u = cli.update(kube::kSecrets, synced);
      if (!u) return u.error();
    }
    auto facts = pki::inspect(*pki::parseCertificate(kube::secretValue(*secret, "tls.crt").value_or("")));
    const core::WallTime renewAt = renewalTime(spec, facts.notBefore, facts.notAfter);
    auto w = writeStatus([&](Json& s) {
      setConds(s, {condition(kReady, true, "Ready", kUpToDate, gen)}, {kIssuing});
      s["notBefore"] = core::formatTime(facts.notBefore);
      s["notAfter"] = core::formatTime(facts.notAfter);
      s["renewalTime"] = core::formatTime(renewAt);
      if (!s.contains("revision")) s["revision"] = 1;
    });
    if (!w) return w.error();
    return ReconcileResult{.requeueAfter = until(renewAt, now)};
  }

  // --- issuance is due; is the issuer there and Ready?
  const bool cluster = spec.issuerRef.kind == "ClusterIssuer";
  auto issuerObj = cluster ? clusterIssuers_->cache().get(spec.issuerRef.name)
                           : issuers_->cache().get(r.namespace_, spec.issuerRef.name);
  runtime::ObjectPtr caHold;
  IssuerVerdict issuer;
  if (issuerObj) issuer = evaluateIssuer(*issuerObj, issuerSecret(*issuerObj, cluster, caHold));
  if (!issuerObj || !issuer.ready) {
    const std::string problem = !issuerObj ? fmt::format("{} {:?} not found", spec.issuerRef.kind, spec.issuerRef.name)
                                           : fmt::format("{} {:?} is not Ready: {}: {}", spec.issuerRef.kind,
                                                         spec.issuerRef.name, issuer.reason, issuer.message);
    const std::string msg = why->message + "; waiting for the issuer: " + problem;
    auto w = writeStatus([&](Json& s) {
      std::vector<kube::Condition> set = {condition(kIssuing, true, why->reason, msg, gen)};
      if (!validNow) set.push_back(condition(kReady, false, why->reason, why->message, gen));
      setConds(s, set, {});
    });
    if (!w) return w.error();
    if (*w && changedReason(kIssuing, why->reason)) m_.recorder().event(*obj, runtime::kEventWarning, "IssuerNotReady", problem);
    return ReconcileResult{};  // the issuer's watch brings us back
  }

  // --- the caches may trail our last issuance: decide on the live objects before issuing again
  {
    auto liveCert = cli.get(rt, r.namespace_, r.name);
    if (!liveCert && liveCert.error().is(core::ErrorCode::kNotFound)) return ReconcileResult{};  // deleted meanwhile
    if (!liveCert) return liveCert.error();
    auto liveSecret = cli.get(kube::kSecrets, r.namespace_, spec.secretName);
    if (!liveSecret && !liveSecret.error().is(core::ErrorCode::kNotFound)) return liveSecret.error();
    secret = liveSecret ? std::make_shared<const Json>(std::move(*liveSecret)) : nullptr;
    status = liveCert->value("status", Json::object());
    conds = status.value("conditions", Json::array());
    why = whyIssue(spec, secret.get(), now);
    const auto liveIssuing = kube::findCondition(conds, kIssuing);
    if (!why && liveIssuing && liveIssuing->status == "True") {
      why = IssueReason{liveIssuing->reason.empty() ? "ManuallyTriggered" : liveIssuing->reason,
                        liveIssuing->message.empty() ? "Certificate re-issuance manually triggered" : liveIssuing->message};
    }
    if (!why) return ReconcileResult{.requeueAfter = std::chrono::milliseconds(200)};  // already done
  }

  // --- backoff after failures
  const int attempts = status.value("failedIssuanceAttempts", 0);
  if (attempts > 0) {
    auto last = core::parseTime(status.value("lastFailureTime", ""));
    auto delay = opts_.backoffBase * (1 << std::min(attempts - 1, 5));
    if (last && now < *last + delay) return ReconcileResult{.requeueAfter = until(*last + delay, now)};
  }

  // --- issue
  m_.recorder().event(*obj, runtime::kEventNormal, "Issuing", why->message);
  auto fail = [&](const std::string& message) -> core::Result<ReconcileResult> {
    auto w = writeStatus([&](Json& s) {
      setConds(s, {condition(kIssuing, false, "Failed", message, gen)}, {});
      if (!validNow) setConds(s, {condition(kReady, false, why->reason, why->message, gen)}, {});
      s["lastFailureTime"] = core::formatTime(now);
      s["failedIssuanceAttempts"] = attempts + 1;
    });
    if (!w) return w.error();
    m_.recorder().event(*obj, runtime::kEventWarning, "Failed", message);
    return ReconcileResult{.requeueAfter = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               opts_.backoffBase * (1 << std::min(attempts, 5)))};
  };
  pki::PrivateKey key;
  if (!spec.rotateKey && secret) {
    if (auto old = pki::parsePrivateKey(kube::secretValue(*secret, "tls.key").value_or(""));
        old && old->algorithm() == spec.key.algorithm &&
        (spec.key.size == 0 || spec.key.algorithm == pki::KeyAlgorithm::kEd25519 || old->size() == spec.key.size)) {
      key = *old;
    }
  }
  if (!key) {
    auto fresh = pki::generateKey(spec.key);
    if (!fresh) return fail("Failed to generate a private key: " + fresh.error().message);
    key = *fresh;
  }
  pki::CertTemplate t{.subject = spec.subject,
                      .dnsNames = spec.dnsNames,
                      .ipAddresses = spec.ipAddresses,
                      .uris = spec.uris,
                      .emailAddresses = spec.emailAddresses,
                      .isCA = spec.isCA,
                      .keyUsages = spec.keyUsages(),
                      .extKeyUsages = spec.extKeyUsages(),
                      .notBefore = std::chrono::time_point_cast<std::chrono::seconds>(now),
                      .notAfter = std::chrono::time_point_cast<std::chrono::seconds>(now) + spec.duration};
  auto cert = pki::issueCertificate(t, key, issuer.selfSigned ? std::nullopt : issuer.signer);
  if (!cert) return fail("Failed to sign the certificate: " + cert.error().message);
  auto keyPem = key.toPem(spec.encoding);
  if (!keyPem) return fail("Failed to encode the private key: " + keyPem.error().message);
  std::string tlsCrt = cert->toPem(), caCrt;
  if (issuer.selfSigned) {
    caCrt = tlsCrt;
  } else {
    // The signer and its intermediates follow the leaf; the root is ca.crt, never in tls.crt.
    for (const auto& c : issuer.chain) {
      if (!pki::signedBy(c, c)) tlsCrt += c.toPem();
    }
    caCrt = issuer.chain.back().toPem();
  }

  // One write of the Secret: data and metadata together.
  Json s = secret ? *secret
                  : Json{{"apiVersion", "v1"},
                         {"kind", "Secret"},
                         {"metadata", {{"name", spec.secretName}, {"namespace", r.namespace_}}},
                         {"type", "kubernetes.io/tls"}};
  s["data"]["tls.crt"] = kube::base64Encode(tlsCrt);
  s["data"]["tls.key"] = kube::base64Encode(*keyPem);
  s["data"]["ca.crt"] = kube::base64Encode(caCrt);
  for (const auto& [k, v] : secretLabels(spec)) kube::setLabel(s, k, v);
  for (const auto& [k, v] : secretAnnotations(spec, r.name)) kube::setAnnotation(s, k, v);
  if (opts_.certificateOwnerRef) (void)kube::addOwnerReference(s, kube::makeOwnerReference(*obj, /*controller=*/true));
  auto written = secret ? cli.update(kube::kSecrets, s) : cli.create(kube::kSecrets, r.namespace_, s);
  if (!written && (written.error().is(core::ErrorCode::kInvalid) || written.error().is(core::ErrorCode::kForbidden))) {
    // The API server will not take this Secret (e.g. it is immutable): a failed issuance.
    return fail(fmt::format("Failed to write the Secret {:?}: {}", spec.secretName, written.error().message));
  }
  if (!written) return written.error();

  const auto facts = pki::inspect(*cert);
  const core::WallTime renewAt = renewalTime(spec, facts.notBefore, facts.notAfter);
  const int64_t revision = status.value("revision", int64_t{0}) + 1;
  auto w = writeStatus([&](Json& st) {
    setConds(st, {condition(kReady, true, "Ready", kUpToDate, gen)}, {kIssuing});
    st["notBefore"] = core::formatTime(facts.notBefore);
    st["notAfter"] = core::formatTime(facts.notAfter);
    st["renewalTime"] = core::formatTime(renewAt);
    st["revision"] = revision;
    st.erase("lastFailureTime");
    st.erase("failedIssuanceAttempts");
  });
  if (!w) return w.error();
  m_.recorder().event(*obj, runtime::kEventNormal, "Issuing", "The certificate has been successfully issued");
  log_.info("issued", {{"namespace", r.namespace_}, {"name", r.name}, {"revision", revision}, {"serial", facts.serialHex},
                       {"reason", why->reason}});
  return ReconcileResult{.requeueAfter = until(renewAt, now)};
}

}  // namespace mysqlop::sandbox::certmanager
