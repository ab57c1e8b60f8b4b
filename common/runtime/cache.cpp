#include "common/runtime/cache.h"

#include <mutex>
#include <stdexcept>

#include "common/kube/object.h"

namespace mysqlop::runtime {

std::string objectKey(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

std::string objectKey(const Json& obj) { return objectKey(kube::namespaceOf(obj), kube::name(obj)); }

std::pair<std::string, std::string> splitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

IndexFn indexByUid() {
  return [](const Json& obj) { return std::vector<std::string>{kube::uid(obj)}; };
}

std::set<std::string> ownersIn(const ObjectCache& owners, const Json& obj) {
  const std::string ns = kube::namespaceOf(obj);
  std::set<std::string> keys;
  for (const auto& ref : kube::ownerReferences(obj)) {
    for (auto& k : owners.keysByIndex(kIndexUid, ref.uid)) {
      if (splitKey(k).first == ns) keys.insert(std::move(k));
    }
  }
  return keys;
}

std::pair<std::string, IndexFn> labelIndex(const std::string& key) {
  return {"label:" + key, [key](const Json& obj) {
            auto v = kube::label(obj, key);
            return v ? std::vector<std::string>{*v} : std::vector<std::string>{};
          }};
}

ObjectCache::Entry ObjectCache::entryOf(const ObjectPtr& obj) const {
  Entry e;
  if (compact_) {
    e.packed = Json::to_msgpack(*obj);
    e.packed.shrink_to_fit();
  } else {
    e.obj = obj;
  }
  return e;
}

ObjectPtr ObjectCache::objectOf(const Entry& e) {
  if (e.obj) return e.obj;
  return std::make_shared<const Json>(Json::from_msgpack(e.packed));
}

void ObjectCache::indexLocked(const std::string* key, const Json& obj) {
  byNamespace_[kube::namespaceOf(obj)].insert(key);
  if (auto owner = kube::controllerOf(obj)) byOwner_[owner->uid].insert(key);
  for (const auto& [index, fn] : indexers_) {
    for (const auto& v : fn(obj)) byCustom_[index + '\x1f' + v].insert(key);
  }
}

void ObjectCache::unindexLocked(const std::string* key, const Json& obj) {
  auto drop = [&](Index& idx, const std::string& value) {
    auto it = idx.find(value);
    if (it == idx.end()) return;
    it->second.erase(key);
    if (it->second.empty()) idx.erase(it);
  };
  drop(byNamespace_, kube::namespaceOf(obj));
  if (auto owner = kube::controllerOf(obj)) drop(byOwner_, owner->uid);
  for (const auto& [index, fn] : indexers_) {
    for (const auto& v : fn(obj)) drop(byCustom_, index + '\x1f' + v);
  }
}

ObjectPtr ObjectCache::upsert(ObjectPtr obj) {
  std::string key = objectKey(*obj);
  Entry next = entryOf(obj);
  std::unique_lock lock(mu_);
  auto [it, inserted] = objects_.try_emplace(std::move(key));
  ObjectPtr previous;
  if (!inserted) {
    previous = objectOf(it->second);
    unindexLocked(&it->first, *previous);
  }
  it->second = std::move(next);
  indexLocked(&it->first, *obj);
  return previous;
}

ObjectPtr ObjectCache::remove(const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr previous = objectOf(it->second);
  unindexLocked(&it->first, *previous);
  objects_.erase(it);
  return previous;
}

std::vector<ObjectPtr> ObjectCache::replace(std::vector<ObjectPtr> objs) {
  std::map<std::string, std::pair<Entry, ObjectPtr>> next;
  for (auto& o : objs) {
    std::string key = objectKey(*o);
    Entry e = entryOf(o);
    next[std::move(key)] = {std::move(e), std::move(o)};
  }
  std::unique_lock lock(mu_);
  std::vector<ObjectPtr> vanished;
  for (const auto& [k, v] : objects_) {
    if (!next.count(k)) vanished.push_back(objectOf(v));
  }
  objects_.clear();
  byNamespace_.clear();
  byOwner_.clear();
  byCustom_.clear();
  for (auto& [k, v] : next) {
    auto [it, _] = objects_.try_emplace(k, std::move(v.first));
    indexLocked(&it->first, *v.second);
  }
  return vanished;
}

ObjectPtr ObjectCache::get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : objectOf(it->second);
}

std::vector<ObjectPtr> ObjectCache::objectsLocked(const Index& idx, const std::string& value) const {
  std::vector<ObjectPtr> out;
  auto it = idx.find(value);
  if (it == idx.end()) return out;
  for (const std::string* k : it->second) out.push_back(objectOf(objects_.at(*k)));
  return out;
}

std::vector<ObjectPtr> ObjectCache::list(const std::string& ns) const {
  std::shared_lock lock(mu_);
  if (!ns.empty()) return objectsLocked(byNamespace_, ns);
  std::vector<ObjectPtr> out;
  for (const auto& [k, v] : objects_) out.push_back(objectOf(v));
  return out;
}

std::vector<ObjectPtr> ObjectCache::list(const std::string& ns, const kube::LabelSelector& sel) const {
  std::vector<ObjectPtr> out;
  for (auto& o : list(ns)) {
    if (sel.matches(kube::labels(*o))) out.push_back(std::move(o));
  }
  return out;
}

std::vector<ObjectPtr> ObjectCache::byLabel(const std::string& key, const std::string& value) const {
  const std::string index = "label:" + key;
  if (!indexers_.count(index)) throw std::logic_error("ObjectCache::byLabel(" + key + "): no labelIndex for it");
  std::shared_lock lock(mu_);
  return objectsLocked(byCustom_, index + '\x1f' + value);
}

std::vector<ObjectPtr> ObjectCache::byOwner(const std::string& ownerUid) const {
  std::shared_lock lock(mu_);
  return objectsLocked(byOwner_, ownerUid);
}

std::vector<std::string> ObjectCache::keysByIndex(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  auto it = byCustom_.find(index + '\x1f' + value);
  if (it == byCustom_.end()) return out;
  for (const std::string* k : it->second) out.push_back(*k);
  return out;
}

bool ObjectCache::contains(const std::string& key) const {
  std::shared_lock lock(mu_);
  return objects_.count(key) > 0;
}

size_t ObjectCache::size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

}  // namespace mysqlop::runtime
