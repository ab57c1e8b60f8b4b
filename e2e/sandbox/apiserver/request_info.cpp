#include "e2e/sandbox/apiserver/request_info.h"

#include <algorithm>

namespace mysqlop::sandbox {
namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

}  // namespace

RequestInfo parseRequestInfo(const std::string& method, const std::string& path, bool watch) {
  RequestInfo info;
  info.path = path;
  info.verb = lower(method);
  auto segs = split(path);
  if (segs.empty() || (segs[0] != "api" && segs[0] != "apis")) return info;
  info.apiPrefix = segs[0];
  size_t i = 1;
  if (info.apiPrefix == "apis") {
    if (segs.size() < 3) return info;  // /apis, /apis/<group>: discovery
    info.group = segs[1];
    info.version = segs[2];
    i = 3;
  } else {
    if (segs.size() < 2) return info;  // /api
    info.version = segs[1];
    i = 2;
  }
  if (i >= segs.size()) return info;  // /api/v1, /apis/g/v: discovery
  info.isResource = true;
  info.parts.assign(segs.begin() + static_cast<long>(i), segs.end());
  auto& p = info.parts;
  // namespaces/<ns>/<resource>[/<name>[/<sub>]]; namespaces/<ns>[/<sub>] is the Namespace.
  if (p[0] == "namespaces" && p.size() >= 2) {
    info.namespace_ = p[1];
    if (p.size() >= 3) {
      info.resource = p[2];
      if (p.size() >= 4) info.name = p[3];
      if (p.size() >= 5) info.subresource = p[4];
    } else {
      info.resource = "namespaces";
      info.name = p[1];
    }
  } else {
    info.resource = p[0];
    if (p.size() >= 2) info.name = p[1];
    if (p.size() >= 3) info.subresource = p[2];
  }
  // namespaces/<name>/status and /finalize are subresources of the Namespace itself.
  if (p[0] == "namespaces" && p.size() == 3 && (p[2] == "status" || p[2] == "finalize")) {
    info.resource = "namespaces";
    info.name = p[1];
    info.subresource = p[2];
  }
  if (method == "GET" || method == "HEAD") {
    info.verb = info.name.empty() ? (watch ? "watch" : "list") : "get";
    if (!info.name.empty() && watch) info.verb = "watch";
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  }
  // A pod's streaming subresources are `create` whatever the method: kubectl opens exec and
  // port-forward with GET over WebSocket or POST over SPDY, and RBAC asks for create on both
  // (kube-apiserver ≥ 1.31, AuthorizePodWebsocketUpgradeCreatePermission).
  if (info.resource == "pods" && (info.subresource == "exec" || info.subresource == "attach" || info.subresource == "portforward")) {
    info.verb = "create";
  }
  return info;
}

std::optional<bool> parseBoolParam(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False") return false;
  return std::nullopt;
}

}  // namespace mysqlop::sandbox
