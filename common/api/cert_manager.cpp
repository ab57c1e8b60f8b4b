#include "common/api/cert_manager.h"

#include "common/kube/conditions.h"
#include "common/kube/object.h"

namespace mysqlop::api {

const kube::ResourceType& certificateResource() {
  static const kube::ResourceType kType{{std::string(kCertManagerGroup), "v1", "certificates"}, "Certificate", true};
  return kType;
}
const kube::ResourceType& issuerResource() {
  static const kube::ResourceType kType{{std::string(kCertManagerGroup), "v1", "issuers"}, "Issuer", true};
  return kType;
}
const kube::ResourceType& clusterIssuerResource() {
  static const kube::ResourceType kType{{std::string(kCertManagerGroup), "v1", "clusterissuers"}, "ClusterIssuer", false};
  return kType;
}
const kube::ResourceType& certificateRequestResource() {
  static const kube::ResourceType kType{{std::string(kCertManagerGroup), "v1", "certificaterequests"}, "CertificateRequest", true};
  return kType;
}

ReadyState readyState(const Json& obj) {
  auto c = kube::findStatusCondition(obj, "Ready");
  if (!c) return {false, "NoReadyCondition", "no Ready condition has been reported yet"};
  const int64_t gen = kube::generation(obj);
  if (c->observedGeneration > 0 && gen > 0 && c->observedGeneration < gen) {
    return {false, "Outdated", "the Ready condition describes an older generation: " + c->message};
  }
  return {c->status == kube::kConditionTrue, c->reason, c->message};
}

core::Result<CertificateStatus, FieldErrors> parseCertificateStatus(const Json& cert) {
  FieldErrors errors;
  CertificateStatus out;
  out.ready = readyState(cert);
  const Json status = cert.is_object() ? cert.value("status", Json::object()) : Json::object();
  FieldReader r(errors);
  out.notBefore = r.str(status, "notBefore", "status");
  out.notAfter = r.str(status, "notAfter", "status");
  out.renewalTime = r.str(status, "renewalTime", "status");
  out.revision = r.integer(status, "revision", "status");
  if (!errors.empty()) return errors;
  return out;
}

}  // namespace mysqlop::api
