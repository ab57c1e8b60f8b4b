#include "enterprise-operator/controller/plan.h"

#include <fmt/format.h>

#include "common/api/cert_manager.h"
#include "common/api/conditions.h"
#include "common/api/meta.h"
#include "common/api/naming.h"
#include "common/core/time_format.h"
#include "common/kube/conditions.h"
#include "common/kube/object.h"
#include "common/pki/pki.h"
#include "enterprise-operator/builders/builders.h"

namespace mysqlop::enterprise {
namespace {

runtime::ObjectPtr lookup(const std::map<std::string, runtime::ObjectPtr>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : it->second;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}

Verdict notReady(std::string_view reason, std::string message) { return {false, std::string(reason), std::move(message)}; }

std::string key(const api::MySQL& my) { return my.namespace_ + "/" + my.name; }

std::optional<Verdict> issuerGate(const api::MySQL& my, const Observed& o) {
  const api::IssuerRef& ref = *my.tls->issuerRef;
  const std::string issuer =
      ref.kind == "ClusterIssuer" ? "ClusterIssuer " + ref.name : fmt::format("Issuer {}/{}", my.namespace_, ref.name);
  if (!o.issuer) {
    return notReady(api::kReasonIssuerNotFound,
                    fmt::format("{} (spec.tls.issuerRef) does not exist; create it to issue the certificates", issuer));
  }
  if (auto st = api::readyState(*o.issuer); !st.ready) {
    return notReady(api::kReasonIssuerNotReady, fmt::format("{} is not Ready: {}: {}", issuer, st.reason, st.message));
  }
  return std::nullopt;
}

// <db>-issuer-ca: the CA a `ca` issuer signs with now, for the database's trust bundle (the
// community operator's) to hold before any certificate of it exists. Gone when the issuer is not
// a `ca` one; left as it is while its CA cannot be read.
std::optional<Verdict> planIssuerCa(Plan& p, const api::MySQL& my, const Observed& o) {
  const std::string name = api::issuerCaSecretName(my.name);
  auto cached = o.secret(name);
  if (cached && !kube::isOwnedBy(*cached, my.uid)) {
    return notReady(api::kReasonIssuerCaConflict, fmt::format("Secret {}/{} exists and does not belong to MySQL {}; it is left alone",
                                                              my.namespace_, name, key(my)));
  }
  if (!o.issuerCa.known) return std::nullopt;
  if (o.issuerCa.pem.empty()) {
    if (cached) p.steps.push_back(DeleteStep{&kube::kSecrets, name});
    return std::nullopt;
  }
  Json desired = buildIssuerCaSecret(my, o.issuerCa.pem);
  // The cache keeps no data of it: the fingerprint says whether it holds this CA.
  if (cached && kube::annotation(*cached, kIssuerCaDigestAnnotation) == kube::annotation(desired, kIssuerCaDigestAnnotation) &&
      kube::labels(*cached) == kube::labels(desired)) {
    return std::nullopt;
  }
  p.steps.push_back(EnsureStep{&kube::kSecrets, std::move(desired), cached, "issuer CA", true});
  return std::nullopt;
}

// A new issuer's CA is trusted before it signs anything (issue 32): an existing Certificate moves to
// another `ca` issuer only once the database's pods have loaded that issuer's CA (the community
// operator says so in status.tls.trustedCAs[].loadedByPods, having put <db>-issuer-ca into the
// trust bundle). The verdict to report while it waits; nullopt: go on. Not for a database that is
// not Ready (no client to break) or whose issuer's CA is not known (not a `ca` one: docs/tls.md).
std::optional<Verdict> untrustedIssuerChange(const api::MySQL& my, const Observed& o, const runtime::ObjectPtr& cached,
                                             const Json& desired) {
  if (!cached) return std::nullopt;
  const Json* was = kube::find(*cached, {"spec", "issuerRef"});
  if (!was || *was == desired["spec"]["issuerRef"]) return std::nullopt;
  if (!o.issuerCa.known || o.issuerCa.pem.empty()) return std::nullopt;
  auto ready = kube::findStatusCondition(*o.mysql, api::kCondReady);
  if (!ready || ready->status != "True") return std::nullopt;
  auto cas = pki::parseCertificateChain(o.issuerCa.pem);
  if (!cas) return std::nullopt;
  const Json* trusted = kube::find(*o.mysql, {"status", "tls", "trustedCAs"});
  std::vector<std::string> pending;
  for (const auto& ca : *cas) {
    const std::string fp = pki::fingerprint(ca);
    bool loaded = false;
    if (trusted && trusted->is_array()) {
      for (const auto& t : *trusted) loaded |= t.value("sha256", "") == fp && t.value("loadedByPods", false);
    }
    if (!loaded) pending.push_back("sha256:" + fp.substr(0, 16));
  }
  if (pending.empty()) return std::nullopt;
  return notReady(api::kReasonWaitingForTrust,
                  fmt::format("the certificates move to issuer {} once every pod of MySQL {} has loaded its CA {} (trust "
                              "bundle {}); until then the old issuer's stay",
                              desired["spec"]["issuerRef"].value("name", ""), key(my), join(pending, ", "),
                              api::trustBundleSecretName(my.name)));
}

// Certificates and the exporter configuration: made or kept up to date, never someone else's.
std::optional<Verdict> planObjects(Plan& p, const api::MySQL& my, const Observed& o) {
  std::optional<Verdict> waiting;
  for (const auto& alias : api::tlsAliases()) {
    Json desired = buildCertificate(my, alias);
    // cert-manager would overwrite whatever Secret the entry names (and WipeOut would then delete
    // it): only one issued for this very Certificate, or none yet, is acceptable.
    if (auto target = o.secret(my.certSecretName(alias));
        target && kube::annotation(*target, "cert-manager.io/certificate-name") != kube::name(desired)) {
      return notReady(api::kReasonSecretNameConflict,
                      fmt::format("spec.tls.certificates[alias={}].secretName: Secret {}/{} exists and was not issued for "
                                  "Certificate {}; it is left alone: name a Secret that does not exist",
                                  alias, my.namespace_, my.certSecretName(alias), kube::name(desired)));
    }
    auto cached = o.certificate(kube::name(desired));
    if (cached && !kube::isOwnedBy(*cached, my.uid)) {
      return notReady(api::kReasonCertificateConflict,
                      fmt::format("Certificate {}/{} exists and does not belong to MySQL {}; it is left alone",
                                  my.namespace_, kube::name(desired), key(my)));
    }
    if (auto wait = untrustedIssuerChange(my, o, cached, desired)) {
      waiting = wait;
      desired["spec"]["issuerRef"] = (*cached)["spec"]["issuerRef"];  // the old issuer until then
    }
    p.steps.push_back(EnsureStep{&api::certificateResource(), std::move(desired), cached, "Certificate", true});
  }
  auto auth = o.secret(my.effectiveAuthSecretName());
  const std::string user = kube::secretValue(*auth, "username").value_or("");
  auto built = buildExporterConfigSecret(my, user.empty() ? "root" : user, kube::secretValue(*auth, "password").value_or(""));
  if (!built) {
    return notReady(api::kReasonAuthSecretUnusable, fmt::format("Secret {}/{}: {}", my.namespace_, my.effectiveAuthSecretName(),
                                                                built.error().message));
  }
  Json desired = std::move(*built);
  auto cached = o.secret(kube::name(desired));
  if (cached && !kube::isOwnedBy(*cached, my.uid)) {
    return notReady(api::kReasonExporterConfigConflict,
                    fmt::format("Secret {}/{} exists and does not belong to MySQL {}; it is left alone", my.namespace_,
                                kube::name(desired), key(my)));
  }
  p.steps.push_back(EnsureStep{&kube::kSecrets, std::move(desired), cached, "exporter configuration", false});
  if (auto v = planIssuerCa(p, my, o)) return v;
  return waiting;
}

// The Secrets cert-manager issued for our Certificates follow the MySQL.
void planIssuedSecrets(Plan& p, const api::MySQL& my, const Observed& o) {
  for (const auto& alias : api::tlsAliases()) {
    auto secret = o.secret(my.certSecretName(alias));
    if (!secret || kube::isOwnedBy(*secret, my.uid)) continue;
    if (kube::annotation(*secret, "cert-manager.io/certificate-name") != api::certificateName(my.name, alias)) continue;
    Json next = *secret;
    auto added = kube::addOwnerReference(next, *kube::OwnerReference::fromJson(api::ownerReference(my, false)));
    if (added && *added) p.steps.push_back(AdoptIssuedSecretStep{std::move(next)});
  }
}

// Deletes our Certificates (those not already going); true while any of ours remains.
bool removeCertificates(Plan& p, const Observed& o) {
  const std::string uid = kube::uid(*o.mysql);
  bool remaining = false;
  for (const auto& [name, cert] : o.certificates) {
    if (!kube::isOwnedBy(*cert, uid)) continue;
    remaining = true;
    if (!kube::isBeingDeleted(*cert)) p.steps.push_back(DeleteStep{&api::certificateResource(), name});
  }
  return remaining;
}

// TLS was removed from the MySQL: our Certificates, <db>-issuer-ca, our condition, then our finalizer go.
Plan planTlsRemoved(const Observed& o) {
  Plan p;
  const bool remaining = removeCertificates(p, o);
  if (auto ca = o.secret(api::issuerCaSecretName(kube::name(*o.mysql))); ca && kube::isOwnedBy(*ca, kube::uid(*o.mysql))) {
    p.steps.push_back(DeleteStep{&kube::kSecrets, kube::name(*ca)});
  }
  if (!remaining && kube::hasFinalizer(*o.mysql, api::kTlsFinalizer)) p.steps.push_back(FinalizerStep{false});
  if (kube::findStatusCondition(*o.mysql, api::kCondTLSCertificatesReady)) {
    p.status = runtime::ConditionChange{{}, {std::string(api::kCondTLSCertificatesReady)}};
  }
  return p;
}

}  // namespace

runtime::ObjectPtr Observed::secret(const std::string& name) const { return lookup(secrets, name); }
runtime::ObjectPtr Observed::certificate(const std::string& name) const { return lookup(certificates, name); }

std::optional<Verdict> gate(const api::MySQL& my, const Observed& o) {
  if (!o.licence.valid) {
    return notReady(api::kReasonLicenseInvalid,
                    fmt::format("No TLS certificates are issued for MySQL {}: {}", key(my), o.licence.summary()));
  }
  if (auto v = issuerGate(my, o)) return v;
  std::vector<std::string> missing;
  if (!o.secret(my.effectiveAuthSecretName())) missing.push_back("Secret " + my.effectiveAuthSecretName());
  for (const auto& svc : {api::primaryServiceName(my.name), api::governingServiceName(my.name)}) {
    if (!lookup(o.services, svc)) missing.push_back("Service " + svc);
  }
  if (!missing.empty()) {
    return notReady(api::kReasonWaitingForDatabaseObjects,
                    fmt::format("waiting for the community operator to create {} for MySQL {}", join(missing, ", "), key(my)));
  }
  return std::nullopt;
}

namespace {

// A Certificate cert-manager failed to issue, or will not issue as it stands: what is said of it.
std::optional<std::string> trouble(const Json& cert) {
  const Json status = cert.value("status", Json::object());
  auto st = api::parseCertificateStatus(cert);
  if (!st) return "unreadable status";
  if (st->ready.reason == "BadConfig") return st->ready.reason + ": " + st->ready.message;
  for (const auto& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") == "Issuing" && c.value("status", "") == "False" && c.value("reason", "") == "Failed") {
      return "Failed: " + c.value("message", "");
    }
  }
  return std::nullopt;
}

}  // namespace

