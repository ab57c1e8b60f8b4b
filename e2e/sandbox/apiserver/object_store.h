#pragma once
// The sandbox apiserver's storage: every object of every kind in memory, one global
// resourceVersion (like an etcd revision), and a bounded history of changes that serves
// watches (exact resume from any retained RV), consistent paginated lists (a snapshot at the
// first page's RV is rebuilt from history) and `resourceVersionMatch=Exact`.
//
// All reads and writes go through a `Txn`, which holds the store's one mutex; a committed
// write wakes the watchers. Objects are immutable once stored (shared_ptr<const Json>).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::sandbox {

using Json = nlohmann::json;
using ObjPtr = std::shared_ptr<const Json>;

enum class ChangeType { kAdded, kModified, kDeleted };

struct Change {
  int64_t rv = 0;
  std::string resource;  // ResourceInfo::key()
  ChangeType type = ChangeType::kAdded;
  ObjPtr object;    // the new state; for a deletion the last state, stamped with the deletion RV
  ObjPtr previous;  // the state before (null when added)
  std::chrono::steady_clock::time_point at{};  // when it was recorded
};

class ObjectStore {
 public:
  explicit ObjectStore(size_t historyLimit = 200000, std::chrono::seconds historyAge = std::chrono::seconds(300));

  class Txn {
   public:
    ObjPtr get(const std::string& resource, const std::string& ns, const std::string& name) const;
    // Current objects of a kind, ordered by (namespace, name); ns "" = every namespace.
    std::vector<ObjPtr> list(const std::string& resource, const std::string& ns) const;
    // Any object by uid, with its kind's key.
    std::pair<std::string, ObjPtr> byUid(const std::string& uid) const;
    // Kinds that currently hold objects.
    std::vector<std::string> resources() const;
    // Stores `obj` under a new resourceVersion (written into its metadata); ADDED when new.
    ObjPtr put(const std::string& resource, Json obj);
    // Removes the object; returns its last state stamped with the deletion RV (null if absent).
    ObjPtr remove(const std::string& resource, const std::string& ns, const std::string& name);
    int64_t rv() const;

    Txn(Txn&&) = default;
    ~Txn();

   private:
    friend class ObjectStore;
    Txn(ObjectStore& s) : store_(&s), lock_(s.mu_) {}
    ObjectStore* store_;
    std::unique_lock<std::mutex> lock_;
    void wrote(const std::string& resource);  // noted for the wake-up at the end
    std::vector<std::string> wrote_;  // the kinds written: their watchers are woken at the end
  };

  Txn begin() { return Txn(*this); }

  int64_t currentRv() const;
  // The objects of a kind as they were at `rv` (Gone when history no longer reaches back).
  core::Result<std::vector<ObjPtr>> listAt(const std::string& resource, const std::string& ns,
                                           int64_t rv) const;

  // Changes with RV > `afterRv` (of `resource`, or every kind when empty), waiting up to `wait`
  // for the first one. Gone when `afterRv` is older than the retained history. `ended` is set
  // when dropWatches() was called after `epoch` was read. `scanned`, when given, is set to the
  // RV the answer is complete through (the store's RV then): a watcher resumes from there, so it
  // neither scans other kinds' changes again nor falls behind the history while its kind is quiet.
  core::Result<std::vector<Change>> changesSince(int64_t afterRv, const std::string& resource,
                                                 std::chrono::milliseconds wait, uint64_t epoch,
                                                 bool& ended, int64_t* scanned = nullptr) const;
  uint64_t watchEpoch() const;

  // Test hooks.
  void compact();      // forget all history: older RVs now get 410
  void dropWatches();  // end every open watch
  void setHistoryLimit(size_t n);
  void clear();        // remove every object (history is compacted; RV keeps counting)
  // Wakes every waiter (shutdown).
  void wakeAll();

 private:
  struct Key {
    std::string ns;
    std::string name;
    auto operator<=>(const Key&) const = default;
  };
  void record(Change c);  // requires mu_
  // Watchers wait on their kind's condition ("" for those of every kind), so that a write wakes
  // the few threads watching its kind rather than all of them.
  std::condition_variable& waitersOf(const std::string& resource) const;  // requires mu_
  void wakeEveryWaiter() const;                                             // requires mu_

  mutable std::mutex mu_;
  mutable std::map<std::string, std::condition_variable> waiters_;  // by kind; guarded by mu_
  int64_t rv_ = 0;                                          // guarded by mu_
  std::map<std::string, std::map<Key, ObjPtr>> objects_;    // guarded by mu_
  std::unordered_map<std::string, std::pair<std::string, Key>> uids_;  // guarded by mu_
  std::deque<Change> history_;                              // guarded by mu_, ordered by rv
  int64_t compactedRv_ = 0;  // changes at or below this RV are forgotten; guarded by mu_
  size_t historyLimit_;      // guarded by mu_
  std::chrono::seconds historyAge_;
  uint64_t epoch_ = 0;       // guarded by mu_
};

}  // namespace mysqlop::sandbox
