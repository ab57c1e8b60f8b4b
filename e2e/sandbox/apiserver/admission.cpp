// Per-kind rules applied on every write, in the spirit of kube-apiserver's registry strategies:
// names, namespaces, status on create, built-in defaults and validation (Secrets, Services,
// Namespaces, workloads, Events, CRDs) and the CRD structural schema for custom resources.
#include <fmt/format.h>

#include <algorithm>

#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "e2e/sandbox/apiserver/crd_schema.h"
#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {
namespace {

bool lowerAlnum(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); }

// DNS-1123 label (Namespace names).
std::optional<std::string> checkLabel(const std::string& s) {
  if (s.size() > 63) return "must be no more than 63 characters";
  bool ok = !s.empty() && lowerAlnum(s.front()) && lowerAlnum(s.back());
  for (char ch : s) ok = ok && (lowerAlnum(ch) || ch == '-');
  if (!ok) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
           "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
           "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  }
  return std::nullopt;
}

// DNS-1035 label (Service names).
std::optional<std::string> checkDns1035(const std::string& s) {
  if (s.size() > 63) return "must be no more than 63 characters";
  bool ok = !s.empty() && s.front() >= 'a' && s.front() <= 'z' && lowerAlnum(s.back());
  for (char ch : s) ok = ok && (lowerAlnum(ch) || ch == '-');
  if (!ok) {
    return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
           "with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  "
           "or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  }
  return std::nullopt;
}

// DNS-1123 subdomain (most names).
std::optional<std::string> checkSubdomain(const std::string& s) {
  if (s.size() > 253) return "must be no more than 253 characters";
  bool ok = !s.empty() && lowerAlnum(s.front()) && lowerAlnum(s.back());
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    ok = ok && (lowerAlnum(ch) || ch == '-' || ch == '.');
    if (ch == '.' && i + 1 < s.size()) ok = ok && lowerAlnum(s[i + 1]) && lowerAlnum(s[i - 1]);
  }
  if (!ok) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
           "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
           "regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return std::nullopt;
}

// Path-segment names (RBAC objects may hold ':').
std::optional<std::string> checkPathSegment(const std::string& s) {
  if (s.empty()) return "name must not be empty";
  if (s == "." || s == "..") return "may not be '" + s + "'";
  if (s.find('/') != std::string::npos || s.find('%') != std::string::npos) {
    return "may not contain '/' or '%'";
  }
  return std::nullopt;
}

std::optional<std::string> checkName(const ResourceInfo& r, const std::string& name) {
  if (r.group.empty() && r.plural == "namespaces") return checkLabel(name);
  if (r.group.empty() && r.plural == "services") return checkDns1035(name);
  if (r.group == "rbac.authorization.k8s.io") return checkPathSegment(name);
  return checkSubdomain(name);
}

void metadataCauses(const Json& obj, std::vector<Cause>& causes) {
  for (auto [field, isLabel] : {std::pair{"labels", true}, std::pair{"annotations", false}}) {
    const Json* m = kube::find(obj, {"metadata", field});
    if (!m || m->is_null()) continue;
    if (!m->is_object()) {
      causes.push_back(errors::invalidValue(std::string("metadata.") + field, *m, "must be a map"));
      continue;
    }
    for (auto it = m->begin(); it != m->end(); ++it) {
      std::string path = fmt::format("metadata.{}", field);
      if (!it.value().is_string()) {
        causes.push_back(errors::invalidValue(path, it.value(), "values must be strings"));
        continue;
      }
      if (auto st = kube::validateLabelKey(it.key()); !st) {
        causes.push_back(errors::invalidValue(path, it.key(), st.error().message));
      } else if (isLabel) {
        if (auto sv = kube::validateLabelValue(it.value().get<std::string>()); !sv) {
          causes.push_back(errors::invalidValue(path, it.value(), sv.error().message));
        }
      }
    }
  }
}

