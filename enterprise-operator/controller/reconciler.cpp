#include "enterprise-operator/controller/reconciler.h"

#include <fmt/format.h>

#include "common/api/catalog.h"
#include "common/api/cert_manager.h"
#include "common/api/meta.h"
#include "common/api/mysql.h"
#include "common/api/naming.h"
#include "common/kube/base64.h"
#include "common/kube/conditions.h"
#include "common/kube/object.h"
#include "common/runtime/writes.h"
#include "enterprise-operator/builders/builders.h"

namespace mysqlop::enterprise {

using runtime::Json;
using runtime::ReconcileResult;

namespace {

std::string secretValue(const Json& s, const char* key) {
  const Json data = s.value("data", Json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return "";
  auto d = kube::base64Decode(it->get<std::string>());
  return d ? *d : "";
}

}  // namespace

Reconciler::Reconciler(client::RestClient& cli, runtime::EventRecorder& events, Caches caches, const LicenceGate& licence,
                       const core::Clock& clock, core::Logger log)
    : cli_(cli), events_(events), c_(caches), licence_(licence), clock_(clock), log_(std::move(log)) {}

core::Result<ReconcileResult> Reconciler::report(const Json& obj, const Verdict& v) {
  const kube::Condition want{std::string(kCondTLSReady), v.ready ? "True" : "False", v.reason, v.message,
                             kube::generation(obj), ""};
  const auto now = clock_.now();
  Json conds = obj.value("status", Json::object()).value("conditions", Json::array());
  const auto before = kube::findCondition(conds, kCondTLSReady);
  if (!kube::setCondition(conds, want, now)) return ReconcileResult{};
  auto w = runtime::updateStatus(cli_, api::mysqlResource(), kube::namespaceOf(obj), kube::name(obj), [&](Json& latest) {
    Json c = latest.value("status", Json::object()).value("conditions", Json::array());
    if (!kube::setCondition(c, want, now)) return false;
    latest["status"]["conditions"] = std::move(c);
    return true;
  });
  if (!w) return w.error();
  if (!before || before->reason != want.reason || before->status != want.status) {
    events_.event(obj, v.ready ? runtime::kEventNormal : runtime::kEventWarning, v.reason, v.message);
  }
  return ReconcileResult{};
}

core::Result<ReconcileResult> Reconciler::reconcile(const runtime::Request& req, std::stop_token) {
  auto obj = c_.mysqls->get(req.key());
  if (!obj || kube::isBeingDeleted(*obj)) return ReconcileResult{};
  auto result = run(req, obj);
  if (!result && !result.error().is(core::ErrorCode::kConflict)) {
    events_.event(*obj, runtime::kEventWarning, "ReconcileFailed",
                  fmt::format("Failed to manage the TLS certificates of MySQL {}: {}", req.key(), result.error().message));
  }
  return result;
}

core::Result<ReconcileResult> Reconciler::run(const runtime::Request& req, const runtime::ObjectPtr& obj) {
  auto parsed = api::parseMySQL(*obj);
  if (!parsed) return ReconcileResult{};  // the community operator reports the spec
  api::MySQL my = std::move(*parsed);
  api::setDefaults(my);
  if (!api::validate(my).empty()) return ReconcileResult{};
  const std::string db = req.key();

  if (!my.tls) {
    // TLS was removed: our Certificates and condition go.
    for (const auto& alias : api::tlsAliases()) {
      auto cert = c_.certificates->get(req.namespace_, api::certificateName(my.name, alias));
      if (cert && kube::isOwnedBy(*cert, my.uid)) {
        auto gone = cli_.remove(api::certificateResource(), req.namespace_, kube::name(*cert));
        if (!gone && !gone.error().is(core::ErrorCode::kNotFound)) return gone.error();
      }
    }
    if (kube::findStatusCondition(*obj, kCondTLSReady)) {
      auto w = runtime::updateStatus(cli_, api::mysqlResource(), req.namespace_, req.name, [](Json& latest) {
        Json c = latest.value("status", Json::object()).value("conditions", Json::array());
        if (!kube::removeCondition(c, kCondTLSReady)) return false;
        latest["status"]["conditions"] = std::move(c);
        return true;
      });
      if (!w) return w.error();
    }
    return ReconcileResult{};
  }

  // --- the licence
  const LicenceState lic = licence_.state();
  if (!lic.valid) {
    return report(*obj, {false, "LicenseInvalid",
                         fmt::format("No TLS certificates are issued for MySQL {}: {}", db, lic.summary())});
  }

  // --- the issuer
  const api::IssuerRef& ref = *my.tls->issuerRef;
  const bool cluster = ref.kind == "ClusterIssuer";
  auto issuer = cluster ? c_.clusterIssuers->get(ref.name) : c_.issuers->get(req.namespace_, ref.name);
  const std::string issuerName = cluster ? "ClusterIssuer " + ref.name : fmt::format("Issuer {}/{}", req.namespace_, ref.name);
  if (!issuer) {
    return report(*obj, {false, "IssuerNotFound",
                         fmt::format("{} (spec.tls.issuerRef) does not exist; create it to issue the certificates", issuerName)});
  }
  if (auto st = api::readyState(*issuer); !st.ready) {
    return report(*obj, {false, "IssuerNotReady", fmt::format("{} is not Ready: {}: {}", issuerName, st.reason, st.message)});
  }

  // --- what the community operator makes first
  const std::string authName = my.authSecretName.empty() ? api::authSecretName(my.name) : my.authSecretName;
  std::vector<std::string> missing;
  auto auth = c_.secrets->get(req.namespace_, authName);
  if (!auth) missing.push_back("Secret " + authName);
  for (const auto& svc : {api::primaryServiceName(my.name), api::governingServiceName(my.name)}) {
    if (!c_.services->get(req.namespace_, svc)) missing.push_back("Service " + svc);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return report(*obj, {false, "WaitingForDatabaseObjects",
                         fmt::format("waiting for the community operator to create {} for MySQL {}", list, db)});
  }

  // --- Certificates and the exporter configuration
  for (const auto& alias : api::tlsAliases()) {
    const Json desired = buildCertificate(my, alias);
    auto cached = c_.certificates->get(req.namespace_, kube::name(desired));
    auto outcome = runtime::createOrUpdate(cli_, api::certificateResource(), cached, desired);
    if (!outcome && !cached && outcome.error().is(core::ErrorCode::kAlreadyExists)) {
      return core::Error(core::ErrorCode::kConflict, "Certificate " + kube::name(desired) + " is not in the cache yet");
    }
    if (!outcome) return outcome.error();
    if (*outcome != runtime::WriteOutcome::kUnchanged) {
      const bool created = *outcome == runtime::WriteOutcome::kCreated;
      events_.event(*obj, runtime::kEventNormal, created ? "Created" : "Updated",
                    fmt::format("Successfully {} Certificate {}/{}", created ? "created" : "patched", req.namespace_,
                                kube::name(desired)));
    }
  }
  {
    const std::string user = secretValue(*auth, "username").empty() ? "root" : secretValue(*auth, "username");
    const Json desired = buildExporterConfigSecret(my, user, secretValue(*auth, "password"));
    auto cached = c_.secrets->get(req.namespace_, kube::name(desired));
    if (cached && !kube::isOwnedBy(*cached, my.uid)) {
      return report(*obj, {false, "ExporterConfigConflict",
                           fmt::format("Secret {}/{} exists and does not belong to MySQL {}; it is left alone",
                                       req.namespace_, kube::name(desired), db)});
    }
    auto outcome = runtime::createOrUpdate(cli_, kube::kSecrets, cached, desired);
    if (!outcome && !cached && outcome.error().is(core::ErrorCode::kAlreadyExists)) {
      return core::Error(core::ErrorCode::kConflict, "the exporter configuration is not in the cache yet");
    }
    if (!outcome) return outcome.error();
    if (*outcome == runtime::WriteOutcome::kCreated) {
      events_.event(*obj, runtime::kEventNormal, "Created",
                    fmt::format("Successfully created exporter configuration {}/{}", req.namespace_, kube::name(desired)));
    }
  }

  // --- the issued Secrets follow the MySQL (its deletion policy decides their fate)
  std::vector<std::string> pending, expiries;
  for (const auto& alias : api::tlsAliases()) {
    const std::string secretName = my.certSecretName(alias);
    auto secret = c_.secrets->get(req.namespace_, secretName);
    auto cert = c_.certificates->get(req.namespace_, api::certificateName(my.name, alias));
    if (secret && !kube::isOwnedBy(*secret, my.uid) &&
        kube::annotation(*secret, "cert-manager.io/certificate-name") == api::certificateName(my.name, alias)) {
      Json next = *secret;
      auto added = kube::addOwnerReference(next, *kube::OwnerReference::fromJson(api::ownerReference(my, false)));
      if (added && *added) {
        auto u = cli_.update(kube::kSecrets, next);
        if (!u) return u.error();
      }
    }
    auto st = cert ? api::parseCertificateStatus(*cert) : core::Result<api::CertificateStatus, api::FieldErrors>(api::FieldErrors{});
    if (!secret || !cert || !st || !st->ready.ready) {
      std::string why = !cert ? "not created yet" : !st ? "unreadable status" : st->ready.reason + ": " + st->ready.message;
      if (st && st->ready.ready && !secret) why = "Secret " + secretName + " missing";
      pending.push_back(fmt::format("{} ({})", api::certificateName(my.name, alias), why));
    } else {
      expiries.push_back(fmt::format("{} until {}", alias, st->notAfter));
    }
  }
  if (!pending.empty()) {
    std::string list;
    for (const auto& p : pending) list += (list.empty() ? "" : "; ") + p;
    return report(*obj, {false, "Issuing", "waiting for cert-manager to issue: " + list});
  }
  std::string list;
  for (const auto& e : expiries) list += (list.empty() ? "" : ", ") + e;
  return report(*obj, {true, "CertificatesIssued", "All TLS certificates are issued: " + list});
}

}  // namespace mysqlop::enterprise