Verdict issuanceVerdict(const api::MySQL& my, const Observed& o) {
  // While cert-manager works, the message names what is awaited — the same words until the state
  // changes, so progress costs no status write; a Certificate in trouble is named with its cause.
  std::vector<std::string> awaited, troubled, expiries;
  for (const auto& alias : api::tlsAliases()) {
    const std::string certName = api::certificateName(my.name, alias);
    awaited.push_back(certName);
    auto cert = o.certificate(certName);
    if (!cert) continue;
    if (auto t = trouble(*cert)) {
      troubled.push_back(fmt::format("{} ({})", certName, *t));
      continue;
    }
    auto st = api::parseCertificateStatus(*cert);
    if (st && st->ready.ready && o.secret(my.certSecretName(alias))) expiries.push_back(fmt::format("{} until {}", alias, st->notAfter));
  }
  if (!troubled.empty()) {
    return notReady(api::kReasonIssuanceFailed, "cert-manager has not issued: " + join(troubled, "; "));
  }
  if (expiries.size() < awaited.size()) {
    return notReady(api::kReasonIssuing, fmt::format("waiting for cert-manager to issue the Certificates {} in namespace {}",
                                                     join(awaited, ", "), my.namespace_));
  }
  std::string message = "All TLS certificates are issued: " + join(expiries, ", ");
  if (o.issuerCa.known && o.issuerCa.pem.empty()) {
    // Where the order of a CA change is not ours to keep (docs/tls.md §5).
    message += fmt::format("; the CA of issuer {} is not one mysqlop can read (not a ca issuer): a new CA of it is trusted "
                           "from its first certificate on, not before",
                           my.tls->issuerRef->name);
  }
  return {true, std::string(api::kReasonCertificatesIssued), message};
}

