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
  for (auto [key, field] : {std::pair{"notBefore", &out.notBefore}, std::pair{"notAfter", &out.notAfter},
                            std::pair{"renewalTime", &out.renewalTime}}) {
    auto it = status.find(key);
    if (it == status.end() || it->is_null()) continue;
    if (!it->is_string()) {
      errors.push_back({std::string("status.") + key, "Invalid value: " + it->dump() + ": must be a string"});
      continue;
    }
    *field = it->get<std::string>();
  }
  if (auto it = status.find("revision"); it != status.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      out.revision = it->get<int64_t>();
    } else {
      errors.push_back({"status.revision", "Invalid value: " + it->dump() + ": must be an integer"});
    }
  }
  if (!errors.empty()) return errors;
  return out;
}

}  // namespace mysqlop::api
