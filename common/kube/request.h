#pragma once
// REST requests built as values (no I/O), in the way kube-core does: the client executes them,
// tests inspect them. Options mirror metav1 ListOptions, CreateOptions/UpdateOptions,
// PatchOptions and DeleteOptions. Pure; any thread.
//
//   ApiRequest r = listRequest(kSecrets, "demo", {.labelSelector = "app=my", .limit = 500});
//   // r.method == "GET", r.path == "/api/v1/namespaces/demo/secrets?labelSelector=app%3Dmy&limit=500"

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/kube/resource.h"

namespace mysqlop::kube {

struct ApiRequest {
  std::string method;       // GET, POST, PUT, PATCH, DELETE
  std::string path;         // absolute path with query string
  std::string contentType;  // empty when there is no body
  std::string body;
  // For metrics and logs: "get", "list", "watch", "create", "update", "patch", "delete".
  std::string verb;
  // The resource (plural, with "/<subresource>" when one is addressed), for metrics and logs.
  std::string resource;
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int64_t limit = 0;  // 0 = no limit
  std::string continueToken;
  std::string resourceVersion;
  std::string resourceVersionMatch;  // "", "NotOlderThan", "Exact"
  // Watch only:
  int64_t timeoutSeconds = 0;  // 0 = server default
  bool allowWatchBookmarks = false;
  bool sendInitialEvents = false;
};

struct WriteOptions {
  bool dryRun = false;
  std::string fieldManager;
  std::string fieldValidation;  // "", "Ignore", "Warn", "Strict"
};

enum class PatchType { kMerge, kJson, kStrategicMerge, kApply };
std::string_view patchContentType(PatchType t);

struct PatchOptions {
  WriteOptions write;
  bool force = false;  // server-side apply only
};

struct DeleteOptions {
  std::string propagationPolicy;  // "", "Background", "Foreground", "Orphan"
  std::optional<int64_t> gracePeriodSeconds;
  std::string preconditionUid;
  std::string preconditionResourceVersion;
  bool dryRun = false;
  nlohmann::json toJson() const;
};

ApiRequest getRequest(const ResourceType& rt, std::string_view ns, std::string_view name,
                      std::string_view subresource = {});
ApiRequest listRequest(const ResourceType& rt, std::string_view ns, const ListOptions& o);
ApiRequest watchRequest(const ResourceType& rt, std::string_view ns, const ListOptions& o);
// The object's namespace is taken from `ns` (the object's own metadata.namespace is not used
// to route, as with client-go).
ApiRequest createRequest(const ResourceType& rt, std::string_view ns, const nlohmann::json& obj,
                         const WriteOptions& o = {});
// PUT to the object's own name; `subresource` = "status" for UpdateStatus.
ApiRequest updateRequest(const ResourceType& rt, const nlohmann::json& obj,
                         std::string_view subresource = {}, const WriteOptions& o = {});
ApiRequest patchRequest(const ResourceType& rt, std::string_view ns, std::string_view name,
                        PatchType type, const nlohmann::json& patch, const PatchOptions& o = {},
                        std::string_view subresource = {});
ApiRequest deleteRequest(const ResourceType& rt, std::string_view ns, std::string_view name,
                         const DeleteOptions& o = {});

// Query string (without '?') for list/watch options.
std::string listQuery(const ListOptions& o, bool watch);

}  // namespace mysqlop::kube
