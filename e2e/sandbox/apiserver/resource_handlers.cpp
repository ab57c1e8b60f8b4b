// The REST verbs on stored kinds: get, list (selectors, pagination, resourceVersion
// semantics), watch, create, update, patch (merge, JSON, strategic, apply), delete and
// deletecollection (kube-api-emulator-spec §2.4–§2.11).
#include <fmt/format.h>

#include <algorithm>

#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/kube/field_selector.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "common/kube/patch.h"
#include "common/kube/resource.h"
#include "e2e/sandbox/apiserver/protobuf_codec.h"
#include "e2e/sandbox/apiserver/server_impl.h"
#include "e2e/sandbox/apiserver/strategic_merge.h"
#include "e2e/sandbox/apiserver/yaml_json.h"

namespace mysqlop::sandbox {
namespace {

// core/v1 and events.k8s.io/v1 Events are two views of one store (the core one).
bool isEventsV1(const ResourceInfo& r) { return r.group == "events.k8s.io" && r.plural == "events"; }
std::string storageKey(const ResourceInfo& r) { return isEventsV1(r) ? "/events" : r.key(); }

// The field correspondence between the two views (core name, events.k8s.io name).
constexpr std::pair<const char*, const char*> kEventFields[] = {
    {"involvedObject", "regarding"},  {"related", "related"},
    {"message", "note"},              {"reason", "reason"},
    {"type", "type"},                 {"action", "action"},
    {"eventTime", "eventTime"},       {"series", "series"},
    {"reportingComponent", "reportingController"},
    {"reportingInstance", "reportingInstance"},
    {"count", "deprecatedCount"},     {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"source", "deprecatedSource"}};

// Copies an Event from one view to the other (`toV1` picks the direction).
Json convertEvent(const Json& e, bool toV1) {
  Json out = {{"apiVersion", toV1 ? "events.k8s.io/v1" : "v1"}, {"kind", "Event"},
              {"metadata", e.value("metadata", Json::object())}};
  for (const auto& [core, v1] : kEventFields) {
    const char* from = toV1 ? core : v1;
    const char* to = toV1 ? v1 : core;
    if (e.contains(from) && !e[from].is_null()) out[to] = e[from];
  }
  if (!toV1 && !out.contains("involvedObject")) out["involvedObject"] = Json::object();
  return out;
}

Json coreEventToV1(const Json& e) { return convertEvent(e, true); }
Json v1EventToCore(const Json& e) { return convertEvent(e, false); }

bool fieldSupported(const ResourceInfo& r, const std::string& f) {
  if (f == "metadata.name" || f == "metadata.namespace") return true;
  if (r.plural == "secrets" && r.group.empty()) return f == "type";
  if (r.plural == "events") {
    return f.rfind("involvedObject.", 0) == 0 || f.rfind("regarding.", 0) == 0 || f == "reason" ||
           f == "type" || f == "source" || f == "reportingComponent" || f == "reportingController";
  }
  if (r.plural == "pods" && r.group.empty()) {
    return f == "status.phase" || f == "spec.nodeName" || f == "spec.restartPolicy" ||
           f == "spec.schedulerName" || f == "spec.serviceAccountName" || f == "status.podIP";
  }
  if (r.plural == "namespaces") return f == "status.phase";
  return false;
}

struct Filter {
  kube::LabelSelector labels;
  kube::FieldSelector fields;
  std::string ns;
  std::string name;  // a watch on one object's path
  bool matches(const Json& obj) const {
    if (!ns.empty() && meta(obj, "namespace") != ns) return false;
    if (!name.empty() && meta(obj, "name") != name) return false;
    return labels.matches(kube::labels(obj)) && fields.matches(obj);
  }
};

ApiResult<Filter> makeFilter(const Call& c, const ResourceInfo& r) {
  Filter f;
  f.ns = r.namespaced ? c.info.namespace_ : "";
  if (auto ls = kube::LabelSelector::parse(c.param("labelSelector")); ls) {
    f.labels = *ls;
  } else {
    return errors::badRequest(fmt::format("unable to parse requirement: {}", ls.error().message));
  }
  auto fs = kube::FieldSelector::parse(c.param("fieldSelector"));
  if (!fs) return errors::badRequest(fs.error().message);
  for (const auto& t : fs->terms()) {
    if (!fieldSupported(r, t.field)) {
      return errors::badRequest(fmt::format("field label not supported: {}", t.field));
    }
  }
  f.fields = *fs;
  return f;
}

// Continue tokens: base64 of {"rv": snapshot RV, "start": last key returned}.
std::string encodeContinue(int64_t rv, const std::string& lastKey) {
  return kube::base64Encode(Json{{"rv", rv}, {"start", lastKey}}.dump());
}

struct ContinueToken {
  int64_t rv = 0;
  std::string start;
};

ApiResult<ContinueToken> decodeContinue(const std::string& token) {
  auto raw = kube::base64Decode(token);
  if (!raw) return errors::badRequest("invalid continue token");
  auto j = Json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.contains("rv") || !j["rv"].is_number_integer()) {
    return errors::badRequest("invalid continue token");
  }
  return ContinueToken{j["rv"].get<int64_t>(), j.value("start", "")};
}

std::string keyOf(const Json& obj) { return meta(obj, "namespace") + "/" + meta(obj, "name"); }

int64_t parseRv(const std::string& s) {
  if (s.empty()) return -1;
  int64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return -2;
    v = v * 10 + (ch - '0');
  }
  return v;
}