// A built-in object is decoded into typed fields: a JSON null there is the field's zero value,
// omitted when the object is written back (`rollingUpdate: null` clears it). Custom resources
// keep what their schema says.
void dropNulls(Json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (it.value().is_null()) {
        it = j.erase(it);
      } else {
        dropNulls(it.value());
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (auto& e : j) dropNulls(e);
  }
}

bool validBase64(const Json& v) { return v.is_string() && kube::base64Decode(v.get<std::string>()).ok(); }

}  // namespace

std::string ApiServer::Impl::allocateServiceIp() {
  std::lock_guard lock(ipMu);
  uint32_t n = nextServiceIp++;
  return fmt::format("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff);
}

ApiStatus ApiServer::Impl::validateSchema(Call& c, const ResourceInfo& r, Json& obj, bool pruneOnly) {
  const Json* schema = r.schema(c.info.version.empty() ? r.storageVersion : c.info.version);
  if (!schema) schema = r.schema(r.storageVersion);
  if (!schema) return {};
  std::vector<std::string> unknown;
  pruneAndDefault(*schema, obj, unknown, !pruneOnly);
  std::string mode = c.param("fieldValidation");
  if (!unknown.empty()) {
    if (mode == "Strict") {
      std::vector<std::string> parts;
      for (const auto& u : unknown) parts.push_back(u + ": field not declared in schema");
      return errors::badRequest(fmt::format("{}", fmt::join(parts, ", ")));
    }
    if (mode != "Ignore") {
      for (const auto& u : unknown) c.warnings.push_back(fmt::format("unknown field \"{}\"", u.substr(1)));
    }
  }
  if (pruneOnly) return {};
  auto causes = validateAgainstSchema(*schema, obj);
  if (!causes.empty()) return errors::invalid(r.kind, r.group, meta(obj, "name"), std::move(causes));
  return {};
}

ApiStatus ApiServer::Impl::admitCreate(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx, Json& obj) {
  if (r.builtin) dropNulls(obj);
  std::string name = meta(obj, "name");
  std::vector<Cause> causes;
  if (name.empty()) {
    causes.push_back({"FieldValueRequired", "Required value: name or generateName is required", "metadata.name"});
  } else if (auto bad = checkName(r, name)) {
    causes.push_back(errors::invalidValue("metadata.name", name, *bad));
  }
  metadataCauses(obj, causes);
  if (!causes.empty()) return errors::invalid(r.kind, r.group, name, causes);

  if (r.namespaced) {
    std::string ns = meta(obj, "namespace");
    ObjPtr nsObj = tx.get("/namespaces", "", ns);
    if (!nsObj) {
      ApiError e{404, "NotFound", fmt::format("namespaces \"{}\" not found", ns),
                 Json{{"name", ns}, {"kind", "namespaces"}}, std::nullopt};
      return e;
    }
    if (kube::isBeingDeleted(*nsObj)) {
      ApiError e = errors::forbidden(
          fmt::format("{} \"{}\" is forbidden: unable to create new content in namespace {} because it is being terminated",
                      r.qualified(), name, ns),
          name, r.group, r.plural);
      e.details["causes"] = Json::array({{{"reason", "NamespaceTerminating"},
                                          {"message", fmt::format("namespace {} is being terminated", ns)},
                                          {"field", "metadata.namespace"}}});
      return e;
    }
  }
  if (r.hasStatus && !(r.group.empty() && r.plural == "services")) obj.erase("status");

  const std::string& k = r.kind;
  if (r.group.empty()) {
    if (k == "Namespace") {
      obj["spec"]["finalizers"] = Json::array({"kubernetes"});
      obj["status"] = {{"phase", "Active"}};
      obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    } else if (k == "Secret") {
      if (!obj.contains("type") || obj["type"].is_null() || obj["type"] == "") obj["type"] = "Opaque";
    } else if (k == "Service") {
      obj.erase("status");
      obj["status"] = {{"loadBalancer", Json::object()}};
      Json& spec = obj["spec"];
      if (!spec.is_object()) spec = Json::object();
      if (!spec.contains("type")) spec["type"] = "ClusterIP";
      if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
      std::string ip = spec.value("clusterIP", "");
      if (ip.empty()) ip = allocateServiceIp();
      spec["clusterIP"] = ip;
      spec["clusterIPs"] = Json::array({ip});
      if (!spec.contains("ipFamilies")) spec["ipFamilies"] = Json::array({"IPv4"});
      if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
      if (!spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
      if (spec.contains("ports") && spec["ports"].is_array()) {
        for (auto& p : spec["ports"]) {
          if (!p.contains("protocol")) p["protocol"] = "TCP";
          if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
        }
      }
    } else if (k == "Pod") {
      Json& spec = obj["spec"];
      if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
      if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
      if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
      if (!spec.contains("serviceAccountName")) spec["serviceAccountName"] = "default";
      if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
      obj["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
    } else if (k == "PersistentVolumeClaim") {
      obj["status"] = {{"phase", "Pending"}};
    }
  }
  if (r.group == "apps") {
    Json& spec = obj["spec"];
    if (!spec.is_object()) spec = Json::object();
    if (!spec.contains("replicas")) spec["replicas"] = 1;
    if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
    if (k == "StatefulSet") {
      if (!spec.contains("podManagementPolicy")) spec["podManagementPolicy"] = "OrderedReady";
      if (!spec.contains("updateStrategy")) spec["updateStrategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}};
    }
    if (k == "Deployment" && !spec.contains("strategy")) {
      spec["strategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}};
    }
    obj["status"] = Json::object();
  }
  if (r.group == "apiextensions.k8s.io") {
    const Json& spec = obj.value("spec", Json::object());
    std::string want = spec.value("names", Json::object()).value("plural", "") + "." + spec.value("group", "");
    if (name != want) {
      return errors::invalid(r.kind, r.group, name,
                             {errors::invalidValue("metadata.name", name, "must be spec.names.plural+\".\"+spec.group")});
    }
  }
  if (!r.builtin) {
    if (auto st = validateSchema(c, r, obj); !st) return st;
  }
  return admitUpdate(c, r, tx, Json(), obj, "");
}

ApiStatus ApiServer::Impl::admitUpdate(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx,
                                       const Json& old, Json& obj, const std::string& subresource) {
  if (r.builtin) dropNulls(obj);
  std::string name = meta(obj, "name");
  if (r.group == "rbac.authorization.k8s.io") {
    if (auto st = preventEscalation(c, r, tx, obj); !st) return st;
  }
  bool isUpdate = !old.is_null();
  std::vector<Cause> causes;
  if (isUpdate) {
    metadataCauses(obj, causes);
    if (!causes.empty()) return errors::invalid(r.kind, r.group, name, causes);
    // A status write is pruned and validated as a whole object too: a field the CRD does not
    // declare under status is dropped, as a real API server drops it.
    if (!r.builtin && (subresource.empty() || subresource == "status")) {
      if (auto st = validateSchema(c, r, obj); !st) return st;
    }
  }
  if (!r.group.empty() && r.group != "apps") return {};
  const std::string& k = r.kind;
  if (k == "Secret") {
    // stringData is write-only: merged into data and never stored.
    if (obj.contains("stringData") && obj["stringData"].is_object()) {
      for (auto it = obj["stringData"].begin(); it != obj["stringData"].end(); ++it) {
        if (it.value().is_string()) obj["data"][it.key()] = kube::base64Encode(it.value().get<std::string>());
      }
    }
    obj.erase("stringData");
    if (obj.contains("data") && obj["data"].is_object()) {
      for (auto it = obj["data"].begin(); it != obj["data"].end(); ++it) {
        if (!validBase64(it.value())) {
          return errors::badRequest(fmt::format("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data in data[{}]", it.key()));
        }
      }
    }
    std::string type = obj.value("type", "Opaque");
    if (type == "kubernetes.io/tls") {
      for (const char* key : {"tls.crt", "tls.key"}) {
        if (!obj.contains("data") || !obj["data"].contains(key)) causes.push_back(errors::required(fmt::format("data[{}]", key)));
      }
    } else if (type == "kubernetes.io/basic-auth") {
      bool hasUser = obj.contains("data") && obj["data"].contains("username");
      bool hasPass = obj.contains("data") && obj["data"].contains("password");
      if (!hasUser && !hasPass) causes.push_back(errors::required("data[username]"));
    }
    if (isUpdate) {
      if (old.value("type", "Opaque") != type) {
        causes.push_back(errors::invalidValue("type", type, "field is immutable"));
      }
      if (old.value("immutable", false) && old.value("data", Json::object()) != obj.value("data", Json::object())) {
        causes.push_back({"FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "data"});
      }
    }
  } else if (k == "ConfigMap") {
    if (isUpdate && old.value("immutable", false) &&
        (old.value("data", Json::object()) != obj.value("data", Json::object()) ||
         old.value("binaryData", Json::object()) != obj.value("binaryData", Json::object()))) {
      causes.push_back({"FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "data"});
    }
  } else if (k == "Service") {
    const Json& spec = obj.value("spec", Json::object());
    if (isUpdate && old["spec"].value("clusterIP", "") != "" && spec.value("clusterIP", "") != old["spec"].value("clusterIP", "")) {
      if (spec.value("clusterIP", "").empty()) {
        obj["spec"]["clusterIP"] = old["spec"]["clusterIP"];
        obj["spec"]["clusterIPs"] = old["spec"].value("clusterIPs", Json::array({old["spec"]["clusterIP"]}));
      } else {
        causes.push_back(errors::invalidValue("spec.clusterIPs[0]", spec.value("clusterIP", ""),
                                              "may not change once set"));
      }
    }
    for (size_t i = 0; i < spec.value("ports", Json::array()).size(); ++i) {
      const Json& p = spec["ports"][i];
      if (!p.contains("port")) causes.push_back(errors::required(fmt::format("spec.ports[{}].port", i)));
    }
  } else if (k == "Event") {
    const Json& io = obj.value("involvedObject", Json::object());
    std::string ns = io.value("namespace", "");
    if (!ns.empty() && ns != meta(obj, "namespace")) {
      causes.push_back(errors::invalidValue("involvedObject.namespace", ns, "does not match event.namespace"));
    }
  } else if (k == "StatefulSet" || k == "Deployment" || k == "ReplicaSet") {
    const Json& spec = obj.value("spec", Json::object());
    auto sel = kube::LabelSelector::fromJson(spec.value("selector", Json()));
    if (!spec.contains("selector")) {
      causes.push_back(errors::required("spec.selector"));
    } else if (!sel) {
      causes.push_back(errors::invalidValue("spec.selector", spec["selector"], sel.error().message));
    } else {
      std::map<std::string, std::string> labels;
      if (const Json* l = kube::find(spec, {"template", "metadata", "labels"}); l && l->is_object()) {
        for (auto it = l->begin(); it != l->end(); ++it) {
          if (it.value().is_string()) labels[it.key()] = it.value();
        }
      }
      if (sel->empty() || !sel->matches(labels)) {
        causes.push_back(errors::invalidValue("spec.template.metadata.labels",
                                              kube::find(spec, {"template", "metadata", "labels"})
                                                  ? *kube::find(spec, {"template", "metadata", "labels"})
                                                  : Json(nullptr),
                                              "`selector` does not match template `labels`"));
      }
      if (k == "StatefulSet") {
        const Json strategy = spec.value("updateStrategy", Json::object());
        if (strategy.value("type", "RollingUpdate") != "RollingUpdate" && strategy.contains("rollingUpdate")) {
          causes.push_back(errors::invalidValue("spec.updateStrategy.rollingUpdate", strategy["rollingUpdate"],
                                                "only allowed for updateStrategy 'RollingUpdate'"));
        }
      }
      if (isUpdate && k == "StatefulSet" && subresource.empty()) {
        Json oldSpec = old.value("spec", Json::object());
        for (const char* f : {"selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates"}) {
          if (oldSpec.value(f, Json()) != spec.value(f, Json()) && oldSpec.contains(f)) {
            causes.push_back({"FieldValueForbidden",
                              "Forbidden: updates to statefulset spec for fields other than 'replicas', "
                              "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                              "and 'minReadySeconds' are forbidden",
                              "spec"});
            break;
          }
        }
      }
    }
  }
  if (!causes.empty()) return errors::invalid(r.kind, r.group, name, causes);
  return {};
}

void ApiServer::Impl::afterWrite(const ResourceInfo& r, ObjectStore::Txn& tx, const Json* before,
                                 const Json* after) {
  // The garbage collector is woken by deletions, and by a write naming an owner that is not
  // there (its dependent is collected, as the real one verifies absent owners).
  if (after) {
    for (const auto& ref : kube::ownerReferences(*after)) {
      if (!tx.byUid(ref.uid).second) {
        kickControllers();
        break;
      }
    }
  }
  if (r.group.empty() && r.plural == "namespaces" && !before && after) {
    // What the serviceaccount and root-CA publisher controllers put into every namespace.
    std::string ns = meta(*after, "name");
    std::string now = core::formatTime(clock.now());
    if (!tx.get("/serviceaccounts", ns, "default")) {
      tx.put("/serviceaccounts", Json{{"apiVersion", "v1"}, {"kind", "ServiceAccount"},
                                      {"metadata", {{"name", "default"}, {"namespace", ns}, {"uid", newUid()},
                                                    {"creationTimestamp", now}}}});
    }
    if (!tx.get("/configmaps", ns, "kube-root-ca.crt")) {
      tx.put("/configmaps", Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                 {"metadata", {{"name", "kube-root-ca.crt"}, {"namespace", ns}, {"uid", newUid()},
                                               {"creationTimestamp", now},
                                               {"annotations", {{"kubernetes.io/description",
                                                                 "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}}}}},
                                 {"data", {{"ca.crt", caCert}}}});
    }
    return;
  }
  if (r.group != "apiextensions.k8s.io" || r.plural != "customresourcedefinitions") return;
  if (!after) {
    registry.unregisterCrd(meta(*before, "name"));
    return;
  }
  if (kube::isBeingDeleted(*after)) return;  // still served until its objects are gone
  Json crd = *after;
  auto err = registry.registerCrd(crd);
  // The CRD "controller": names accepted and Established at once (spec §2.13).
  const Json& spec = crd.value("spec", Json::object());
  Json names = spec.value("names", Json::object());
  if (!names.contains("singular")) {
    std::string s = names.value("kind", "");
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    names["singular"] = s;
  }
  if (!names.contains("listKind")) names["listKind"] = names.value("kind", "") + "List";
  std::string storage;
  for (const auto& v : spec.value("versions", Json::array())) {
    if (v.value("storage", false)) storage = v.value("name", "");
  }
  Json status = crd.value("status", Json::object());
  status["acceptedNames"] = names;
  Json stored = status.value("storedVersions", Json::array());
  if (!storage.empty() && std::find(stored.begin(), stored.end(), storage) == stored.end()) stored.push_back(storage);
  status["storedVersions"] = stored;
  std::string now = core::formatTime(clock.now());
  Json conds = Json::array();
  auto cond = [&](const char* type, bool ok, const char* reason, const std::string& message) {
    Json c = {{"type", type}, {"status", ok ? "True" : "False"}, {"reason", reason}, {"message", message},
              {"lastTransitionTime", now}};
    for (const auto& old : status.value("conditions", Json::array())) {
      if (old.value("type", "") == type && old.value("status", "") == c["status"]) {
        c["lastTransitionTime"] = old.value("lastTransitionTime", now);
      }
    }
    conds.push_back(c);
  };
  cond("NamesAccepted", !err, err ? "NameConflict" : "NoConflicts", err ? *err : "no conflicts found");
  cond("Established", !err, err ? "NotAccepted" : "InitialNamesAccepted",
       err ? "not all names are accepted" : "the initial names have been accepted");
  status["conditions"] = conds;
  if (status != crd.value("status", Json::object())) {
    crd["status"] = status;
    tx.put(r.key(), std::move(crd));
  }
}

}  // namespace mysqlop::sandbox
