#include "e2e/sandbox/apiserver/object_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace mysqlop::sandbox {
namespace {

std::string str(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto it = m->find(field);
  return it != m->end() && it->is_string() ? it->get<std::string>() : "";
}

core::Error expired(int64_t rv, int64_t oldest) {
  core::Error e(core::ErrorCode::kGone,
                fmt::format("too old resource version: {} ({})", rv, oldest));
  e.reason = "Expired";
  e.httpStatus = 410;
  return e;
}

}  // namespace

ObjectStore::ObjectStore(size_t historyLimit, std::chrono::seconds historyAge)
    : historyLimit_(historyLimit), historyAge_(historyAge) {}

ObjectStore::Txn::~Txn() {
  if (!store_ || wrote_.empty()) return;
  for (const auto& kind : wrote_) store_->waitersOf(kind).notify_all();
  store_->waitersOf("").notify_all();
}

std::condition_variable& ObjectStore::waitersOf(const std::string& resource) const { return waiters_[resource]; }

void ObjectStore::wakeEveryWaiter() const {
  for (auto& [kind, cv] : waiters_) cv.notify_all();
}

ObjPtr ObjectStore::Txn::get(const std::string& resource, const std::string& ns,
                             const std::string& name) const {
  auto r = store_->objects_.find(resource);
  if (r == store_->objects_.end()) return nullptr;
  auto it = r->second.find(Key{ns, name});
  return it == r->second.end() ? nullptr : it->second;
}

std::vector<ObjPtr> ObjectStore::Txn::list(const std::string& resource, const std::string& ns) const {
  std::vector<ObjPtr> out;
  auto r = store_->objects_.find(resource);
  if (r == store_->objects_.end()) return out;
  auto it = ns.empty() ? r->second.begin() : r->second.lower_bound(Key{ns, ""});
  for (; it != r->second.end(); ++it) {
    if (!ns.empty() && it->first.ns != ns) break;
    out.push_back(it->second);
  }
  return out;
}

std::pair<std::string, ObjPtr> ObjectStore::Txn::byUid(const std::string& uid) const {
  auto it = store_->uids_.find(uid);
  if (it == store_->uids_.end()) return {"", nullptr};
  return {it->second.first, get(it->second.first, it->second.second.ns, it->second.second.name)};
}

std::vector<std::string> ObjectStore::Txn::resources() const {
  std::vector<std::string> out;
  for (const auto& [k, m] : store_->objects_) {
    if (!m.empty()) out.push_back(k);
  }
  return out;
}

ObjPtr ObjectStore::Txn::put(const std::string& resource, Json obj) {
  ObjectStore& s = *store_;
  int64_t rv = ++s.rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  Key key{str(obj, "namespace"), str(obj, "name")};
  auto stored = std::make_shared<const Json>(std::move(obj));
  auto& slot = s.objects_[resource][key];
  ObjPtr previous = slot;
  slot = stored;
  std::string uid = str(*stored, "uid");
  if (!uid.empty()) s.uids_[uid] = {resource, key};
  s.record({rv, resource, previous ? ChangeType::kModified : ChangeType::kAdded, stored, previous});
  wrote(resource);
  return stored;
}

ObjPtr ObjectStore::Txn::remove(const std::string& resource, const std::string& ns,
                                const std::string& name) {
  ObjectStore& s = *store_;
  auto r = s.objects_.find(resource);
  if (r == s.objects_.end()) return nullptr;
  auto it = r->second.find(Key{ns, name});
  if (it == r->second.end()) return nullptr;
  ObjPtr previous = it->second;
  r->second.erase(it);
  s.uids_.erase(str(*previous, "uid"));
  int64_t rv = ++s.rv_;
  Json last = *previous;
  last["metadata"]["resourceVersion"] = std::to_string(rv);
  auto stamped = std::make_shared<const Json>(std::move(last));
  s.record({rv, resource, ChangeType::kDeleted, stamped, previous});
  wrote(resource);
  return stamped;
}

int64_t ObjectStore::Txn::rv() const { return store_->rv_; }

void ObjectStore::Txn::wrote(const std::string& resource) {
  if (std::find(wrote_.begin(), wrote_.end(), resource) == wrote_.end()) wrote_.push_back(resource);
}

