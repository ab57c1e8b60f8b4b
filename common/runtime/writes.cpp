#include "common/runtime/writes.h"

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

core::Result<WriteOutcome> createOrUpdate(client::RestClient& cli, const kube::ResourceType& rt,
                                          const ObjectPtr& cached, const Json& desired) {
  if (!cached) {
    auto created = cli.create(rt, kube::namespaceOf(desired), desired);
    if (!created) return created.error();
    return WriteOutcome::kCreated;
  }
  Json merged = mergeDesired(*cached, desired);
  // Converged when the live object already says what we want, server defaults included.
  if (merged == *cached || satisfies(*cached, merged)) return WriteOutcome::kUnchanged;
  auto updated = cli.update(rt, merged);  // carries the cached resourceVersion
  if (!updated) return updated.error();
  return WriteOutcome::kUpdated;
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
