#pragma once
// Splits a request path into what it addresses, as kube-apiserver's RequestInfoFactory does:
// API group and version, namespace, resource, name, subresource, and the verb (get, list,
// watch, create, update, patch, delete, deletecollection). Pure; any thread.
//
//   parseRequestInfo("GET", "/api/v1/namespaces/demo/secrets", watch=false)
//     → {isResource, group "", version "v1", namespace "demo", resource "secrets", verb "list"}

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mysqlop::sandbox {

struct RequestInfo {
  bool isResource = false;  // false: discovery, /version, /openapi, /healthz, ...
  std::string path;
  std::string verb;  // resource verb, or the lower-case HTTP method for non-resource paths
  std::string apiPrefix;  // "api" or "apis"
  std::string group;
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string name;
  std::string subresource;
  std::vector<std::string> parts;  // path segments after the group/version
};

// `watch` = the request had watch=true|1.
RequestInfo parseRequestInfo(const std::string& method, const std::string& path, bool watch);

// A boolean query parameter as kube-apiserver reads it (Go's strconv.ParseBool): 1, t, T, TRUE,
// true, True and 0, f, F, FALSE, false, False; anything else is not a bool (nullopt).
std::optional<bool> parseBoolParam(std::string_view v);

}  // namespace mysqlop::sandbox
