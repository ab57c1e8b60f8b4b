#include "e2e/sandbox/apiserver/resource_registry.h"

#include <algorithm>
#include <mutex>

namespace mysqlop::sandbox {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

ResourceInfo builtin(std::string group, std::string version, std::string plural,
                     std::string singular, std::string kind, bool namespaced,
                     std::vector<std::string> shortNames = {}) {
  ResourceInfo r;
  r.group = std::move(group);
  r.versions = {version};
  r.storageVersion = std::move(version);
  r.plural = std::move(plural);
  r.singular = std::move(singular);
  r.kind = kind;
  r.listKind = kind + "List";
  r.namespaced = namespaced;
  r.shortNames = std::move(shortNames);
  r.verbs = kAllVerbs;
  return r;
}

}  // namespace

bool ResourceInfo::serves(const std::string& version) const {
  return std::find(versions.begin(), versions.end(), version) != versions.end();
}

const Json* ResourceInfo::schema(const std::string& version) const {
  auto it = schemas.find(version);
  return it == schemas.end() ? nullptr : &it->second;
}

ResourceRegistry::ResourceRegistry() {
  groupOrder_ = {"",
                 "apps",
                 "events.k8s.io",
                 "authentication.k8s.io",
                 "authorization.k8s.io",
                 "coordination.k8s.io",
                 "rbac.authorization.k8s.io",
                 "apiextensions.k8s.io"};
  addBuiltins();
}

void ResourceRegistry::add(ResourceInfo info) {
  auto key = info.key();
  byKey_[key] = std::make_shared<const ResourceInfo>(std::move(info));
}

void ResourceRegistry::addBuiltins() {
  auto ns = builtin("", "v1", "namespaces", "namespace", "Namespace", false, {"ns"});
  ns.hasStatus = true;
  ns.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  add(ns);
  add(builtin("", "v1", "secrets", "secret", "Secret", true));
  add(builtin("", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}));
  auto svc = builtin("", "v1", "services", "service", "Service", true, {"svc"});
  svc.hasStatus = true;
  svc.categories = {"all"};
  add(svc);
  auto sa = builtin("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"});
  sa.extraSubresources = {"token"};
  add(sa);
  auto pod = builtin("", "v1", "pods", "pod", "Pod", true, {"po"});
  pod.hasStatus = true;
  pod.categories = {"all"};
  add(pod);
  auto pvc = builtin("", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
                     "PersistentVolumeClaim", true, {"pvc"});
  pvc.hasStatus = true;
  add(pvc);
  add(builtin("", "v1", "endpoints", "endpoints", "Endpoints", true, {"ep"}));
  add(builtin("", "v1", "events", "event", "Event", true, {"ev"}));
  add(builtin("", "v1", "nodes", "node", "Node", false, {"no"}));

  for (auto [plural, singular, kind, shortName] :
       {std::tuple{"statefulsets", "statefulset", "StatefulSet", "sts"},
        std::tuple{"deployments", "deployment", "Deployment", "deploy"},
        std::tuple{"replicasets", "replicaset", "ReplicaSet", "rs"}}) {
    auto r = builtin("apps", "v1", plural, singular, kind, true, {shortName});
    r.hasStatus = true;
    r.hasScale = true;
    r.tracksGeneration = true;
    r.categories = {"all"};
    add(r);
  }
  add(builtin("events.k8s.io", "v1", "events", "event", "Event", true, {"ev"}));
  add(builtin("coordination.k8s.io", "v1", "leases", "lease", "Lease", true));
  // Stored and served (the charts ship one); nothing here enforces it.
  add(builtin("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, {"netpol"}));
  add(builtin("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true));
  add(builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true));
  add(builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false));
  add(builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
              "ClusterRoleBinding", false));
  auto crd = builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions",
                     "customresourcedefinition", "CustomResourceDefinition", false, {"crd", "crds"});
  crd.hasStatus = true;
  crd.tracksGeneration = true;
  crd.categories = {"api-extensions"};
  add(crd);
  for (auto [group, plural, singular, kind] :
       {std::tuple{"authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectaccessreview",
                   "SelfSubjectAccessReview"},
        std::tuple{"authorization.k8s.io", "subjectaccessreviews", "subjectaccessreview",
                   "SubjectAccessReview"},
        std::tuple{"authentication.k8s.io", "tokenreviews", "tokenreview", "TokenReview"},
        std::tuple{"authentication.k8s.io", "selfsubjectreviews", "selfsubjectreview",
                   "SelfSubjectReview"}}) {
    auto r = builtin(group, "v1", plural, singular, kind, false);
    r.verbs = {"create"};
    r.createOnly = true;
    add(r);
  }
}

