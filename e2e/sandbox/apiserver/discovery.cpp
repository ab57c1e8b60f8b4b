// Discovery (aggregated v2 / v2beta1 and legacy), /version and OpenAPI v2 / v3
// (kube-api-emulator-spec §1.2, §1.4, §2.2, §2.3).
#include <fmt/format.h>

#include <functional>

#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {
namespace {

std::string scope(const ResourceInfo& r) { return r.namespaced ? "Namespaced" : "Cluster"; }

struct Sub {
  std::string name;
  std::string group, version, kind;
  std::vector<std::string> verbs;
};

std::vector<Sub> subresources(const ResourceInfo& r, const std::string& version) {
  std::vector<Sub> out;
  if (r.hasStatus) out.push_back({"status", r.group, version, r.kind, {"get", "patch", "update"}});
  if (r.hasScale) out.push_back({"scale", "autoscaling", "v1", "Scale", {"get", "patch", "update"}});
  for (const auto& e : r.extraSubresources) {
    if (e == "token") out.push_back({"token", "authentication.k8s.io", "v1", "TokenRequest", {"create"}});
  }
  return out;
}

Json aggregatedResource(const ResourceInfo& r, const std::string& version) {
  Json j = {{"resource", r.plural},
            {"responseKind", {{"group", r.group}, {"version", version}, {"kind", r.kind}}},
            {"scope", scope(r)},
            {"singularResource", r.singular},
            {"verbs", r.verbs}};
  if (!r.shortNames.empty()) j["shortNames"] = r.shortNames;
  if (!r.categories.empty()) j["categories"] = r.categories;
  Json subs = Json::array();
  for (const auto& s : subresources(r, version)) {
    subs.push_back({{"subresource", s.name},
                    {"responseKind", {{"group", s.group}, {"version", s.version}, {"kind", s.kind}}},
                    {"verbs", s.verbs}});
  }
  if (!subs.empty()) j["subresources"] = subs;
  return j;
}

std::vector<std::string> versionsOf(const std::vector<ResourcePtr>& all, const std::string& group) {
  // Union of served versions, ordered by the first resource's preference.
  std::vector<std::string> out;
  for (const auto& r : all) {
    if (r->group != group) continue;
    for (const auto& v : r->versions) {
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
  }
  return out;
}

std::vector<ResourcePtr> resourcesOf(const std::vector<ResourcePtr>& all, const std::string& group,
                                     const std::string& version) {
  std::vector<ResourcePtr> out;
  for (const auto& r : all) {
    if (r->group == group && r->serves(version)) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const ResourcePtr& a, const ResourcePtr& b) { return a->plural < b->plural; });
  return out;
}

Json groupDiscovery(const std::vector<ResourcePtr>& all, const std::string& group) {
  Json versions = Json::array();
  for (const auto& v : versionsOf(all, group)) {
    Json resources = Json::array();
    for (const auto& r : resourcesOf(all, group, v)) resources.push_back(aggregatedResource(*r, v));
    versions.push_back({{"version", v}, {"freshness", "Current"}, {"resources", resources}});
  }
  Json m = {{"creationTimestamp", nullptr}};
  if (!group.empty()) m["name"] = group;
  return {{"metadata", m}, {"versions", versions}};
}

Json legacyGroup(const std::vector<ResourcePtr>& all, const std::string& group) {
  Json versions = Json::array();
  for (const auto& v : versionsOf(all, group)) {
    versions.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  }
  return {{"name", group}, {"versions", versions}, {"preferredVersion", versions.empty() ? Json() : versions[0]}};
}

Json resourceList(const std::vector<ResourcePtr>& all, const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const auto& r : resourcesOf(all, group, version)) {
    Json j = {{"name", r->plural}, {"singularName", r->singular}, {"namespaced", r->namespaced},
              {"kind", r->kind}, {"verbs", r->verbs}};
    if (!r->shortNames.empty()) j["shortNames"] = r->shortNames;
    if (!r->categories.empty()) j["categories"] = r->categories;
    resources.push_back(j);
    for (const auto& s : subresources(*r, version)) {
      Json sj = {{"name", r->plural + "/" + s.name}, {"singularName", ""}, {"namespaced", r->namespaced},
                 {"kind", s.kind}, {"verbs", s.verbs}};
      if (s.group != r->group) sj["group"] = s.group;
      if (s.version != version) sj["version"] = s.version;
      resources.push_back(sj);
    }
  }
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version}, {"resources", resources}};
}

Reply aggregated(const std::string& version, Json items) {
  Reply r;
  r.body = {{"kind", "APIGroupDiscoveryList"}, {"apiVersion", "apidiscovery.k8s.io/" + version},
            {"metadata", Json::object()}, {"items", std::move(items)}};
  r.contentType = "application/json;g=apidiscovery.k8s.io;v=" + version + ";as=APIGroupDiscoveryList";
  return r;
}

