#include "common/api/ops_request.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/cert_manager.h"
#include "common/api/naming.h"
#include "common/kube/duration.h"
#include "common/kube/object.h"

namespace mysqlop::api {

const kube::ResourceType& opsRequestResource() {
  static const kube::ResourceType kType{{std::string(kOpsGroup), std::string(kOpsVersion), "mysqlopsrequests"},
                                        std::string(kOpsKind), true};
  return kType;
}

std::string pausedBy(const Json& mysql) { return kube::annotation(mysql, kAnnotationPausedBy).value_or(""); }

bool isFinished(std::string_view phase) { return phase == kOpsSuccessful || phase == kOpsFailed || phase == kOpsSkipped; }

std::string_view toString(OpsType t) { return t == OpsType::kRestart ? "Restart" : "ReconfigureTLS"; }

namespace {

bool startsWith(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The request's issuerRef and certificate entries sit at the same paths as a MySQL's
// (spec.tls.issuerRef, spec.tls.certificates[i]): they are read and checked by the MySQL's own
// parser and validation, on a MySQL made of them alone, so the messages are the same words.
void readTls(const Json& tls, OpsTLS& out, FieldErrors& errors) {
  Json probe = {{"apiVersion", "kubedb.com/v1"},
                {"metadata", {{"name", "probe"}, {"namespace", "probe"}}},
                {"spec", {{"version", "probe"}, {"tls", Json::object()}}}};
  for (const char* k : {"issuerRef", "certificates"}) {
    if (tls.contains(k)) probe["spec"]["tls"][k] = tls[k];
  }
  auto parsed = parseMySQL(probe);
  if (!parsed) {
    for (auto& e : parsed.error()) errors.push_back(std::move(e));
    return;
  }
  for (auto& e : validate(*parsed)) {
    const bool certificate = startsWith(e.field, "spec.tls.certificates");
    const bool issuer = startsWith(e.field, "spec.tls.issuerRef.") && parsed->tls->issuerRef;
    if (certificate || issuer) errors.push_back(std::move(e));
  }
  out.issuerRef = parsed->tls->issuerRef;
  out.certificates = parsed->tls->certificates;
  if (auto c = tls.find("certificates"); c != tls.end() && c->is_array()) out.certificatesJson = *c;
}

}  // namespace

core::Result<OpsRequest, FieldErrors> parseOpsRequest(const Json& obj) {
  FieldErrors errors;
  FieldReader r(errors);
  OpsRequest req;
  if (!obj.is_object()) return FieldErrors{{"<root>", "must be an object"}};
  if (const Json* md = r.object(obj, "metadata", "")) {
    req.name = r.str(*md, "name", "metadata");
    req.namespace_ = r.str(*md, "namespace", "metadata");
    req.uid = r.str(*md, "uid", "metadata");
    req.creationTimestamp = r.str(*md, "creationTimestamp", "metadata");
    req.generation = r.integer(*md, "generation", "metadata");
  }
  const Json* spec = r.object(obj, "spec", "");
  if (!spec) return FieldErrors{{"spec", "Required value"}};
  const std::string type = r.str(*spec, "type", "spec");
  if (type == "ReconfigureTLS") {
    req.type = OpsType::kReconfigureTLS;
  } else if (type == "Restart") {
    req.type = OpsType::kRestart;
  } else if (type.empty()) {
    errors.push_back({"spec.type", "Required value: one of \"ReconfigureTLS\", \"Restart\""});
  } else {
    errors.push_back({"spec.type", fmt::format("Unsupported value: {:?}: supported values: \"ReconfigureTLS\", \"Restart\" "
                                               "(mysqlop runs no other KubeDB operation)",
                                               type)});
  }
  if (const Json* ref = r.object(*spec, "databaseRef", "spec")) req.database = r.str(*ref, "name", "spec.databaseRef");
  if (req.database.empty()) errors.push_back({"spec.databaseRef.name", "Required value: the MySQL to operate on"});
  const std::string apply = r.str(*spec, "apply", "spec");
  if (apply == "Always") {
    req.apply = ApplyPolicy::kAlways;
  } else if (!apply.empty() && apply != "IfReady") {
    errors.push_back({"spec.apply", fmt::format("Unsupported value: {:?}: supported values: \"Always\", \"IfReady\"", apply)});
  }
  const std::string timeout = r.str(*spec, "timeout", "spec");
  if (!timeout.empty()) {
    auto ns = kube::parseGoDuration(timeout);
    if (!ns) {
      errors.push_back({"spec.timeout", fmt::format("Invalid value: {:?}: {}", timeout, ns.error().message)});
    } else if (*ns <= 0) {
      errors.push_back({"spec.timeout", fmt::format("Invalid value: {:?}: must be positive", timeout)});
    } else {
      req.timeout = std::chrono::milliseconds(*ns / 1000000);
    }
  }
  const Json* tls = r.object(*spec, "tls", "spec");
  if (tls) {
    OpsTLS t;
    t.rotateCertificates = r.boolean(*tls, "rotateCertificates", "spec.tls");
    t.remove = r.boolean(*tls, "remove", "spec.tls");
    if (auto it = tls->find("requireSSL"); it != tls->end() && !it->is_null()) {
      if (it->is_boolean()) {
        t.requireSSL = it->get<bool>();
      } else {
        r.bad("spec.tls.requireSSL", *it, "must be a boolean");
      }
    }
    readTls(*tls, t, errors);
    const bool changes = t.issuerRef || !t.certificates.empty() || t.requireSSL;
    if (t.remove && t.rotateCertificates) {
      errors.push_back({"spec.tls", "Invalid value: remove and rotateCertificates cannot both be true"});
    } else if (t.remove && changes) {
      errors.push_back({"spec.tls.remove", "Invalid value: true: removing TLS takes no issuerRef, certificates or requireSSL"});
    } else if (!t.remove && !t.rotateCertificates && !changes) {
      errors.push_back({"spec.tls", "Required value: one of issuerRef, certificates, rotateCertificates, remove, requireSSL"});
    }
    req.tls = std::move(t);
  }
  if (req.type == OpsType::kReconfigureTLS && !tls && !type.empty()) {
    errors.push_back({"spec.tls", "Required value: a ReconfigureTLS request says what to change"});
  }
  if (req.type == OpsType::kRestart && tls && type == "Restart") {
    errors.push_back({"spec.tls", "Forbidden: a Restart request changes nothing; use type ReconfigureTLS"});
  }
  if (!errors.empty()) return errors;
  return req;
}

core::Result<Json, FieldErrors> reconfiguredSpec(const Json& mysql, const OpsTLS& tls) {
  Json spec = mysql.value("spec", Json::object());
  if (tls.remove) {
    spec.erase("tls");
    spec.erase("requireSSL");
  } else {
    const bool hadTls = spec.contains("tls") && spec["tls"].is_object();
    if (!hadTls && !tls.issuerRef) {
      return FieldErrors{{"spec.tls.issuerRef", fmt::format("Required value: MySQL {}/{} has no TLS yet; adding it needs an "
                                                            "Issuer or ClusterIssuer",
                                                            kube::namespaceOf(mysql), kube::name(mysql))}};
    }
    if (!hadTls) spec["tls"] = Json::object();
    Json& t = spec["tls"];
    if (tls.issuerRef) {
      Json ref = {{"kind", tls.issuerRef->kind}, {"name", tls.issuerRef->name}};
      ref["apiGroup"] = tls.issuerRef->apiGroup.empty() ? std::string(kCertManagerGroup) : tls.issuerRef->apiGroup;
      t["issuerRef"] = ref;
    }
    Json certs = t.value("certificates", Json::array());
    if (!certs.is_array()) certs = Json::array();
    for (const auto& entry : tls.certificatesJson) {
      const std::string alias = entry.value("alias", "");
      auto it = std::find_if(certs.begin(), certs.end(), [&](const Json& c) { return c.is_object() && c.value("alias", "") == alias; });
      Json next = entry;
      if (it != certs.end()) {
        if (!next.contains("secretName") && it->contains("secretName")) next["secretName"] = (*it)["secretName"];
        *it = next;
      } else {
        certs.push_back(next);
      }
    }
    if (!certs.empty()) t["certificates"] = certs;
    if (tls.requireSSL) spec["requireSSL"] = *tls.requireSSL;
  }
  Json next = mysql;
  next["spec"] = spec;
  auto parsed = parseMySQL(next);
  if (!parsed) return parsed.error();
  setDefaults(*parsed);
  if (auto errs = validate(*parsed); !errs.empty()) return errs;
  return spec;
}

}  // namespace mysqlop::api