// A write's body with everything but the data: for generation and no-op comparisons.
Json withoutMeta(const Json& obj, bool dropStatus) {
  Json o = obj;
  o.erase("metadata");
  o.erase("apiVersion");
  o.erase("kind");
  if (dropStatus) o.erase("status");
  return o;
}

Json forNoopCompare(const Json& obj) {
  Json o = obj;
  if (o.contains("metadata")) {
    o["metadata"].erase("resourceVersion");
    o["metadata"].erase("managedFields");
  }
  o.erase("apiVersion");
  return o;
}

}  // namespace

Json ApiServer::Impl::present(const View& v, const ResourceInfo& r, const Json& stored) const {
  if (isEventsV1(r)) return coreEventToV1(stored);
  Json out = stored;
  out["apiVersion"] = r.apiVersion(v.version.empty() ? r.storageVersion : v.version);
  out["kind"] = r.kind;
  return out;
}

ApiResult<Json> ApiServer::Impl::parseBody(Call& c, const std::string& kind) {
  std::string ct = c.req.get_header_value("Content-Type");
  std::string base = ct.substr(0, ct.find(';'));
  const std::vector<std::string> accepted = {"application/json", "application/yaml",
                                             "application/vnd.kubernetes.protobuf"};
  if (base == "application/vnd.kubernetes.protobuf") {
    auto decoded = decodeProtobufObject(c.req.body, kind);
    if (!decoded) return errors::unsupportedMediaType(ct, accepted);
    return std::move(*decoded);
  }
  if (base == "application/yaml" || base == "application/apply-patch+yaml") {
    auto y = parseYamlOrJson(c.req.body);
    if (!y) return errors::badRequest(y.error().message);
    return std::move(*y);
  }
  if (base.empty() || base == "application/json" || base == "*/*") {
    Json obj = Json::parse(c.req.body.empty() ? "{}" : c.req.body, nullptr, false);
    if (obj.is_discarded()) {
      return errors::badRequest("couldn't get version/kind; json parse error: invalid JSON body");
    }
    return obj;
  }
  return errors::unsupportedMediaType(ct, accepted);
}

ApiResult<Json> ApiServer::Impl::decodeBody(Call& c, const ResourceInfo& r) {
  auto parsed = parseBody(c, r.kind);
  if (!parsed) return parsed.error();
  Json obj = std::move(*parsed);
  if (!obj.is_object()) return errors::badRequest("the request body must be a JSON object");
  if (isEventsV1(r)) {
    obj = v1EventToCore(obj);
  }
  std::string want = isEventsV1(r) ? "v1" : r.apiVersion(c.info.version);
  if (obj.contains("apiVersion") && obj["apiVersion"].is_string() &&
      !obj["apiVersion"].get_ref<const std::string&>().empty() && obj["apiVersion"] != want) {
    // Another served version of the same group is fine (conversion None).
    auto gv = kube::GroupVersion::parse(obj["apiVersion"].get<std::string>());
    if (gv.group != r.group || !r.serves(gv.version)) {
      return errors::badRequest(fmt::format("the API version in the data ({}) does not match the expected API version ({})",
                                            obj["apiVersion"].get<std::string>(), want));
    }
  }
  if (obj.contains("kind") && obj["kind"].is_string() && !obj["kind"].get_ref<const std::string&>().empty() &&
      obj["kind"] != r.kind) {
    return errors::badRequest(fmt::format("the kind in the data ({}) does not match the expected kind ({})",
                                          obj["kind"].get<std::string>(), r.kind));
  }
  obj["apiVersion"] = isEventsV1(r) ? "v1" : r.apiVersion(r.storageVersion);
  obj["kind"] = r.kind;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  return obj;
}

ApiResult<Reply> ApiServer::Impl::resource(Call& c) {
  const RequestInfo& ri = c.info;
  ResourcePtr r = registry.find(ri.group, ri.version, ri.resource);
  if (!r) return errors::pathNotFound();
  if (r->createOnly) {
    if (ri.verb != "create") return errors::methodNotSupported(ri.verb, *r);
    return accessReview(c, *r);
  }
  if (!r->namespaced && !ri.namespace_.empty() && ri.resource != "namespaces") return errors::pathNotFound();
  if (!ri.subresource.empty()) {
    const std::string& s = ri.subresource;
    if (s == "token" && ri.resource == "serviceaccounts" && ri.verb == "create") return tokenRequest(c);
    if (s == "log" && ri.resource == "pods") {
      if (ri.verb != "get") return errors::methodNotSupported(ri.verb, *r);
      return podLog(c);
    }
    if (s == "exec" && ri.resource == "pods") return podExec(c);
    if (s == "portforward" && ri.resource == "pods") return podPortForward(c);
    if (s == "scale" && r->hasScale && r->builtin) return scaleSubresource(c, *r);  // CRDs: not yet
    bool statusOk = s == "status" && r->hasStatus;
    bool finalize = s == "finalize" && ri.resource == "namespaces";
    if (!statusOk && !finalize) return errors::pathNotFound();
    if (ri.verb == "get") return getObject(c, *r);
    if (ri.verb == "update") return updateObject(c, *r);
    if (ri.verb == "patch") return patchObject(c, *r);
    return errors::methodNotSupported(ri.verb, *r);
  }
  if (r->namespaced && ri.namespace_.empty() && (ri.verb == "create" || !ri.name.empty())) {
    return errors::pathNotFound();
  }
  auto allowed = [&](const std::string& v) {
    return std::find(r->verbs.begin(), r->verbs.end(), v) != r->verbs.end();
  };
  if (!allowed(ri.verb)) return errors::methodNotSupported(ri.verb, *r);
  if (ri.verb == "get") return getObject(c, *r);
  if (ri.verb == "list") return listObjects(c, *r);
  if (ri.verb == "watch") return watchObjects(c, *r);
  if (ri.verb == "create") return createObject(c, *r);
  if (ri.verb == "update") return updateObject(c, *r);
  if (ri.verb == "patch") return patchObject(c, *r);
  if (ri.verb == "delete") return deleteObject(c, *r);
  if (ri.verb == "deletecollection") return deleteCollection(c, *r);
  return errors::methodNotSupported(ri.verb, *r);
}

