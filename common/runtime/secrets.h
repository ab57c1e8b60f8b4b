#pragma once
// Secrets, cached small (issue 18). A cluster holds many Secrets an operator has no business
// with (Helm keeps every release in one, ~50 KB each): the operators' Secret informers select
// their own by label, and keep of each only the data keys they read. The few Secrets a user
// names and we did not make (spec.authSecret.name) carry no label of ours: `NamedSecrets` reads
// them with a GET when a reconcile needs them and keeps the trimmed copy for readers that must
// not call the API (the health checker).
//
//   InformerOptions{.labelSelector = owned, .transform = secretTransform({"username", "password"})}
//   NamedSecrets named(cli, informer.cache(), secretTransform({...}));
//   auto s = named.fetch(ns, name);   // reconcile: the labelled cache, else GET (null: none)
//   auto p = named.peek(ns, name);    // anyone: the labelled cache, else the last fetched copy

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "common/client/rest_client.h"
#include "common/core/result.h"
#include "common/runtime/cache.h"

namespace mysqlop::runtime {

// A transform for Secret informers: managedFields and kubectl's last-applied annotation go, and
// of `data` (and `stringData`) only the keys in `keep` stay.
std::function<void(Json&)> secretTransform(std::set<std::string> keep);

class NamedSecrets {
 public:
  NamedSecrets(client::RestClient& cli, const ObjectCache& labelled, std::function<void(Json&)> transform);

  // The labelled cache's copy, else a GET (kept, transformed); null when the Secret does not exist.
  core::Result<ObjectPtr> fetch(const std::string& ns, const std::string& name);
  // The labelled cache's copy, else the last fetched one; never a request.
  ObjectPtr peek(const std::string& ns, const std::string& name) const;
  // Drops the fetched copy (its referrer is gone).
  void forget(const std::string& ns, const std::string& name);

 private:
  client::RestClient& cli_;
  const ObjectCache& labelled_;
  std::function<void(Json&)> transform_;
  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr> fetched_;  // guarded by mu_
};

}  // namespace mysqlop::runtime
