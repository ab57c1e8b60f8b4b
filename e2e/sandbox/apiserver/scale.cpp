// The scale subresource (`kubectl scale`, HorizontalPodAutoscalers): an autoscaling/v1 Scale view
// of a workload's spec.replicas, status.replicas and selector. GET reads it; PUT and the patch
// types change spec.replicas of the workload itself (its generation moves, as for any spec change).
#include <fmt/format.h>

#include "common/kube/label_selector.h"
#include "common/kube/patch.h"
#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {

namespace {

// "app=web,tier in (a,b)": the selector as kube-apiserver prints it in a Scale's status.
std::string selectorString(const Json& workload) {
  const Json sel = workload.value("spec", Json::object()).value("selector", Json::object());
  auto parsed = kube::LabelSelector::fromJson(sel);
  return parsed ? parsed->toString() : "";
}

Json scaleOf(const Json& workload) {
  const Json& m = workload.at("metadata");
  Json meta = Json::object();
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (m.contains(k)) meta[k] = m[k];
  }
  const Json spec = workload.value("spec", Json::object());
  const Json status = workload.value("status", Json::object());
  return {{"apiVersion", "autoscaling/v1"},
          {"kind", "Scale"},
          {"metadata", meta},
          {"spec", {{"replicas", spec.value("replicas", int64_t{1})}}},
          {"status", {{"replicas", status.value("replicas", int64_t{0})}, {"selector", selectorString(workload)}}}};
}

}  // namespace

ApiResult<Reply> ApiServer::Impl::scaleSubresource(Call& c, const ResourceInfo& r) {
  const std::string ns = r.namespaced ? c.info.namespace_ : "";
  auto tx = store.begin();
  ObjPtr current = tx.get(r.key(), ns, c.info.name);
  if (!current) return errors::notFound(r, c.info.name);
  const Json scale = scaleOf(*current);
  Reply rep;
  if (c.info.verb == "get") {
    rep.body = scale;
    return rep;
  }
  Json wanted;
  if (c.info.verb == "update") {
    wanted = Json::parse(c.req.body, nullptr, false);
    if (wanted.is_discarded() || !wanted.is_object()) return errors::badRequest("the body is not a JSON Scale object");
  } else if (c.info.verb == "patch") {
    const std::string ct = c.req.get_header_value("Content-Type");
    const std::string type = ct.substr(0, ct.find(';'));
    Json patch = Json::parse(c.req.body, nullptr, false);
    if (patch.is_discarded()) return errors::badRequest("the patch is not valid JSON");
    if (type == "application/json-patch+json") {
      auto p = kube::applyJsonPatch(scale, patch);
      if (!p) return errors::invalid("Scale", "autoscaling", c.info.name, {{"FieldValueInvalid", p.error().message, ""}});
      wanted = std::move(*p);
    } else if (type == "application/merge-patch+json" || type == "application/strategic-merge-patch+json") {
      // A Scale has no lists, so a strategic merge patch is a merge patch.
      if (!patch.is_object()) return errors::badRequest("a merge patch must be a JSON object");
      wanted = kube::applyMergePatch(scale, patch);
    } else {
      return errors::unsupportedMediaType(ct, {"application/json-patch+json", "application/merge-patch+json",
                                               "application/strategic-merge-patch+json"});
    }
  } else {
    return errors::methodNotSupported(c.info.verb, r);
  }
  const Json replicas = wanted.is_object() ? wanted.value("spec", Json::object()).value("replicas", Json()) : Json();
  if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0) {
    return errors::invalid("Scale", "autoscaling", c.info.name,
                           {errors::invalidValue("spec.replicas", replicas, "must be greater than or equal to 0")});
  }
  Json next = *current;
  next["spec"]["replicas"] = replicas;
  // A resourceVersion in the Scale is a precondition on the workload.
  const std::string rv = wanted.value("metadata", Json::object()).value("resourceVersion", "");
  if (!rv.empty()) next["metadata"]["resourceVersion"] = rv;
  auto out = commitUpdate(c, r, tx, current, std::move(next), "", false);
  if (!out) return out.error();
  rep.body = scaleOf(*out);
  return rep;
}

}  // namespace mysqlop::sandbox
