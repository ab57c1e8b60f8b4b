#include "common/kube/request.h"

#include "common/kube/object.h"

namespace mysqlop::kube {
namespace {

class Query {
 public:
  Query& add(std::string_view k, std::string_view v) {
    if (v.empty()) return *this;
    q_ += q_.empty() ? "" : "&";
    q_ += k;
    q_ += '=';
    q_ += escapeQueryValue(v);
    return *this;
  }
  Query& add(std::string_view k, int64_t v) {
    return v ? add(k, std::to_string(v)) : *this;
  }
  Query& flag(std::string_view k, bool on) { return on ? add(k, "true") : *this; }
  Query& write(const WriteOptions& o) {
    if (o.dryRun) add("dryRun", "All");
    add("fieldManager", o.fieldManager);
    return add("fieldValidation", o.fieldValidation);
  }
  std::string with(std::string path) const { return q_.empty() ? path : path + "?" + q_; }
  const std::string& str() const { return q_; }

 private:
  std::string q_;
};

std::string label(const ResourceType& rt, std::string_view subresource) {
  std::string r = rt.qualifiedResource();
  if (!subresource.empty()) {
    r += '/';
    r += subresource;
  }
  return r;
}

}  // namespace

std::string_view patchContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

nlohmann::json DeleteOptions::toJson() const {
  nlohmann::json j = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!propagationPolicy.empty()) j["propagationPolicy"] = propagationPolicy;
  if (gracePeriodSeconds) j["gracePeriodSeconds"] = *gracePeriodSeconds;
  if (!preconditionUid.empty()) j["preconditions"]["uid"] = preconditionUid;
  if (!preconditionResourceVersion.empty()) {
    j["preconditions"]["resourceVersion"] = preconditionResourceVersion;
  }
  if (dryRun) j["dryRun"] = nlohmann::json::array({"All"});
  return j;
}

std::string listQuery(const ListOptions& o, bool watch) {
  Query q;
  if (watch) q.add("watch", "true");
  q.add("labelSelector", o.labelSelector)
      .add("fieldSelector", o.fieldSelector)
      .add("limit", watch ? 0 : o.limit)
      .add("continue", watch ? "" : o.continueToken)
      .add("resourceVersion", o.resourceVersion)
      .add("resourceVersionMatch", o.resourceVersionMatch);
  if (watch) {
    q.add("timeoutSeconds", o.timeoutSeconds)
        .flag("allowWatchBookmarks", o.allowWatchBookmarks)
        .flag("sendInitialEvents", o.sendInitialEvents);
  }
  return q.str();
}

ApiRequest getRequest(const ResourceType& rt, std::string_view ns, std::string_view name,
                      std::string_view subresource) {
  return {"GET", resourcePath(rt, ns, name, subresource), "", "", "get", label(rt, subresource)};
}

ApiRequest listRequest(const ResourceType& rt, std::string_view ns, const ListOptions& o) {
  std::string q = listQuery(o, false);
  std::string p = resourcePath(rt, ns);
  return {"GET", q.empty() ? p : p + "?" + q, "", "", "list", label(rt, {})};
}

ApiRequest watchRequest(const ResourceType& rt, std::string_view ns, const ListOptions& o) {
  return {"GET", resourcePath(rt, ns) + "?" + listQuery(o, true), "", "", "watch", label(rt, {})};
}

ApiRequest createRequest(const ResourceType& rt, std::string_view ns, const nlohmann::json& obj,
                         const WriteOptions& o) {
  return {"POST", Query().write(o).with(resourcePath(rt, ns)), "application/json", obj.dump(),
          "create", label(rt, {})};
}

ApiRequest updateRequest(const ResourceType& rt, const nlohmann::json& obj,
                         std::string_view subresource, const WriteOptions& o) {
  return {"PUT", Query().write(o).with(resourcePath(rt, namespaceOf(obj), name(obj), subresource)),
          "application/json", obj.dump(), "update", label(rt, subresource)};
}

ApiRequest patchRequest(const ResourceType& rt, std::string_view ns, std::string_view name,
                        PatchType type, const nlohmann::json& patch, const PatchOptions& o,
                        std::string_view subresource) {
  Query q;
  q.write(o.write).flag("force", o.force && type == PatchType::kApply);
  return {"PATCH", q.with(resourcePath(rt, ns, name, subresource)),
          std::string(patchContentType(type)), patch.dump(), "patch", label(rt, subresource)};
}

ApiRequest deleteRequest(const ResourceType& rt, std::string_view ns, std::string_view name,
                         const DeleteOptions& o) {
  return {"DELETE", resourcePath(rt, ns, name), "application/json", o.toJson().dump(), "delete",
          label(rt, {})};
}

}  // namespace mysqlop::kube