void report(Plan& p, const Observed& o, const Verdict& v, core::WallTime now) {
  const kube::Condition want{std::string(api::kCondTLSCertificatesReady), v.ready ? "True" : "False", v.reason, v.message,
                             kube::generation(*o.mysql), ""};
  runtime::ConditionChange change{{want}, {}};
  Json status = o.mysql->value("status", Json::object());
  if (!change.applyTo(status, now)) return;
  p.status = std::move(change);
  auto before = kube::findStatusCondition(*o.mysql, api::kCondTLSCertificatesReady);
  // A Warning is for what a user must act on; the expected course of things (cert-manager at
  // work) is in the condition alone, and its end said once, Normal.
  // Waiting for cert-manager is said by the condition alone; a lasting wait for the community
  // operator's objects with a Normal Event (it may be busy with many databases, or not installed).
  if (v.reason == api::kReasonIssuing) return;
  const bool warning = !v.ready && v.reason != api::kReasonWaitingForDatabaseObjects && v.reason != api::kReasonWaitingForTrust;
  if (!before || before->reason != want.reason || before->status != want.status) {
    p.onStatusWrite = EventSpec{warning, v.reason, v.message};
  }
}

Plan planDeletion(const Observed& o) {
  Plan p;
  const Json& obj = *o.mysql;
  if (!kube::hasFinalizer(obj, api::kTlsFinalizer)) return p;
  auto policy = api::readDeletionPolicy(obj.value("spec", Json::object()));
  const bool wipeOut = policy && policy->value_or(api::DeletionPolicy::kDelete) == api::DeletionPolicy::kWipeOut;
  const bool wait = wipeOut ? removeCertificates(p, o) : kube::hasFinalizer(obj, api::kFinalizer);
  if (!wait) p.steps.push_back(FinalizerStep{false});
  return p;
}

