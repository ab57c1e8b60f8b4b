#pragma once
// Write helpers that keep a converged object free of writes:
//  - createOrUpdate: creates the object, or merges what the controller owns into the cached one
//    and updates it (with the cached resourceVersion: a 409 comes back as Conflict, to requeue)
//    only when that changes anything;
//  - ensureOwned: createOrUpdate of an object the owner controls — one that someone else owns
//    is refused, and a create racing our own earlier create (the cache lags) is a Conflict to
//    requeue, handled here once for every controller;
//  - updateStatus: mutates the latest object's status and writes it only on a change,
//    re-reading and retrying on 409 (a controller owns only its own conditions);
//  - writeStatus / writeConditions: the same, decided first on the cached object so that a
//    converged object costs no request at all; they say whether they wrote, so a caller emits
//    an Event only on a change;
//  - ensureFinalizer / dropFinalizer;
//  - writeOwnerReferences: `obj`'s ownerReferences as they are now, as a merge patch guarded by
//    its resourceVersion — never a whole-object update, so a copy from a trimmed cache (a Secret
//    without the data we do not read) loses nothing on the server.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/kube/conditions.h"
#include "common/runtime/cache.h"

namespace mysqlop::runtime {

enum class WriteOutcome { kUnchanged, kCreated, kUpdated };

// What `desired` says wins: metadata labels and annotations are merged key by key,
// ownerReferences are added, other metadata is left alone; every other top-level field is
// merged recursively (objects key by key, arrays and scalars replaced).
Json mergeDesired(const Json& live, const Json& desired);

// Whether `live` already says everything `desired` says: objects key by key (extra keys in
// `live` — fields the API server defaulted — are fine), arrays element by element with the
// same length, scalars equal. This is the "converged" test: no write when it holds.
bool satisfies(const Json& live, const Json& desired);

// Whether an update of `cached` with `desired` would change nothing (mergeDesired, then
// satisfies: server defaults included); a missing object never is. What createOrUpdate decides
// on, and what a plan asks before it counts a write.
bool converged(const ObjectPtr& cached, const Json& desired);

core::Result<WriteOutcome> createOrUpdate(client::RestClient& cli, const kube::ResourceType& rt,
                                          const ObjectPtr& cached, const Json& desired);

// `desired` carries a controller ownerReference to the object whose uid is `ownerUid`
// (`owner` names it in messages, e.g. "MySQL demo/my"). A cached object that reference does not
// control is AlreadyExists ("… already exists and is not controlled by …"): it is never adopted
// or changed. A create answered AlreadyExists while the cache has nothing is Conflict.
core::Result<WriteOutcome> ensureOwned(client::RestClient& cli, const kube::ResourceType& rt,
                                       const ObjectPtr& cached, const Json& desired,
                                       std::string_view ownerUid, std::string_view owner);

// Conditions to set and to remove, as one change to `status.conditions`.
struct ConditionChange {
  std::vector<kube::Condition> set;
  std::vector<std::string> remove;
  // Applies the change to a status object; true when anything a reader could see changed.
  bool applyTo(Json& status, core::WallTime now) const;
};

// `mutate` changes a status object in place. Applied to the cached object's status first: no
// change, no request. Otherwise applied to the latest object and written (updateStatus).
// Returns whether the status was written.
core::Result<bool> writeStatus(client::RestClient& cli, const kube::ResourceType& rt, const Json& cached,
                               const std::function<void(Json& status)>& mutate);
core::Result<bool> writeConditions(client::RestClient& cli, const kube::ResourceType& rt,
                                   const Json& cached, const ConditionChange& change, core::WallTime now);

// `mutate` changes the object's status in place and returns whether it changed anything.
core::Result<bool> updateStatus(client::RestClient& cli, const kube::ResourceType& rt,
                                const std::string& ns, const std::string& name,
                                const std::function<bool(Json&)>& mutate, int attempts = 5);

core::Result<bool> ensureFinalizer(client::RestClient& cli, const kube::ResourceType& rt,
                                   const Json& cached, const std::string& finalizer);
core::Result<Json> writeOwnerReferences(client::RestClient& cli, const kube::ResourceType& rt, const Json& obj);

core::Result<bool> dropFinalizer(client::RestClient& cli, const kube::ResourceType& rt,
                                 const Json& cached, const std::string& finalizer);

}  // namespace mysqlop::runtime
