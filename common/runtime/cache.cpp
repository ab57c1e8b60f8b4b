#include "common/runtime/cache.h"

#include <mutex>

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

ObjectCache::Entry ObjectCache::entryOf(ObjectPtr obj) const {
  Entry e;
  e.ns = kube::namespaceOf(*obj);
  for (const auto& [k, v] : kube::labels(*obj)) e.labels.push_back(k + "=" + v);
  if (auto owner = kube::controllerOf(*obj)) e.owner = owner->uid;
  for (const auto& [index, fn] : indexers_) {
    for (auto& v : fn(*obj)) e.custom.push_back(index + '\x1f' + v);
  }
  if (compact_) {
    e.packed = Json::to_msgpack(*obj);
    e.packed.shrink_to_fit();
  } else {
    e.obj = std::move(obj);
  }
  return e;
}

ObjectPtr ObjectCache::objectOf(const Entry& e) {
  if (e.obj) return e.obj;
  return std::make_shared<const Json>(Json::from_msgpack(e.packed));
}

void ObjectCache::indexLocked(const std::string& key, const Entry& e) {
  byNamespace_[e.ns].insert(key);
  for (const auto& l : e.labels) byLabel_[l].insert(key);
  if (!e.owner.empty()) byOwner_[e.owner].insert(key);
  for (const auto& c : e.custom) byCustom_[c].insert(key);
}

void ObjectCache::unindexLocked(const std::string& key, const Entry& e) {
  auto drop = [&](std::map<std::string, std::set<std::string>>& idx, const std::string& k) {
    auto it = idx.find(k);
    if (it == idx.end()) return;
    it->second.erase(key);
    if (it->second.empty()) idx.erase(it);
  };
  drop(byNamespace_, e.ns);
  for (const auto& l : e.labels) drop(byLabel_, l);
  if (!e.owner.empty()) drop(byOwner_, e.owner);
  for (const auto& c : e.custom) drop(byCustom_, c);
}

ObjectPtr ObjectCache::upsert(ObjectPtr obj) {
  std::string key = objectKey(*obj);
  Entry next = entryOf(std::move(obj));
  std::unique_lock lock(mu_);
  ObjectPtr previous;
  if (auto it = objects_.find(key); it != objects_.end()) {
    previous = objectOf(it->second);
    unindexLocked(key, it->second);
  }
  indexLocked(key, next);
  objects_[key] = std::move(next);
  return previous;
}

ObjectPtr ObjectCache::remove(const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr previous = objectOf(it->second);
  unindexLocked(key, it->second);
  objects_.erase(it);
  return previous;
}

std::vector<ObjectPtr> ObjectCache::replace(std::vector<ObjectPtr> objs) {
  std::map<std::string, Entry> next;
  for (auto& o : objs) {
    std::string key = objectKey(*o);
    next[key] = entryOf(std::move(o));
  }
  std::unique_lock lock(mu_);
  std::vector<ObjectPtr> vanished;
  for (const auto& [k, v] : objects_) {
    if (!next.count(k)) vanished.push_back(objectOf(v));
  }
  objects_.clear();
  byNamespace_.clear();
  byLabel_.clear();
  byOwner_.clear();
  byCustom_.clear();
  for (auto& [k, v] : next) {
    indexLocked(k, v);
    objects_[k] = std::move(v);
  }
  return vanished;
}

ObjectPtr ObjectCache::get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : objectOf(it->second);
}

std::vector<ObjectPtr> ObjectCache::list(const std::string& ns) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  if (ns.empty()) {
    for (const auto& [k, v] : objects_) out.push_back(objectOf(v));
    return out;
  }
  auto it = byNamespace_.find(ns);
  if (it == byNamespace_.end()) return out;
  for (const auto& k : it->second) out.push_back(objectOf(objects_.at(k)));
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
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto it = byLabel_.find(key + "=" + value);
  if (it == byLabel_.end()) return out;
  for (const auto& k : it->second) out.push_back(objectOf(objects_.at(k)));
  return out;
}

std::vector<ObjectPtr> ObjectCache::byOwner(const std::string& ownerUid) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto it = byOwner_.find(ownerUid);
  if (it == byOwner_.end()) return out;
  for (const auto& k : it->second) out.push_back(objectOf(objects_.at(k)));
  return out;
}

std::vector<std::string> ObjectCache::keysByIndex(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mu_);
  auto it = byCustom_.find(index + '\x1f' + value);
  if (it == byCustom_.end()) return {};
  return {it->second.begin(), it->second.end()};
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
