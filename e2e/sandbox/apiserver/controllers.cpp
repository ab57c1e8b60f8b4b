// The controllers a real control plane runs that clients can observe: the garbage collector
// (Background, Foreground, Orphan; owners matched by uid), namespace termination and CRD
// clean-up (kube-api-emulator-spec §2.9, §2.13). They run on one thread, woken by deletions and
// by writes naming an absent owner, and every 10 s as a safety net: a pass reads every object
// under the store's lock, so a pass every half second cost a third of the server's CPU at 300
// databases (issue 18's profile).
#include "common/kube/object.h"
#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {

void ApiServer::Impl::kickControllers() {
  std::lock_guard lock(controllerMu);
  controllerKick = true;
  controllerCv.notify_all();
}

void ApiServer::Impl::runControllers() {
  while (!stopping.load()) {
    {
      std::unique_lock lock(controllerMu);
      controllerCv.wait_for(lock, std::chrono::seconds(10), [&] { return controllerKick || stopping.load(); });
      controllerKick = false;
    }
    if (stopping.load()) break;
    for (int pass = 0; pass < 100; ++pass) {
      bool changed = collectGarbageOnce();
      changed = finalizeNamespacesOnce() || changed;
      if (!changed) break;
    }
  }
}

void ApiServer::Impl::dropFinalizer(const ResourceInfo& r, ObjectStore::Txn& tx, const ObjPtr& obj,
                                    const std::string& f) {
  Json next = *obj;
  if (!kube::removeFinalizer(next, f)) return;
  std::string key = r.group == "events.k8s.io" ? "/events" : r.key();
  if (kube::isBeingDeleted(next) && next["metadata"].value("finalizers", Json::array()).empty()) {
    tx.remove(key, meta(next, "namespace"), meta(next, "name"));
    afterWrite(r, tx, obj.get(), nullptr);
  } else {
    ObjPtr stored = tx.put(key, std::move(next));
    afterWrite(r, tx, obj.get(), stored.get());
  }
}

