#pragma once
// API identity: group/version, GVK, GVR, and a `ResourceType` (GVR + kind + scope) that is
// enough to build REST paths. The built-in kinds the operators touch are listed here; CRD
// kinds are described by their owners (common/api). Pure; any thread.
//
//   resourcePath(kSecrets, "demo", "my-auth")          → /api/v1/namespaces/demo/secrets/my-auth
//   resourcePath(kStatefulSets, "demo", "my", "status") → /apis/apps/v1/namespaces/demo/statefulsets/my/status

#include <string>
#include <string_view>

namespace mysqlop::kube {

struct GroupVersion {
  std::string group;  // "" for the core group
  std::string version;

  // "v1" for core, "apps/v1" otherwise.
  std::string toString() const { return group.empty() ? version : group + "/" + version; }
  // From an apiVersion: "v1" → {"", "v1"}, "apps/v1" → {"apps", "v1"}.
  static GroupVersion parse(std::string_view apiVersion);
  bool operator==(const GroupVersion&) const = default;
};

struct GroupVersionKind {
  std::string group;
  std::string version;
  std::string kind;
  std::string apiVersion() const { return GroupVersion{group, version}.toString(); }
  bool operator==(const GroupVersionKind&) const = default;
};

struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;  // plural, lowercase
  bool operator==(const GroupVersionResource&) const = default;
};

struct ResourceType {
  GroupVersionResource gvr;
  std::string kind;
  bool namespaced = true;

  std::string apiVersion() const { return GroupVersion{gvr.group, gvr.version}.toString(); }
  GroupVersionKind gvk() const { return {gvr.group, gvr.version, kind}; }
  // "secrets" for core, "statefulsets.apps" otherwise: how the API names it in messages.
  std::string qualifiedResource() const;
};

// Built-in resource types.
extern const ResourceType kNamespaces;
extern const ResourceType kSecrets;
extern const ResourceType kConfigMaps;
extern const ResourceType kServices;
extern const ResourceType kServiceAccounts;
extern const ResourceType kPods;
extern const ResourceType kPersistentVolumeClaims;
extern const ResourceType kEndpoints;
extern const ResourceType kEvents;
extern const ResourceType kStatefulSets;
extern const ResourceType kDeployments;
extern const ResourceType kReplicaSets;
extern const ResourceType kLeases;
extern const ResourceType kRoles;
extern const ResourceType kRoleBindings;
extern const ResourceType kClusterRoles;
extern const ResourceType kClusterRoleBindings;
extern const ResourceType kCustomResourceDefinitions;

// "/api/v1" or "/apis/<group>/<version>".
std::string groupVersionPath(const GroupVersionResource& gvr);

// The REST path of a collection (name empty) or an item, optionally a subresource.
// An empty namespace on a namespaced type addresses all namespaces (lists and watches);
// the namespace of a cluster-scoped type is ignored. Segments are percent-encoded.
std::string resourcePath(const ResourceType& rt, std::string_view ns, std::string_view name = {},
                         std::string_view subresource = {});

// Percent-encoding for a path segment and for a query component (RFC 3986 unreserved kept).
std::string escapePathSegment(std::string_view s);
std::string escapeQueryValue(std::string_view s);

}  // namespace mysqlop::kube
