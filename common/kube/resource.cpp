#include "common/kube/resource.h"

#include <fmt/format.h>

namespace mysqlop::kube {
namespace {

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percentEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

GroupVersion GroupVersion::parse(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  if (slash == std::string_view::npos) return {"", std::string(apiVersion)};
  return {std::string(apiVersion.substr(0, slash)), std::string(apiVersion.substr(slash + 1))};
}

std::string ResourceType::qualifiedResource() const {
  return gvr.group.empty() ? gvr.resource : gvr.resource + "." + gvr.group;
}

const ResourceType kNamespaces{{"", "v1", "namespaces"}, "Namespace", false};
const ResourceType kSecrets{{"", "v1", "secrets"}, "Secret", true};
const ResourceType kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
const ResourceType kServices{{"", "v1", "services"}, "Service", true};
const ResourceType kServiceAccounts{{"", "v1", "serviceaccounts"}, "ServiceAccount", true};
const ResourceType kPods{{"", "v1", "pods"}, "Pod", true};
const ResourceType kPersistentVolumeClaims{{"", "v1", "persistentvolumeclaims"},
                                           "PersistentVolumeClaim", true};
const ResourceType kEndpoints{{"", "v1", "endpoints"}, "Endpoints", true};
const ResourceType kEvents{{"", "v1", "events"}, "Event", true};
const ResourceType kStatefulSets{{"apps", "v1", "statefulsets"}, "StatefulSet", true};
const ResourceType kDeployments{{"apps", "v1", "deployments"}, "Deployment", true};
const ResourceType kReplicaSets{{"apps", "v1", "replicasets"}, "ReplicaSet", true};
const ResourceType kLeases{{"coordination.k8s.io", "v1", "leases"}, "Lease", true};
const ResourceType kRoles{{"rbac.authorization.k8s.io", "v1", "roles"}, "Role", true};
const ResourceType kRoleBindings{{"rbac.authorization.k8s.io", "v1", "rolebindings"},
                                 "RoleBinding", true};
const ResourceType kClusterRoles{{"rbac.authorization.k8s.io", "v1", "clusterroles"},
                                 "ClusterRole", false};
const ResourceType kClusterRoleBindings{{"rbac.authorization.k8s.io", "v1", "clusterrolebindings"},
                                        "ClusterRoleBinding", false};
const ResourceType kCustomResourceDefinitions{
    {"apiextensions.k8s.io", "v1", "customresourcedefinitions"}, "CustomResourceDefinition", false};

std::string groupVersionPath(const GroupVersionResource& gvr) {
  if (gvr.group.empty()) return "/api/" + gvr.version;
  return "/apis/" + gvr.group + "/" + gvr.version;
}

std::string resourcePath(const ResourceType& rt, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string p = groupVersionPath(rt.gvr);
  if (rt.namespaced && !ns.empty()) {
    p += "/namespaces/";
    p += escapePathSegment(ns);
  }
  p += '/';
  p += rt.gvr.resource;
  if (!name.empty()) {
    p += '/';
    p += escapePathSegment(name);
    if (!subresource.empty()) {
      p += '/';
      p += subresource;
    }
  }
  return p;
}

std::string escapePathSegment(std::string_view s) { return percentEncode(s); }
std::string escapeQueryValue(std::string_view s) { return percentEncode(s); }

}  // namespace mysqlop::kube