std::string reversedGroup(const std::string& group) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = group.find('.', start);
    parts.push_back(group.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::reverse(parts.begin(), parts.end());
  return fmt::format("{}", fmt::join(parts, "."));
}

Json objectMetaSchema() {
  Json str = {{"type", "string"}};
  Json map = {{"type", "object"}, {"additionalProperties", str}};
  return {{"description", "ObjectMeta is metadata that all persisted resources must have."},
          {"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}, {"description", "Name must be unique within a namespace."}}},
            {"namespace", {{"type", "string"}, {"description", "Namespace defines the space within which each name must be unique."}}},
            {"labels", map},
            {"annotations", map},
            {"uid", str},
            {"resourceVersion", str},
            {"generation", {{"type", "integer"}, {"format", "int64"}}},
            {"creationTimestamp", {{"type", "string"}, {"format", "date-time"}}},
            {"deletionTimestamp", {{"type", "string"}, {"format", "date-time"}}},
            {"finalizers", {{"type", "array"}, {"items", str}}},
            {"ownerReferences", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}};
}

// The OpenAPI v3 document of one CRD group/version: schemas under components and, for each
// kind, the item path whose PATCH advertises fieldValidation and the accepted patch types.
Json crdGroupVersionDoc(const std::vector<ResourcePtr>& rs, const std::string& version) {
  Json paths = Json::object();
  Json schemas = Json::object();
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = objectMetaSchema();
  for (const auto& r : rs) {
    Json gvk = {{"group", r->group}, {"version", version}, {"kind", r->kind}};
    std::string name = reversedGroup(r->group) + "." + version + "." + r->kind;
    Json schema = r->schema(version) ? *r->schema(version) : Json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    if (!schema.contains("properties")) schema["properties"] = Json::object();
    schema["properties"]["metadata"] = {{"$ref", "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}};
    schema["properties"]["apiVersion"] = {{"type", "string"}, {"description", "APIVersion defines the versioned schema of this representation of an object."}};
    schema["properties"]["kind"] = {{"type", "string"}, {"description", "Kind is a string value representing the REST resource this object represents."}};
    schema["x-kubernetes-group-version-kind"] = Json::array({gvk});
    schemas[name] = schema;
    Json ref = {{"$ref", "#/components/schemas/" + name}};
    Json fieldValidation = {{"name", "fieldValidation"}, {"in", "query"}, {"description", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields."},
                            {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
    Json ok = {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", ref}}}}}}}};
    std::string base = "/apis/" + r->group + "/" + version + (r->namespaced ? "/namespaces/{namespace}/" : "/") + r->plural;
    Json patchContent = {{"application/json-patch+json", {{"schema", {{"type", "object"}}}}},
                         {"application/merge-patch+json", {{"schema", {{"type", "object"}}}}},
                         {"application/apply-patch+yaml", {{"schema", {{"type", "object"}}}}}};
    paths[base + "/{name}"] = {
        {"get", {{"operationId", "read" + r->kind}, {"responses", ok}, {"x-kubernetes-action", "get"}, {"x-kubernetes-group-version-kind", gvk}}},
        {"put", {{"operationId", "replace" + r->kind}, {"parameters", {fieldValidation}},
                 {"requestBody", {{"content", {{"application/json", {{"schema", ref}}}}}}},
                 {"responses", ok}, {"x-kubernetes-action", "put"}, {"x-kubernetes-group-version-kind", gvk}}},
        {"patch", {{"operationId", "patch" + r->kind}, {"parameters", {fieldValidation}},
                   {"requestBody", {{"content", patchContent}}},
                   {"responses", ok}, {"x-kubernetes-action", "patch"}, {"x-kubernetes-group-version-kind", gvk}}},
        {"delete", {{"operationId", "delete" + r->kind}, {"responses", ok}, {"x-kubernetes-action", "delete"}, {"x-kubernetes-group-version-kind", gvk}}}};
    paths[base] = {
        {"get", {{"operationId", "list" + r->kind}, {"responses", ok}, {"x-kubernetes-action", "list"}, {"x-kubernetes-group-version-kind", gvk}}},
        {"post", {{"operationId", "create" + r->kind}, {"parameters", {fieldValidation}},
                  {"requestBody", {{"content", {{"application/json", {{"schema", ref}}}}}}},
                  {"responses", ok}, {"x-kubernetes-action", "post"}, {"x-kubernetes-group-version-kind", gvk}}}};
  }
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes CRD Swagger"}, {"version", "v0.1.0"}}},
          {"paths", paths},
          {"components", {{"schemas", schemas}}}};
}

}  // namespace

ApiResult<Reply> ApiServer::Impl::discovery(Call& c) {
  auto all = registry.all();
  std::vector<std::string> segs;
  {
    std::string p = c.req.path;
    size_t i = 0;
    while (i < p.size()) {
      while (i < p.size() && p[i] == '/') ++i;
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      if (j > i) segs.push_back(p.substr(i, j - i));
      i = j;
    }
  }
  if (segs.size() == 1 && segs[0] == "api") {
    if (!c.accept.discovery.empty()) return aggregated(c.accept.discovery, Json::array({groupDiscovery(all, "")}));
    Reply r;
    r.body = {{"kind", "APIVersions"}, {"versions", {"v1"}},
              {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"},
                                               {"serverAddress", fmt::format("{}:{}", opts.bindAddress, httpsPort)}}}}};
    return r;
  }
  if (segs.size() == 1 && segs[0] == "apis") {
    if (!c.accept.discovery.empty()) {
      Json items = Json::array();
      for (const auto& g : registry.groups()) {
        if (!g.empty()) items.push_back(groupDiscovery(all, g));
      }
      return aggregated(c.accept.discovery, items);
    }
    Json groups = Json::array();
    for (const auto& g : registry.groups()) {
      if (!g.empty()) groups.push_back(legacyGroup(all, g));
    }
    Reply r;
    r.body = {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
    return r;
  }
  if (segs.size() == 2 && segs[0] == "api" && segs[1] == "v1") {
    Reply r;
    r.body = resourceList(all, "", "v1");
    return r;
  }
  if (segs.size() == 2 && segs[0] == "apis") {
    if (versionsOf(all, segs[1]).empty()) return errors::pathNotFound();
    Reply r;
    r.body = legacyGroup(all, segs[1]);
    r.body["kind"] = "APIGroup";
    r.body["apiVersion"] = "v1";
    return r;
  }
  if (segs.size() == 3 && segs[0] == "apis") {
    if (resourcesOf(all, segs[1], segs[2]).empty()) return errors::pathNotFound();
    Reply r;
    r.body = resourceList(all, segs[1], segs[2]);
    return r;
  }
  return errors::pathNotFound();
}

ApiResult<Reply> ApiServer::Impl::version(Call&) {
  Reply r;
  r.body = {{"major", "1"},
            {"minor", opts.minorVersion},
            {"gitVersion", "v1." + opts.minorVersion + ".0"},
            {"gitCommit", "0000000000000000000000000000000000000000"},
            {"gitTreeState", "clean"},
            {"buildDate", "2026-01-01T00:00:00Z"},
            {"goVersion", "go1.24.0"},
            {"compiler", "gc"},
            {"platform", "linux/amd64"}};
  return r;
}

ApiResult<Reply> ApiServer::Impl::openapiV2(Call& c) {
  Reply r;
  std::string accept = c.req.get_header_value("Accept");
  if (accept.find("protobuf") == std::string::npos && accept.find("json") != std::string::npos) {
    r.body = {{"swagger", "2.0"}, {"info", {{"title", "Kubernetes"}, {"version", "v1." + opts.minorVersion + ".0"}}},
              {"paths", Json::object()}, {"definitions", Json::object()}};
    return r;
  }
  // An empty protobuf message is a valid, empty OpenAPI v2 document: kubectl then leaves field
  // validation to the server (fieldValidation=Strict). Note: no '@' in the media type.
  r.contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
  r.body = nullptr;
  return r;
}

ApiResult<Reply> ApiServer::Impl::openapiV3(Call& c) {
  auto all = registry.all();
  // CRD group/versions only: built-in kinds are known to kubectl's own scheme.
  std::map<std::string, std::vector<ResourcePtr>> byGv;
  for (const auto& r : all) {
    if (r->builtin) continue;
    for (const auto& v : r->versions) byGv["apis/" + r->group + "/" + v].push_back(r);
  }
  auto docFor = [&](const std::string& key) {
    const auto& rs = byGv.at(key);
    std::string rest = key.substr(5);
    auto slash = rest.rfind('/');
    return crdGroupVersionDoc(rs, rest.substr(slash + 1));
  };
  std::string path = c.req.path;
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    Json paths = Json::object();
    for (const auto& [key, rs] : byGv) {
      size_t h = std::hash<std::string>{}(docFor(key).dump());
      paths[key] = {{"serverRelativeURL", fmt::format("/openapi/v3/{}?hash={:016X}", key, h)}};
    }
    Reply r;
    r.body = {{"paths", paths}};
    return r;
  }
  std::string key = path.substr(std::string("/openapi/v3/").size());
  if (!byGv.count(key)) return errors::pathNotFound();
  Reply r;
  r.body = docFor(key);
  return r;
}

}  // namespace mysqlop::sandbox
