#include "common/runtime/cache.h"

#include <algorithm>
#include <mutex>
#include <new>
#include <stdexcept>

#include <zlib.h>

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

namespace {

using Bytes = std::vector<std::uint8_t>;
// Raw deflate (no header: the dictionary is known to both sides) with an 8 KB window — an
// object's MessagePack is a few KB — and 32 KB of hash tables: 64 KB a call, from the heap.
constexpr int kWindowBits = -13;
constexpr int kMemLevel = 6;

Bytes deflateWith(const Bytes& in, const Bytes& dict) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, kWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::bad_alloc();
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> end(&zs, deflateEnd);
  if (!dict.empty()) deflateSetDictionary(&zs, dict.data(), static_cast<uInt>(dict.size()));
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::logic_error("deflate: output larger than deflateBound");
  out.resize(zs.total_out);
  out.shrink_to_fit();
  return out;
}

Bytes inflateWith(const Bytes& in, const Bytes& dict) {
  z_stream zs{};
  if (inflateInit2(&zs, kWindowBits) != Z_OK) throw std::bad_alloc();
  std::unique_ptr<z_stream, int (*)(z_stream*)> end(&zs, inflateEnd);
  if (!dict.empty()) inflateSetDictionary(&zs, dict.data(), static_cast<uInt>(dict.size()));
  Bytes out;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t have = out.size();
    out.resize(have + std::max<size_t>(4096, in.size() * 4));
    zs.next_out = out.data() + have;
    zs.avail_out = static_cast<uInt>(out.size() - have);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) throw std::logic_error("inflate: cached bytes do not inflate");
  }
  out.resize(zs.total_out);
  return out;
}

}  // namespace

ObjectCache::Stored ObjectCache::store(const ObjectPtr& obj) const {
  Stored e;
  if (!compact_) {
    e.obj_ = obj;
    return e;
  }
  if (!dict_) {
    // What every object of the kind shares is in its first one; its data (a Secret's keys) is not
    // kept beyond the object's own life.
    Json shape = *obj;
    shape.erase("data");
    shape.erase("stringData");
    Bytes d = Json::to_msgpack(shape);
    d.resize(std::min<size_t>(d.size(), (1u << -kWindowBits) - 262));  // what the window holds
    dict_ = std::make_shared<const Bytes>(std::move(d));
  }
  e.dict_ = dict_;
  e.packed_ = deflateWith(Json::to_msgpack(*obj), *dict_);
  return e;
}

ObjectPtr ObjectCache::Stored::object() const {
  if (obj_) return obj_;
  return std::make_shared<const Json>(Json::from_msgpack(inflateWith(packed_, *dict_)));
}

bool ObjectCache::Stored::sameVersion(const Stored& other) const {
  if (obj_ && other.obj_) return kube::resourceVersion(*obj_) == kube::resourceVersion(*other.obj_);
  // The resourceVersion is in the bytes; one version packs (and deflates, with one dictionary) one way.
  return dict_ == other.dict_ && packed_ == other.packed_;
}

void ObjectCache::Staged::add(const ObjectPtr& obj) {
  objects_[objectKey(*obj)] = {cache_.store(obj), cache_.indexedUnder(*obj)};
}

ObjectCache::Relisted ObjectCache::replace(Staged staged) {
  std::unique_lock lock(mu_);
  Relisted out;
  for (auto& [k, v] : objects_) {
    auto it = staged.objects_.find(k);
    if (it == staged.objects_.end()) {
      out.vanished.push_back(std::move(v));
    } else if (!v.sameVersion(it->second.first)) {
      out.changed.push_back({k, std::move(v), it->second.first});
    }
  }
  for (const auto& [k, v] : staged.objects_) {
    if (!objects_.count(k)) out.changed.push_back({k, std::nullopt, v.first});
  }
  objects_.clear();
  byNamespace_.clear();
  byOwner_.clear();
  byCustom_.clear();
  for (auto& [k, v] : staged.objects_) {
    auto [it, _] = objects_.try_emplace(k, std::move(v.first));
    indexLocked(&it->first, v.second);
  }
  return out;
}

ObjectCache::IndexedUnder ObjectCache::indexedUnder(const Json& obj) const {
  IndexedUnder at{kube::namespaceOf(obj), "", {}};
  if (auto owner = kube::controllerOf(obj)) at.owner = owner->uid;
  for (const auto& [index, fn] : indexers_) {
    for (const auto& v : fn(obj)) at.custom.push_back(index + '\x1f' + v);
  }
  return at;
}

void ObjectCache::indexLocked(const std::string* key, const IndexedUnder& at) {
  byNamespace_[at.ns].insert(key);
  if (!at.owner.empty()) byOwner_[at.owner].insert(key);
  for (const auto& c : at.custom) byCustom_[c].insert(key);
}

void ObjectCache::unindexLocked(const std::string* key, const IndexedUnder& at) {
  auto drop = [&](Index& idx, const std::string& value) {
    auto it = idx.find(value);
    if (it == idx.end()) return;
    it->second.erase(key);
    if (it->second.empty()) idx.erase(it);
  };
  drop(byNamespace_, at.ns);
  if (!at.owner.empty()) drop(byOwner_, at.owner);
  for (const auto& c : at.custom) drop(byCustom_, c);
}

ObjectPtr ObjectCache::upsert(ObjectPtr obj) {
  std::string key = objectKey(*obj);
  Stored next = store(obj);
  const IndexedUnder at = indexedUnder(*obj);
  std::unique_lock lock(mu_);
  auto [it, inserted] = objects_.try_emplace(std::move(key));
  ObjectPtr previous;
  if (!inserted) {
    previous = it->second.object();
    unindexLocked(&it->first, indexedUnder(*previous));
  }
  it->second = std::move(next);
  indexLocked(&it->first, at);
  return previous;
}

ObjectPtr ObjectCache::remove(const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr previous = it->second.object();
  unindexLocked(&it->first, indexedUnder(*previous));
  objects_.erase(it);
  return previous;
}

ObjectPtr ObjectCache::get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second.object();
}

std::vector<ObjectPtr> ObjectCache::objectsLocked(const Index& idx, const std::string& value) const {
  std::vector<ObjectPtr> out;
  auto it = idx.find(value);
  if (it == idx.end()) return out;
  for (const std::string* k : it->second) out.push_back(objects_.at(*k).object());
  return out;
}

std::vector<ObjectPtr> ObjectCache::list(const std::string& ns) const {
  std::shared_lock lock(mu_);
  if (!ns.empty()) return objectsLocked(byNamespace_, ns);
  std::vector<ObjectPtr> out;
  for (const auto& [k, v] : objects_) out.push_back(v.object());
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

size_t ObjectCache::storedBytes() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [k, v] : objects_) n += v.packed_.size();
  return n;
}

}  // namespace mysqlop::runtime