void ObjectStore::record(Change c) {
  c.at = std::chrono::steady_clock::now();
  const auto oldest = c.at - historyAge_;
  history_.push_back(std::move(c));
  while (history_.size() > historyLimit_ || history_.front().at < oldest) {
    compactedRv_ = history_.front().rv;
    history_.pop_front();
  }
}

int64_t ObjectStore::currentRv() const {
  std::lock_guard lock(mu_);
  return rv_;
}

core::Result<std::vector<ObjPtr>> ObjectStore::listAt(const std::string& resource,
                                                      const std::string& ns, int64_t rv) const {
  std::lock_guard lock(mu_);
  if (rv > rv_) {
    core::Error e(core::ErrorCode::kTimeout,
                  fmt::format("Too large resource version: {}, current: {}", rv, rv_));
    e.reason = "Timeout";
    return e;
  }
  if (rv < compactedRv_) return expired(rv, compactedRv_ + 1);
  std::map<Key, ObjPtr> snap;
  if (auto r = objects_.find(resource); r != objects_.end()) {
    for (const auto& [k, v] : r->second) {
      if (ns.empty() || k.ns == ns) snap[k] = v;
    }
  }
  for (auto it = history_.rbegin(); it != history_.rend() && it->rv > rv; ++it) {
    if (it->resource != resource) continue;
    const Json& o = it->previous ? *it->previous : *it->object;
    Key k{str(o, "namespace"), str(o, "name")};
    if (!ns.empty() && k.ns != ns) continue;
    if (it->type == ChangeType::kAdded) {
      snap.erase(k);
    } else {
      snap[k] = it->previous;
    }
  }
  std::vector<ObjPtr> out;
  out.reserve(snap.size());
  for (auto& [k, v] : snap) out.push_back(std::move(v));
  return out;
}

core::Result<std::vector<Change>> ObjectStore::changesSince(int64_t afterRv,
                                                            const std::string& resource,
                                                            std::chrono::milliseconds wait,
                                                            uint64_t epoch, bool& ended,
                                                            int64_t* scanned) const {
  std::unique_lock lock(mu_);
  ended = epoch_ != epoch;  // once dropWatches() returns, old watches deliver nothing more
  if (ended) return std::vector<Change>{};
  auto collect = [&]() -> core::Result<std::vector<Change>> {
    if (afterRv < compactedRv_) return expired(afterRv, compactedRv_ + 1);
    std::vector<Change> out;
    auto first = std::upper_bound(history_.begin(), history_.end(), afterRv,
                                  [](int64_t v, const Change& c) { return v < c.rv; });
    for (auto it = first; it != history_.end(); ++it) {
      if (resource.empty() || it->resource == resource) out.push_back(*it);
    }
    if (scanned) *scanned = std::max(afterRv, rv_);
    return out;
  };
  auto got = collect();
  if (!got || !got->empty() || wait.count() <= 0) return got;
  int64_t seen = rv_;
  waitersOf(resource).wait_for(lock, wait, [&] { return rv_ != seen || epoch_ != epoch; });
  if (epoch_ != epoch) {
    ended = true;
    return std::vector<Change>{};
  }
  return collect();
}

uint64_t ObjectStore::watchEpoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

void ObjectStore::compact() {
  std::lock_guard lock(mu_);
  history_.clear();
  compactedRv_ = rv_;
}

void ObjectStore::dropWatches() {
  std::lock_guard lock(mu_);
  ++epoch_;
  wakeEveryWaiter();
}

void ObjectStore::setHistoryLimit(size_t n) {
  std::lock_guard lock(mu_);
  historyLimit_ = std::max<size_t>(n, 1);
  while (history_.size() > historyLimit_) {
    compactedRv_ = history_.front().rv;
    history_.pop_front();
  }
}

void ObjectStore::clear() {
  std::lock_guard lock(mu_);
  objects_.clear();
  uids_.clear();
  history_.clear();
  compactedRv_ = rv_;
  ++epoch_;
  wakeEveryWaiter();
}

void ObjectStore::wakeAll() {
  std::lock_guard lock(mu_);
  ++epoch_;
  wakeEveryWaiter();
}

}  // namespace mysqlop::sandbox
