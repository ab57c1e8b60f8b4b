#pragma once
// Write helpers that keep a converged object free of writes:
//  - createOrUpdate: creates the object, or merges what the controller owns into the cached one
//    and updates it (with the cached resourceVersion: a 409 comes back as Conflict, to requeue)
//    only when that changes anything;
//  - updateStatus: mutates the latest object's status and writes it only on a change,
//    re-reading and retrying on 409 (a controller owns only its own conditions);
//  - ensureFinalizer / dropFinalizer.

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/client/rest_client.h"
#include "common/core/result.h"
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

core::Result<WriteOutcome> createOrUpdate(client::RestClient& cli, const kube::ResourceType& rt,
                                          const ObjectPtr& cached, const Json& desired);

// `mutate` changes the object's status in place and returns whether it changed anything.
core::Result<bool> updateStatus(client::RestClient& cli, const kube::ResourceType& rt,
                                const std::string& ns, const std::string& name,
                                const std::function<bool(Json&)>& mutate, int attempts = 5);

core::Result<bool> ensureFinalizer(client::RestClient& cli, const kube::ResourceType& rt,
                                   const Json& cached, const std::string& finalizer);
core::Result<bool> dropFinalizer(client::RestClient& cli, const kube::ResourceType& rt,
                                 const Json& cached, const std::string& finalizer);

}  // namespace mysqlop::runtime
