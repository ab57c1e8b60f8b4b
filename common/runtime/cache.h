#pragma once
// An informer's store: the objects of one kind as the last list/watch left them, each an
// immutable snapshot (shared_ptr<const Json>) that readers may keep as long as they like, with
// indexes by namespace, by label (key=value) and by controller owner uid.
// Writers are the informer's thread; readers are any thread (a shared mutex guards the maps).

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kube/label_selector.h"

namespace mysqlop::runtime {

using Json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const Json>;

// "<namespace>/<name>", or "<name>" for cluster-scoped objects: the work-queue key too.
std::string objectKey(const Json& obj);
std::string objectKey(const std::string& ns, const std::string& name);
// Splits a key back into namespace and name.
std::pair<std::string, std::string> splitKey(const std::string& key);

class ObjectCache {
 public:
  // Inserts or replaces; returns the previous state (null when new).
  ObjectPtr upsert(ObjectPtr obj);
  // Removes; returns the removed state (null when absent).
  ObjectPtr remove(const std::string& key);
  // Replaces everything; returns the objects that vanished.
  std::vector<ObjectPtr> replace(std::vector<ObjectPtr> objs);

  ObjectPtr get(const std::string& key) const;
  ObjectPtr get(const std::string& ns, const std::string& name) const { return get(objectKey(ns, name)); }
  // Every object, or those of a namespace, in key order.
  std::vector<ObjectPtr> list(const std::string& ns = "") const;
  std::vector<ObjectPtr> list(const std::string& ns, const kube::LabelSelector& sel) const;
  std::vector<ObjectPtr> byLabel(const std::string& key, const std::string& value) const;
  // Objects whose controller ownerReference has this uid.
  std::vector<ObjectPtr> byOwner(const std::string& ownerUid) const;
  size_t size() const;

 private:
  void indexLocked(const std::string& key, const Json& obj);    // requires unique mu_
  void unindexLocked(const std::string& key, const Json& obj);  // requires unique mu_

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr> objects_;                       // guarded by mu_
  std::map<std::string, std::set<std::string>> byNamespace_;       // guarded by mu_
  std::map<std::string, std::set<std::string>> byLabel_;           // "k=v" → keys; guarded by mu_
  std::map<std::string, std::set<std::string>> byOwner_;           // uid → keys; guarded by mu_
};

}  // namespace mysqlop::runtime