bool ApiServer::Impl::collectGarbageOnce() {
  bool changed = false;
  auto tx = store.begin();
  struct Item { ResourcePtr r; ObjPtr obj; };
  std::vector<Item> all;
  for (const auto& key : tx.resources()) {
    ResourcePtr r = registry.findByKey(key);
    if (!r) continue;
    for (auto& o : tx.list(key, "")) all.push_back({r, o});
  }
  std::map<std::string, std::vector<Item>> dependentsOf;  // owner uid → dependents
  for (const auto& it : all) {
    for (const auto& ref : kube::ownerReferences(*it.obj)) dependentsOf[ref.uid].push_back(it);
  }
  auto alive = [&](const std::string& uid) { return tx.byUid(uid).second != nullptr; };

  // Owners being deleted in the foreground or with orphaning.
  for (const auto& it : all) {
    const Json& o = *it.obj;
    if (!kube::isBeingDeleted(o)) continue;
    std::string uid = meta(o, "uid");
    if (kube::hasFinalizer(o, "orphan")) {
      for (const auto& dep : dependentsOf[uid]) {
        ObjPtr cur = tx.get(dep.r->group == "events.k8s.io" ? "/events" : dep.r->key(), meta(*dep.obj, "namespace"), meta(*dep.obj, "name"));
        if (!cur) continue;
        Json next = *cur;
        if (kube::removeOwnerReference(next, uid)) tx.put(dep.r->key(), std::move(next));
      }
      ObjPtr self = tx.get(it.r->key(), meta(o, "namespace"), meta(o, "name"));
      if (self) dropFinalizer(*it.r, tx, self, "orphan");
      changed = true;
      continue;
    }
    if (kube::hasFinalizer(o, "foregroundDeletion")) {
      bool blocked = false;
      for (const auto& dep : dependentsOf[uid]) {
        ObjPtr cur = tx.get(dep.r->key(), meta(*dep.obj, "namespace"), meta(*dep.obj, "name"));
        if (!cur) continue;
        for (const auto& ref : kube::ownerReferences(*cur)) {
          if (ref.uid == uid && ref.blockOwnerDeletion) blocked = true;
        }
        if (!kube::isBeingDeleted(*cur)) {
          deleteStored(*dep.r, tx, cur, "Foreground", std::nullopt, false);
          changed = true;
        }
      }
      if (!blocked) {
        ObjPtr self = tx.get(it.r->key(), meta(o, "namespace"), meta(o, "name"));
        if (self) {
          dropFinalizer(*it.r, tx, self, "foregroundDeletion");
          changed = true;
        }
      }
    }
  }
  // Dependents whose owners are all gone.
  for (const auto& it : all) {
    if (kube::ownerReferences(*it.obj).empty()) continue;
    // Re-read: the passes above may have changed it (orphaning strips references).
    ObjPtr cur = tx.get(it.r->key(), meta(*it.obj, "namespace"), meta(*it.obj, "name"));
    if (!cur || meta(*cur, "uid") != meta(*it.obj, "uid") || kube::isBeingDeleted(*cur)) continue;
    auto refs = kube::ownerReferences(*cur);
    if (refs.empty()) continue;
    bool anyAlive = false;
    for (const auto& ref : refs) anyAlive = anyAlive || alive(ref.uid);
    if (anyAlive) continue;
    deleteStored(*it.r, tx, cur, "Background", std::nullopt, false);
    changed = true;
  }
  // CRDs being deleted: remove their objects, then the CRD.
  for (const auto& it : all) {
    if (it.r->plural != "customresourcedefinitions" || !kube::isBeingDeleted(*it.obj)) continue;
    const Json& spec = it.obj->value("spec", Json::object());
    std::string key = spec.value("group", "") + "/" + spec.value("names", Json::object()).value("plural", "");
    ResourcePtr cr = registry.findByKey(key);
    auto objs = tx.list(key, "");
    for (const auto& o : objs) {
      if (!kube::isBeingDeleted(*o) && cr) {
        deleteStored(*cr, tx, o, "Background", std::nullopt, false);
        changed = true;
      }
    }
    if (tx.list(key, "").empty()) {
      ObjPtr self = tx.get(it.r->key(), "", meta(*it.obj, "name"));
      if (self && kube::hasFinalizer(*self, "customresourcecleanup.apiextensions.k8s.io")) {
        dropFinalizer(*it.r, tx, self, "customresourcecleanup.apiextensions.k8s.io");
        changed = true;
      }
    }
  }
  return changed;
}

bool ApiServer::Impl::finalizeNamespacesOnce() {
  bool changed = false;
  auto tx = store.begin();
  for (const auto& ns : tx.list("/namespaces", "")) {
    if (!kube::isBeingDeleted(*ns)) continue;
    std::string name = meta(*ns, "name");
    bool empty = true;
    for (const auto& key : tx.resources()) {
      ResourcePtr r = registry.findByKey(key);
      if (!r || !r->namespaced) continue;
      for (const auto& o : tx.list(key, name)) {
        empty = false;
        if (!kube::isBeingDeleted(*o)) {
          deleteStored(*r, tx, o, "Background", std::nullopt, false);
          changed = true;
        }
      }
    }
    if (!empty) continue;
    Json next = *ns;
    Json fins = Json::array();
    for (const auto& f : next.value("spec", Json::object()).value("finalizers", Json::array())) {
      if (f != "kubernetes") fins.push_back(f);
    }
    if (!fins.empty()) continue;  // someone else's namespace finalizer
    if (next["metadata"].value("finalizers", Json::array()).empty()) {
      tx.remove("/namespaces", "", name);
    } else if (next["spec"].value("finalizers", Json::array()) != fins) {
      next["spec"]["finalizers"] = fins;
      tx.put("/namespaces", std::move(next));
    } else {
      continue;
    }
    changed = true;
  }
  return changed;
}

}  // namespace mysqlop::sandbox