ApiResult<Reply> ApiServer::Impl::getObject(Call& c, const ResourceInfo& r) {
  ObjPtr obj;
  {
    auto tx = store.begin();
    obj = tx.get(storageKey(r), r.namespaced ? c.info.namespace_ : "", c.info.name);
  }
  if (!obj) return errors::notFound(r, c.info.name);
  Reply rep;
  if (c.accept.table) {
    rep.body = toTable(c.view(), r, {obj}, Json{{"resourceVersion", meta(*obj, "resourceVersion")}}, true);
    rep.contentType = "application/json;as=Table;v=" + c.accept.tableVersion + ";g=meta.k8s.io";
  } else {
    rep.body = present(c.view(), r, *obj);
  }
  return rep;
}

ApiResult<Reply> ApiServer::Impl::listObjects(Call& c, const ResourceInfo& r) {
  auto filter = makeFilter(c, r);
  if (!filter) return filter.error();
  std::string ns = r.namespaced ? c.info.namespace_ : "";
  std::string rvParam = c.param("resourceVersion");
  std::string match = c.param("resourceVersionMatch");
  int64_t limit = 0;
  if (std::string l = c.param("limit"); !l.empty()) limit = std::max<int64_t>(0, parseRv(l));
  std::string cont = c.param("continue");

  std::vector<ObjPtr> objs;
  int64_t snapRv = 0;
  std::string start;
  if (!cont.empty()) {
    auto tok = decodeContinue(cont);
    if (!tok) return tok.error();
    auto at = store.listAt(storageKey(r), ns, tok->rv);
    if (!at) {
      return errors::expired(
          "The provided continue parameter is too old to display a consistent list result. You can "
          "start a new list without the continue parameter, or use the continue token in this "
          "response to retrieve the remainder of the results. Continuing with the provided token "
          "results in an inconsistent list - objects that were created, modified, or deleted "
          "between the time the first chunk was returned and now may show up in the list.");
    }
    objs = std::move(*at);
    snapRv = tok->rv;
    start = tok->start;
  } else {
    int64_t want = parseRv(rvParam);
    if (want == -2) return errors::badRequest(fmt::format("invalid resource version: {}", rvParam));
    if (match == "Exact" && want > 0) {
      auto at = store.listAt(storageKey(r), ns, want);
      if (!at) {
        if (at.error().code == core::ErrorCode::kTimeout) return errors::timeout(at.error().message);
        return errors::expired(at.error().message);
      }
      objs = std::move(*at);
      snapRv = want;
    } else {
      if (want > 0 && want > store.currentRv()) {
        // The real server waits up to a few seconds for the store to catch up, then 504.
        for (int i = 0; i < 30 && want > store.currentRv(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (want > store.currentRv()) {
          return errors::timeout(fmt::format("Too large resource version: {}, current: {}", want, store.currentRv()));
        }
      }
      auto tx = store.begin();
      objs = tx.list(storageKey(r), ns);
      snapRv = tx.rv();
    }
  }

  std::vector<ObjPtr> selected;
  for (auto& o : objs) {
    if (!start.empty() && keyOf(*o) <= start) continue;
    if (filter->matches(*o)) selected.push_back(o);
  }
  std::string next;
  std::optional<int64_t> remaining;
  if (limit > 0 && static_cast<int64_t>(selected.size()) > limit) {
    remaining = static_cast<int64_t>(selected.size()) - limit;
    selected.resize(static_cast<size_t>(limit));
    next = encodeContinue(snapRv, keyOf(*selected.back()));
  }
  Reply rep;
  if (c.accept.table) {
    Json lm = {{"resourceVersion", std::to_string(snapRv)}};
    if (!next.empty()) lm["continue"] = next;
    if (remaining) lm["remainingItemCount"] = *remaining;
    rep.body = toTable(c.view(), r, selected, lm, true);
    rep.contentType = "application/json;as=Table;v=" + c.accept.tableVersion + ";g=meta.k8s.io";
    return rep;
  }
  std::vector<Json> items;
  items.reserve(selected.size());
  for (const auto& o : selected) {
    Json item = present(c.view(), r, *o);
    items.push_back(std::move(item));
  }
  rep.body = asList(r, c.info.version, std::move(items), std::to_string(snapRv), next, remaining);
  if (isEventsV1(r)) rep.body["apiVersion"] = "events.k8s.io/v1";
  return rep;
}

ApiResult<Reply> ApiServer::Impl::createObject(Call& c, const ResourceInfo& r) {
  auto body = decodeBody(c, r);
  if (!body) return body.error();
  Json obj = std::move(*body);
  Json& md = obj["metadata"];
  if (r.namespaced) {
    std::string bodyNs = md.value("namespace", "");
    if (!bodyNs.empty() && bodyNs != c.info.namespace_) {
      return errors::badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    md["namespace"] = c.info.namespace_;
  } else {
    md.erase("namespace");
  }
  if (md.value("name", "").empty() && !md.value("generateName", "").empty()) {
    md["name"] = md["generateName"].get<std::string>() + randomSuffix(5);
  }
  auto tx = store.begin();
  if (auto st = admitCreate(c, r, tx, obj); !st) return st.error();
  std::string name = meta(obj, "name");
  if (tx.get(storageKey(r), r.namespaced ? c.info.namespace_ : "", name)) return errors::alreadyExists(r, name);
  for (const char* k : {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}) {
    obj["metadata"].erase(k);
  }
  ApplyContext actx{r.schema(r.storageVersion), r.kind, r.builtin};
  obj["metadata"].erase("managedFields");
  recordUpdate(nullptr, obj, {c.fieldManager(), "Update", ""}, r.apiVersion(c.info.version),
               core::formatTime(clock.now()), actx);
  return insertNew(c, r, tx, std::move(obj));
}

ApiResult<Reply> ApiServer::Impl::insertNew(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx, Json obj) {
  obj["metadata"]["uid"] = newUid();
  obj["metadata"]["creationTimestamp"] = core::formatTime(clock.now());
  if (r.tracksGeneration) obj["metadata"]["generation"] = 1;
  else obj["metadata"].erase("generation");
  Reply rep;
  rep.code = 201;
  if (c.dryRun()) {
    rep.body = present(c.view(), r, obj);
    return rep;
  }
  ObjPtr stored = tx.put(storageKey(r), std::move(obj));
  afterWrite(r, tx, nullptr, stored.get());
  rep.body = present(c.view(), r, *stored);
  return rep;
}

ApiResult<Json> ApiServer::Impl::commitUpdate(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx,
                                              const ObjPtr& current, Json next,
                                              const std::string& subresource, bool isApply) {
  const Json& cur = *current;
  std::string name = meta(cur, "name");
  std::string curRv = meta(cur, "resourceVersion");
  std::string nextRv = meta(next, "resourceVersion");
  if (!nextRv.empty() && nextRv != curRv) return errors::conflict(r, name);
  if (nextRv.empty() && c.info.verb == "update" && !r.builtin) {
    return errors::invalid(r.kind, r.group, name,
                           {errors::invalidValue("metadata.resourceVersion", "0x0",
                                                 "must be specified for an update")});
  }
  if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = Json::object();
  if (subresource == "status") {
    // Only .status comes from the request.
    Json merged = cur;
    if (next.contains("status")) merged["status"] = next["status"];
    else merged.erase("status");
    if (isApply && next["metadata"].contains("managedFields")) {
      merged["metadata"]["managedFields"] = next["metadata"]["managedFields"];
    }
    next = std::move(merged);
  } else if (subresource == "finalize") {
    Json merged = cur;
    if (next.contains("spec")) merged["spec"] = next["spec"];
    next = std::move(merged);
  } else {
    if (r.hasStatus) {
      if (cur.contains("status")) next["status"] = cur["status"];
      else next.erase("status");
    }
    // Server-owned metadata is kept from the stored object.
    for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "generation", "name", "namespace"}) {
      if (cur["metadata"].contains(k)) next["metadata"][k] = cur["metadata"][k];
      else next["metadata"].erase(k);
    }
    if (!isApply) next["metadata"].erase("managedFields");
    if (!isApply && cur["metadata"].contains("managedFields")) {
      next["metadata"]["managedFields"] = cur["metadata"]["managedFields"];
    }
  }
  next["apiVersion"] = cur.value("apiVersion", r.apiVersion(r.storageVersion));
  next["kind"] = r.kind;

  if (kube::isBeingDeleted(cur)) {
    std::vector<std::string> added;
    for (const auto& f : next["metadata"].value("finalizers", Json::array())) {
      if (!kube::hasFinalizer(cur, f.get<std::string>())) added.push_back(f.get<std::string>());
    }
    if (!added.empty()) {
      std::vector<std::string> quoted;
      for (const auto& a : added) quoted.push_back("\"" + a + "\"");
      return errors::invalid(r.kind, r.group, name,
                             {errors::forbiddenField("metadata.finalizers",
                                                     fmt::format("no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                                                                 fmt::join(quoted, ", ")))});
    }
  }
  if (auto st = admitUpdate(c, r, tx, cur, next, subresource); !st) return st.error();

  bool specChanged = withoutMeta(next, r.hasStatus) != withoutMeta(cur, r.hasStatus);
  if (r.tracksGeneration && specChanged && subresource.empty()) {
    next["metadata"]["generation"] = kube::generation(cur) + 1;
  }
  if (!isApply) {
    ApplyContext actx{r.schema(r.storageVersion), r.kind, r.builtin};
    recordUpdate(&cur, next, {c.fieldManager(), "Update", subresource == "status" ? "status" : ""},
                 r.apiVersion(c.info.version), core::formatTime(clock.now()), actx);
  }
  bool deletingDone = kube::isBeingDeleted(next) &&
                      next["metadata"].value("finalizers", Json::array()).empty() &&
                      !(r.plural == "namespaces" && r.group.empty());
  if (!deletingDone && forNoopCompare(next) == forNoopCompare(cur)) return cur;  // no-op: no write
  if (c.dryRun()) return next;
  if (deletingDone) {
    ObjPtr gone = tx.remove(storageKey(r), meta(cur, "namespace"), name);
    afterWrite(r, tx, &cur, nullptr);
    kickControllers();
    return *gone;
  }
  ObjPtr stored = tx.put(storageKey(r), std::move(next));
  afterWrite(r, tx, &cur, stored.get());
  return *stored;
}

ApiResult<Reply> ApiServer::Impl::updateObject(Call& c, const ResourceInfo& r) {
  auto body = decodeBody(c, r);
  if (!body) return body.error();
  Json obj = std::move(*body);
  std::string bodyName = meta(obj, "name");
  if (!bodyName.empty() && bodyName != c.info.name) {
    return errors::badRequest(fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                                          bodyName, c.info.name));
  }
  if (r.namespaced) {
    std::string bodyNs = meta(obj, "namespace");
    if (!bodyNs.empty() && bodyNs != c.info.namespace_) {
      return errors::badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
  }
  auto tx = store.begin();
  ObjPtr current = tx.get(storageKey(r), r.namespaced ? c.info.namespace_ : "", c.info.name);
  if (!current) return errors::notFound(r, c.info.name);
  auto out = commitUpdate(c, r, tx, current, std::move(obj), c.info.subresource, false);
  if (!out) return out.error();
  Reply rep;
  rep.body = present(c.view(), r, *out);
  return rep;
}

ApiResult<Reply> ApiServer::Impl::patchObject(Call& c, const ResourceInfo& r) {
  std::string ct = c.req.get_header_value("Content-Type");
  std::string type = ct.substr(0, ct.find(';'));
  std::vector<std::string> supported = {"application/json-patch+json", "application/merge-patch+json",
                                        "application/apply-patch+yaml"};
  if (r.builtin) supported.push_back("application/strategic-merge-patch+json");
  if (std::find(supported.begin(), supported.end(), type) == supported.end()) {
    return errors::unsupportedMediaType(ct, supported);
  }
  std::string ns = r.namespaced ? c.info.namespace_ : "";
  bool apply = type == "application/apply-patch+yaml";
  if (apply && c.param("fieldManager").empty()) {
    return errors::invalid(r.kind, r.group, c.info.name,
                           {errors::required("fieldManager")});
  }
  Json patch;
  if (apply) {
    auto y = parseYamlOrJson(c.req.body);
    if (!y) return errors::badRequest(y.error().message);
    patch = std::move(*y);
  } else {
    patch = Json::parse(c.req.body, nullptr, false);
    if (patch.is_discarded()) return errors::badRequest("the patch is not valid JSON");
  }

  auto tx = store.begin();
  ObjPtr current = tx.get(storageKey(r), ns, c.info.name);
  if (apply) {
    if (!patch.is_object()) return errors::badRequest("an apply patch must be an object");
    if (patch.contains("metadata") && patch["metadata"].contains("managedFields")) {
      return errors::badRequest("metadata.managedFields must be nil");
    }
    if (isEventsV1(r)) patch = v1EventToCore(patch);
    std::string pname = meta(patch, "name");
    if (!pname.empty() && pname != c.info.name) {
      return errors::badRequest(fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                                            pname, c.info.name));
    }
    patch["metadata"]["name"] = c.info.name;
    if (r.namespaced) patch["metadata"]["namespace"] = ns;
    patch["apiVersion"] = r.apiVersion(r.storageVersion);
    patch["kind"] = r.kind;
    const std::string sub = c.info.subresource;
    if (r.hasStatus && sub.empty()) patch.erase("status");
    if (sub == "status") {
      Json only = {{"apiVersion", patch["apiVersion"]}, {"kind", r.kind},
                   {"metadata", {{"name", c.info.name}}}};
      if (patch.contains("status")) only["status"] = patch["status"];
      patch = std::move(only);
    }
    if (!r.builtin) {
      // The configuration is pruned as sent; defaults go onto the merged object (they must
      // not make the applier own fields it never set).
      if (auto st = validateSchema(c, r, patch, /*pruneOnly=*/true); !st) return st.error();
    }
    ApplyInput in;
    in.live = current.get();
    in.config = patch;
    in.who = {c.param("fieldManager"), "Apply", sub == "status" ? "status" : ""};
    in.force = c.flag("force");
    in.apiVersion = r.apiVersion(c.info.version);
    in.now = core::formatTime(clock.now());
    in.ctx = {r.schema(r.storageVersion), r.kind, r.builtin};
    if (!current) {
      if (!sub.empty()) return errors::notFound(r, c.info.name);
      auto created = serverSideApply(in);
      if (!created) return created.error();
      Json obj = std::move(*created);
      if (auto st = admitCreate(c, r, tx, obj); !st) return st.error();
      return insertNew(c, r, tx, std::move(obj));
    }
    auto merged = serverSideApply(in);
    if (!merged) return merged.error();
    Json next = std::move(*merged);
    next["metadata"]["resourceVersion"] = meta(*current, "resourceVersion");
    auto out = commitUpdate(c, r, tx, current, std::move(next), sub, true);
    if (!out) return out.error();
    Reply rep;
    rep.body = present(c.view(), r, *out);
    return rep;
  }

  if (!current) return errors::notFound(r, c.info.name);
  Json base = present(c.view(), r, *current);
  Json next;
  if (type == "application/json-patch+json") {
    auto p = kube::applyJsonPatch(base, patch);
    if (!p) return errors::invalid(r.kind, r.group, c.info.name, {{"FieldValueInvalid", p.error().message, ""}});
    next = std::move(*p);
  } else if (type == "application/merge-patch+json") {
    if (!patch.is_object()) return errors::badRequest("a merge patch must be a JSON object");
    next = kube::applyMergePatch(base, patch);
  } else {
    auto p = applyStrategicMerge(base, patch, r.kind);
    if (!p) return errors::badRequest(p.error().message);
    next = std::move(*p);
  }
  if (isEventsV1(r)) next = v1EventToCore(next);
  if (!next.is_object()) return errors::badRequest("the patched object is not an object");
  if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = Json::object();
  if (meta(next, "name") != c.info.name) {
    return errors::invalid(r.kind, r.group, c.info.name,
                           {errors::invalidValue("metadata.name", meta(next, "name"), "field is immutable")});
  }
  // `next` keeps the stored resourceVersion unless the patch set one (conditional) or removed
  // it (unconditional); commitUpdate checks it.
  auto out = commitUpdate(c, r, tx, current, std::move(next), c.info.subresource, false);
  if (!out) return out.error();
  Reply rep;
  rep.body = present(c.view(), r, *out);
  return rep;
}

namespace {

struct DeleteOpts {
  bool dryRun = false;
  std::string propagation;
  std::string uid;
  std::string rv;
  std::optional<int64_t> grace;
};

ApiResult<DeleteOpts> deleteOptions(const Json& j, const Call& c) {
  DeleteOpts o;
  if (j.is_object()) {
    o.propagation = j.value("propagationPolicy", "");
    if (j.contains("orphanDependents") && j["orphanDependents"].is_boolean() && o.propagation.empty()) {
      o.propagation = j["orphanDependents"].get<bool>() ? "Orphan" : "Background";
    }
    if (auto p = j.find("preconditions"); p != j.end() && p->is_object()) {
      o.uid = p->value("uid", "");
      o.rv = p->value("resourceVersion", "");
    }
    if (j.contains("gracePeriodSeconds") && j["gracePeriodSeconds"].is_number_integer()) {
      o.grace = j["gracePeriodSeconds"].get<int64_t>();
    }
    if (auto d = j.find("dryRun"); d != j.end() && d->is_array()) {
      for (const auto& v : *d) o.dryRun = o.dryRun || v == "All";
    }
  }
  o.dryRun = o.dryRun || c.dryRun();
  if (o.propagation.empty()) o.propagation = c.param("propagationPolicy");
  if (!o.grace && !c.param("gracePeriodSeconds").empty()) o.grace = std::stoll(c.param("gracePeriodSeconds"));
  if (!o.propagation.empty() && o.propagation != "Background" && o.propagation != "Foreground" &&
      o.propagation != "Orphan") {
    return errors::badRequest(fmt::format("unsupported propagationPolicy {:?}", o.propagation));
  }
  return o;
}

}  // namespace

Json ApiServer::Impl::deleteStored(const ResourceInfo& r, ObjectStore::Txn& tx,
                                              const ObjPtr& current, const std::string& propagation,
                                              std::optional<int64_t> graceRequested, bool dry) {
  const Json& cur = *current;
  std::string now = core::formatTime(clock.now());
  bool isNamespace = r.group.empty() && r.plural == "namespaces";
  if (kube::isBeingDeleted(cur)) {
    // Repeated deletes are idempotent; a stronger propagation request is still recorded.
    Json next = cur;
    bool changed = false;
    if (propagation == "Foreground") changed = kube::addFinalizer(next, "foregroundDeletion");
    if (propagation == "Orphan") changed = kube::addFinalizer(next, "orphan");
    if (!changed || dry) return cur;
    ObjPtr stored = tx.put(storageKey(r), std::move(next));
    kickControllers();
    return *stored;
  }
  Json next = cur;
  if (isNamespace) {
    next["metadata"]["deletionTimestamp"] = now;
    next["metadata"]["deletionGracePeriodSeconds"] = 0;
    next["status"]["phase"] = "Terminating";
    if (dry) return next;
    ObjPtr stored = tx.put(storageKey(r), std::move(next));
    kickControllers();
    return *stored;
  }
  if (propagation == "Foreground") kube::addFinalizer(next, "foregroundDeletion");
  if (propagation == "Orphan") kube::addFinalizer(next, "orphan");
  if (r.plural == "customresourcedefinitions") kube::addFinalizer(next, "customresourcecleanup.apiextensions.k8s.io");
  // Pods bound to a node end gracefully: the kubelet stops them and then deletes with grace 0.
  int64_t grace = 0;
  if (r.group.empty() && r.plural == "pods" && !cur.value("spec", Json::object()).value("nodeName", "").empty()) {
    grace = graceRequested ? *graceRequested : cur["spec"].value("terminationGracePeriodSeconds", 30);
  }
  bool hasFinalizers = !next["metadata"].value("finalizers", Json::array()).empty();
  if (hasFinalizers || grace > 0) {
    next["metadata"]["deletionTimestamp"] = core::formatTime(clock.now() + std::chrono::seconds(grace));
    next["metadata"]["deletionGracePeriodSeconds"] = grace;
    if (dry) return next;
    ObjPtr stored = tx.put(storageKey(r), std::move(next));
    afterWrite(r, tx, &cur, stored.get());
    kickControllers();
    return *stored;
  }
  if (dry) return cur;
  ObjPtr gone = tx.remove(storageKey(r), meta(cur, "namespace"), meta(cur, "name"));
  afterWrite(r, tx, &cur, nullptr);
  kickControllers();
  return *gone;
}

ApiResult<Reply> ApiServer::Impl::deleteObject(Call& c, const ResourceInfo& r) {
  Json body = Json::object();
  if (!c.req.body.empty()) {
    auto parsed = parseBody(c, "DeleteOptions");
    if (!parsed) return parsed.error();
    body = std::move(*parsed);
  }
  auto delOpts = deleteOptions(body, c);
  if (!delOpts) return delOpts.error();
  auto tx = store.begin();
  ObjPtr current = tx.get(storageKey(r), r.namespaced ? c.info.namespace_ : "", c.info.name);
  if (!current) return errors::notFound(r, c.info.name);
  if (!delOpts->uid.empty() && delOpts->uid != meta(*current, "uid")) {
    ApiError e = errors::conflict(r, c.info.name);
    e.message = fmt::format("Operation cannot be fulfilled on {} \"{}\": Precondition failed: UID in precondition: {}, UID in object meta: {}",
                            r.qualified(), c.info.name, delOpts->uid, meta(*current, "uid"));
    return e;
  }
  if (!delOpts->rv.empty() && delOpts->rv != meta(*current, "resourceVersion")) {
    ApiError e = errors::conflict(r, c.info.name);
    e.message = fmt::format("Operation cannot be fulfilled on {} \"{}\": Precondition failed: ResourceVersion in precondition: {}, ResourceVersion in object meta: {}",
                            r.qualified(), c.info.name, delOpts->rv, meta(*current, "resourceVersion"));
    return e;
  }
  Json out = deleteStored(r, tx, current, delOpts->propagation, delOpts->grace, delOpts->dryRun);
  Reply rep;
  rep.body = present(c.view(), r, out);
  return rep;
}

ApiResult<Reply> ApiServer::Impl::deleteCollection(Call& c, const ResourceInfo& r) {
  auto filter = makeFilter(c, r);
  if (!filter) return filter.error();
  Json body = Json::object();
  if (!c.req.body.empty()) {
    auto parsed = parseBody(c, "DeleteOptions");
    if (!parsed) return parsed.error();
    body = std::move(*parsed);
  }
  auto delOpts = deleteOptions(body, c);
  if (!delOpts) return delOpts.error();
  auto tx = store.begin();
  std::vector<Json> items;
  for (const auto& obj : tx.list(storageKey(r), r.namespaced ? c.info.namespace_ : "")) {
    if (!filter->matches(*obj)) continue;
    items.push_back(present(c.view(), r, deleteStored(r, tx, obj, delOpts->propagation, delOpts->grace, delOpts->dryRun)));
  }
  Reply rep;
  rep.body = asList(r, c.info.version, std::move(items), std::to_string(tx.rv()), "", std::nullopt);
  return rep;
}

// --- watch ---------------------------------------------------------------------------------

namespace {

struct WatchState {
  ResourcePtr resource;
  std::string version;
  std::string storage;
  Filter filter;
  bool table = false;
  std::string tableVersion;
  bool bookmarks = false;
  int64_t cursor = 0;  // last RV delivered
  uint64_t epoch = 0;
  core::MonoTime deadline;
  core::MonoTime nextBookmark;
  std::vector<std::string> pending;  // lines ready to send
  bool headersSent = false;
  bool finished = false;
};

}  // namespace

ApiResult<Reply> ApiServer::Impl::watchObjects(Call& c, const ResourceInfo& r) {
  auto filter = makeFilter(c, r);
  if (!filter) return filter.error();
  auto st = std::make_shared<WatchState>();
  st->resource = registry.find(c.info.group, c.info.version, c.info.resource);
  st->version = c.info.version;
  st->storage = storageKey(r);
  st->filter = std::move(*filter);
  if (!c.info.name.empty()) st->filter.name = c.info.name;
  st->table = c.accept.table;
  st->tableVersion = c.accept.tableVersion;
  st->bookmarks = c.flag("allowWatchBookmarks");
  st->epoch = store.watchEpoch();
  int64_t timeout = 0;
  if (std::string t = c.param("timeoutSeconds"); !t.empty()) timeout = std::max<int64_t>(0, parseRv(t));
  auto now = std::chrono::steady_clock::now();
  st->deadline = now + (timeout > 0 ? std::chrono::seconds(timeout) : opts.maxWatch);
  st->nextBookmark = now + opts.bookmarkInterval;

  View view = c.view();
  auto render = [this, st, view](const char* type, const Json& obj) {
    Json ev = {{"type", type}};
    if (st->table) {
      Json t = toTable(view, *st->resource, {std::make_shared<const Json>(obj)},
                       Json{{"resourceVersion", meta(obj, "resourceVersion")}}, !st->headersSent);
      st->headersSent = true;
      ev["object"] = std::move(t);
    } else {
      ev["object"] = present(view, *st->resource, obj);
    }
    return ev.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  };
  auto bookmark = [st](int64_t rv, bool initialEnd) {
    Json md = {{"resourceVersion", std::to_string(rv)}};
    if (initialEnd) md["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    Json ev = {{"type", "BOOKMARK"},
               {"object", {{"kind", st->resource->kind}, {"apiVersion", st->resource->apiVersion(st->version)},
                           {"metadata", md}}}};
    return ev.dump() + "\n";
  };

  std::string rvParam = c.param("resourceVersion");
  int64_t startRv = parseRv(rvParam);
  bool initial = rvParam.empty() || rvParam == "0" || c.flag("sendInitialEvents");
  if (startRv == -2) return errors::badRequest(fmt::format("invalid resource version: {}", rvParam));
  if (initial) {
    auto tx = store.begin();
    for (const auto& o : tx.list(st->storage, st->filter.ns)) {
      if (st->filter.matches(*o)) st->pending.push_back(render("ADDED", *o));
    }
    st->cursor = tx.rv();
    if (c.flag("sendInitialEvents")) st->pending.push_back(bookmark(st->cursor, true));
  } else {
    st->cursor = startRv;
    bool ended = false;
    auto probe = store.changesSince(startRv, st->storage, std::chrono::milliseconds(0), st->epoch, ended);
    if (!probe) {
      ApiError e = errors::expired(probe.error().message);
      st->pending.push_back(Json{{"type", "ERROR"}, {"object", e.toStatus()}}.dump() + "\n");
      st->finished = true;
    }
  }

  c.streamed = true;
  c.res.status = 200;
  // Not plain "application/json": httplib would gzip that for Go clients (Accept-Encoding:
  // gzip), and the compressor holds events back until its buffer fills.
  std::string contentType = st->table ? "application/json;as=Table;v=" + st->tableVersion + ";g=meta.k8s.io"
                                      : "application/json;stream=watch";
  c.res.set_chunked_content_provider(
      contentType, [this, st, render, bookmark](size_t, httplib::DataSink& sink) {
        auto flush = [&]() {
          for (const auto& line : st->pending) {
            if (!sink.write(line.data(), line.size())) return false;
          }
          st->pending.clear();
          return true;
        };
        if (!st->pending.empty()) {
          if (!flush()) return false;
          if (st->finished) {
            sink.done();
            return true;
          }
          return true;
        }
        if (st->finished || stopping.load()) {
          sink.done();
          return true;
        }
        auto t = std::chrono::steady_clock::now();
        if (t >= st->deadline) {
          sink.done();
          return true;
        }
        if (!sink.is_writable()) return false;
        auto wait = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(500),
            std::chrono::duration_cast<std::chrono::milliseconds>(st->deadline - t));
        bool ended = false;
        int64_t scanned = st->cursor;
        auto changes = store.changesSince(st->cursor, st->storage, wait, st->epoch, ended, &scanned);
        if (ended || stopping.load()) {
          sink.done();
          return true;
        }
        if (!changes) {
          ApiError e = errors::expired(changes.error().message);
          st->pending.push_back(Json{{"type", "ERROR"}, {"object", e.toStatus()}}.dump() + "\n");
          st->finished = true;
          return flush();
        }
        for (const auto& ch : *changes) {
          st->cursor = ch.rv;
          bool after = st->filter.matches(*ch.object);
          bool before = ch.previous && st->filter.matches(*ch.previous);
          switch (ch.type) {
            case ChangeType::kAdded:
              if (after) st->pending.push_back(render("ADDED", *ch.object));
              break;
            case ChangeType::kModified:
              if (after && before) st->pending.push_back(render("MODIFIED", *ch.object));
              else if (after) st->pending.push_back(render("ADDED", *ch.object));
              else if (before) st->pending.push_back(render("DELETED", *ch.object));
              break;
            case ChangeType::kDeleted:
              if (before || after) st->pending.push_back(render("DELETED", *ch.object));
              break;
          }
        }
        st->cursor = std::max(st->cursor, scanned);  // other kinds' changes: seen, not to be scanned again
        if (st->bookmarks && std::chrono::steady_clock::now() >= st->nextBookmark) {
          st->pending.push_back(bookmark(st->cursor, false));
          st->nextBookmark = std::chrono::steady_clock::now() + opts.bookmarkInterval;
        }
        return flush();
      });
  return Reply{};
}

}  // namespace mysqlop::sandbox
