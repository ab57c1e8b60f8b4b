#pragma once
// An informer's store: the objects of one kind as the last list/watch left them, each an
// immutable snapshot (shared_ptr<const Json>) that readers may keep as long as they like, with
// indexes by namespace, by label (key=value) and by controller owner uid.
// Writers are the informer's thread; readers are any thread (a shared mutex guards the maps).
// Labels are indexed only where asked (`labelIndex`): a cache of a thousand databases' objects
// indexed under every label cost about as much as the objects themselves (issue 18).
//
// A compact cache (issue 18) keeps each object serialized (MessagePack) and parses it when read:
// a parsed nlohmann::json costs about eight times its MessagePack bytes (a StatefulSet: 58 KB
// against 7 KB), so an operator caching a thousand databases' objects stays small. Each read is a
// fresh snapshot (the same content, not the same pointer); the indexes are kept from the object
// as it was stored. For kinds read now and then (owned objects, Secrets), not for hot ones.
// The bytes are deflated with the kind's first object (its data removed) as the preset
// dictionary: an operator's objects of one kind are made by the same code and differ in a few
// names, so a StatefulSet's 2.5 KB of MessagePack keep ~200 bytes (issue 18).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <cstdint>
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

// Named indexes over a cache (client-go's Indexers): each function gives the values an object
// is found under, e.g. the Secrets a MySQL names ("ns/name").
using IndexFn = std::function<std::vector<std::string>(const Json&)>;
using Indexers = std::map<std::string, IndexFn>;

// An index by the value of one label: byLabel(key, value) needs it among the cache's Indexers.
std::pair<std::string, IndexFn> labelIndex(const std::string& key);

// The index by metadata.uid, for finding an object's owners without a scan (ownersIn).
inline constexpr const char* kIndexUid = "uid";
IndexFn indexByUid();

class ObjectCache;
// The keys of the objects in `owners` (indexed by uid) that `obj`'s ownerReferences point to, in
// its namespace.
std::set<std::string> ownersIn(const ObjectCache& owners, const Json& obj);

class ObjectCache {
 public:
  explicit ObjectCache(bool compact = false, Indexers indexers = {})
      : compact_(compact), indexers_(std::move(indexers)) {}

  // Inserts or replaces; returns the previous state (null when new).
  ObjectPtr upsert(ObjectPtr obj);
  // Removes; returns the removed state (null when absent).
  ObjectPtr remove(const std::string& key);

  // One stored object: parsed, or (compact) its MessagePack bytes, parsed by object().
  class Stored {
   public:
    ObjectPtr object() const;

   private:
    friend class ObjectCache;
    bool sameVersion(const Stored& other) const;  // without parsing either
    ObjectPtr obj_;
    std::vector<std::uint8_t> packed_;  // MessagePack, deflated with dict_
    std::shared_ptr<const std::vector<std::uint8_t>> dict_;
  };
  // What an object is found under in the indexes, computed while it is at hand, parsed (the
  // cache's own bookkeeping; public only because Staged holds it).
  struct IndexedUnder {
    std::string ns, owner;
    std::vector<std::string> custom;  // "<index>\x1f<value>"
  };
  // A list in the making (Informer::listAll): each object is stored (and what it is indexed
  // under noted) as it arrives, so that a compact cache never holds a whole list parsed — a
  // relist of a thousand StatefulSets would — and the swap parses nothing under the lock.
  class Staged {
   public:
    explicit Staged(const ObjectCache& cache) : cache_(cache) {}
    void add(const ObjectPtr& obj);

   private:
    friend class ObjectCache;
    const ObjectCache& cache_;
    std::map<std::string, std::pair<Stored, IndexedUnder>> objects_;
  };
  // What a relist changed: objects added or at a new resourceVersion (with their previous
  // state, when updated), and those that vanished — each parsed only when asked for.
  struct Relisted {
    struct Change {
      std::string key;
      std::optional<Stored> previous;  // none: added
      Stored current;
    };
    std::vector<Change> changed;
    std::vector<Stored> vanished;
  };
  // Replaces everything with what was staged.
  Relisted replace(Staged staged);

  ObjectPtr get(const std::string& key) const;
  ObjectPtr get(const std::string& ns, const std::string& name) const { return get(objectKey(ns, name)); }
  // Every object, or those of a namespace, in key order.
  std::vector<ObjectPtr> list(const std::string& ns = "") const;
  std::vector<ObjectPtr> list(const std::string& ns, const kube::LabelSelector& sel) const;
  // Objects labelled key=value; the cache must have been given labelIndex(key) (std::logic_error
  // otherwise: a programming error, not a scan).
  std::vector<ObjectPtr> byLabel(const std::string& key, const std::string& value) const;
  // Objects whose controller ownerReference has this uid.
  std::vector<ObjectPtr> byOwner(const std::string& ownerUid) const;
  // The keys of the objects an indexer (given at construction) puts under `value`: no object is
  // read (nor, when compact, parsed).
  std::vector<std::string> keysByIndex(const std::string& index, const std::string& value) const;
  bool contains(const std::string& key) const;
  size_t size() const;
  // Bytes the stored objects take (compact: as kept; otherwise 0, they are not counted).
  size_t storedBytes() const;

 private:
  // What an object is indexed under is not kept: it is computed again from its previous state
  // when it changes (upsert and remove parse that anyway). The indexes hold pointers to the keys of objects_ (a std::map's keys stay put).
  struct KeyLess {
    bool operator()(const std::string* a, const std::string* b) const { return *a < *b; }
  };
  using KeySet = std::set<const std::string*, KeyLess>;
  using Index = std::map<std::string, KeySet>;

  Stored store(const ObjectPtr& obj) const;
  IndexedUnder indexedUnder(const Json& obj) const;
  void indexLocked(const std::string* key, const IndexedUnder& at);    // requires unique mu_
  void unindexLocked(const std::string* key, const IndexedUnder& at);  // requires unique mu_
  std::vector<ObjectPtr> objectsLocked(const Index& idx, const std::string& value) const;  // requires mu_

  const bool compact_;
  const Indexers indexers_;
  // The preset dictionary: set by the first store() (the informer's thread, the only writer).
  mutable std::shared_ptr<const std::vector<std::uint8_t>> dict_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Stored> objects_;  // guarded by mu_
  Index byNamespace_;                     // guarded by mu_
  Index byOwner_;                         // controller uid → keys; guarded by mu_
  Index byCustom_;                        // "<index>\x1f<value>" → keys; guarded by mu_
};

}  // namespace mysqlop::runtime