std::optional<std::string> ResourceRegistry::registerCrd(const Json& crd) {
  const Json& spec = crd.value("spec", Json::object());
  const Json& names = spec.value("names", Json::object());
  ResourceInfo r;
  r.builtin = false;
  r.tracksGeneration = true;
  r.group = spec.value("group", "");
  r.plural = names.value("plural", "");
  r.kind = names.value("kind", "");
  r.singular = names.value("singular", "");
  if (r.singular.empty()) {
    r.singular = r.kind;
    std::transform(r.singular.begin(), r.singular.end(), r.singular.begin(), ::tolower);
  }
  r.listKind = names.value("listKind", r.kind + "List");
  r.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
  if (names.contains("shortNames")) r.shortNames = names["shortNames"].get<std::vector<std::string>>();
  if (names.contains("categories")) r.categories = names["categories"].get<std::vector<std::string>>();
  r.verbs = kAllVerbs;
  r.crdName = crd["metadata"].value("name", "");
  if (r.group.empty() || r.plural.empty() || r.kind.empty()) return "spec.group and spec.names are required";

  // Served versions in Kubernetes' preference order (GA > beta > alpha, then by number).
  auto rank = [](const std::string& v) {
    // v<major>[alpha|beta]<minor>
    int major = 0, minor = 0, stage = 3;
    size_t i = 1;
    while (i < v.size() && isdigit(static_cast<unsigned char>(v[i]))) major = major * 10 + (v[i++] - '0');
    if (v.compare(i, 5, "alpha") == 0) { stage = 1; i += 5; }
    else if (v.compare(i, 4, "beta") == 0) { stage = 2; i += 4; }
    while (i < v.size() && isdigit(static_cast<unsigned char>(v[i]))) minor = minor * 10 + (v[i++] - '0');
    return std::tuple{stage, major, minor};
  };
  for (const auto& v : spec.value("versions", Json::array())) {
    std::string name = v.value("name", "");
    if (v.value("storage", false)) r.storageVersion = name;
    if (!v.value("served", true)) continue;
    r.versions.push_back(name);
    if (auto s = v.find("schema"); s != v.end() && s->contains("openAPIV3Schema")) {
      r.schemas[name] = (*s)["openAPIV3Schema"];
    }
    if (auto sub = v.find("subresources"); sub != v.end()) {
      if (sub->contains("status")) r.hasStatus = true;
      if (sub->contains("scale")) r.hasScale = true;
    }
    std::vector<PrinterColumn> cols;
    for (const auto& c : v.value("additionalPrinterColumns", Json::array())) {
      cols.push_back({c.value("name", ""), c.value("type", "string"), c.value("format", ""),
                      c.value("description", ""), c.value("jsonPath", ""), c.value("priority", 0)});
    }
    r.columns[name] = std::move(cols);
  }
  if (r.versions.empty()) return "no served version";
  std::sort(r.versions.begin(), r.versions.end(),
            [&](const std::string& a, const std::string& b) { return rank(a) > rank(b); });
  if (r.storageVersion.empty()) r.storageVersion = r.versions.front();

  std::unique_lock lock(mu_);
  auto existing = byKey_.find(r.key());
  if (existing != byKey_.end() && existing->second->builtin) {
    return "the resource " + r.qualified() + " is built in";
  }
  std::string key = r.key();  // before the move below
  byKey_[key] = std::make_shared<const ResourceInfo>(std::move(r));
  ++generation_;
  return std::nullopt;
}

void ResourceRegistry::unregisterCrd(const std::string& crdName) {
  std::unique_lock lock(mu_);
  for (auto it = byKey_.begin(); it != byKey_.end();) {
    if (!it->second->builtin && it->second->crdName == crdName) {
      it = byKey_.erase(it);
      ++generation_;
    } else {
      ++it;
    }
  }
}

ResourcePtr ResourceRegistry::find(const std::string& group, const std::string& version,
                                   const std::string& plural) const {
  std::shared_lock lock(mu_);
  auto it = byKey_.find(group + "/" + plural);
  if (it == byKey_.end() || !it->second->serves(version)) return nullptr;
  return it->second;
}

ResourcePtr ResourceRegistry::findByKind(const std::string& group, const std::string& kind) const {
  std::shared_lock lock(mu_);
  for (const auto& [k, r] : byKey_) {
    if (r->group == group && r->kind == kind) return r;
  }
  return nullptr;
}

ResourcePtr ResourceRegistry::findByKey(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = byKey_.find(key);
  return it == byKey_.end() ? nullptr : it->second;
}

std::vector<ResourcePtr> ResourceRegistry::all() const {
  std::shared_lock lock(mu_);
  std::vector<ResourcePtr> out;
  for (const auto& [k, r] : byKey_) out.push_back(r);
  return out;
}

std::vector<std::string> ResourceRegistry::groups() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out = groupOrder_;
  std::vector<std::string> extra;
  for (const auto& [k, r] : byKey_) {
    if (std::find(out.begin(), out.end(), r->group) == out.end() &&
        std::find(extra.begin(), extra.end(), r->group) == extra.end()) {
      extra.push_back(r->group);
    }
  }
  std::sort(extra.begin(), extra.end());
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

uint64_t ResourceRegistry::generation() const {
  std::shared_lock lock(mu_);
  return generation_;
}

std::vector<PrinterColumn> builtinColumns(const ResourceInfo& r) {
  auto col = [](std::string name, std::string path, std::string type = "string", int prio = 0) {
    return PrinterColumn{std::move(name), std::move(type), "", "", std::move(path), prio};
  };
  const std::string& k = r.kind;
  if (k == "Namespace") return {col("Status", ".status.phase")};
  if (k == "Secret") return {col("Type", ".type"), col("Data", "@datacount", "integer")};
  if (k == "ConfigMap") return {col("Data", "@datacount", "integer")};
  if (k == "Service") {
    return {col("Type", ".spec.type"), col("Cluster-IP", ".spec.clusterIP"),
            col("Ports", "@ports")};
  }
  if (k == "Pod") {
    return {col("Ready", "@podready"), col("Status", "@podstatus"),
            col("Restarts", "@restarts", "integer"), col("IP", ".status.podIP", "string", 1)};
  }
  if (k == "StatefulSet" || k == "Deployment" || k == "ReplicaSet") {
    return {col("Ready", "@readyreplicas")};
  }
  if (k == "Lease") return {col("Holder", ".spec.holderIdentity")};
  if (k == "PersistentVolumeClaim") return {col("Status", ".status.phase")};
  if (k == "Event") {
    return {col("Type", ".type"), col("Reason", ".reason"), col("Object", "@involved"),
            col("Message", ".message")};
  }
  if (k == "CustomResourceDefinition") return {col("Created At", ".metadata.creationTimestamp")};
  return {};
}

}  // namespace mysqlop::sandbox