Plan plan(const Observed& o, core::WallTime now) {
  if (kube::isBeingDeleted(*o.mysql)) return planDeletion(o);
  auto parsed = api::parseMySQL(*o.mysql);
  if (!parsed) return {};  // the community operator reports the spec
  api::MySQL my = std::move(*parsed);
  api::setDefaults(my);
  if (!api::validate(my).empty()) return {};
  if (!my.tls) return planTlsRemoved(o);

  Plan p;
  if (auto v = gate(my, o)) {
    // The community operator makes its objects within moments of the MySQL: a wait is reported
    // only once it lasts (their informers bring us back as soon as they exist).
    const auto created = core::parseTime(o.mysql->value("metadata", Json::object()).value("creationTimestamp", ""));
    if (v->reason == api::kReasonWaitingForDatabaseObjects && created && now - *created < kDatabaseObjectsPatience &&
        !kube::findStatusCondition(*o.mysql, api::kCondTLSCertificatesReady)) {
      p.requeueAfter = std::chrono::duration_cast<std::chrono::milliseconds>(kDatabaseObjectsPatience - (now - *created));
      p.waitingFor = v->message;
      return p;
    }
    report(p, o, *v, now);
    return p;
  }
  if (!kube::hasFinalizer(*o.mysql, api::kTlsFinalizer)) p.steps.push_back(FinalizerStep{true});
  if (auto v = planObjects(p, my, o)) {
    report(p, o, *v, now);
    return p;
  }
  planIssuedSecrets(p, my, o);
  report(p, o, issuanceVerdict(my, o), now);
  return p;
}

}  // namespace mysqlop::enterprise
