#include "common/runtime/secrets.h"

#include "common/kube/resource.h"
#include "common/runtime/informer.h"

namespace mysqlop::runtime {

std::function<void(Json&)> secretTransform(std::set<std::string> keep) {
  return [keep = std::move(keep)](Json& s) {
    stripManagedFields(s);
    if (auto m = s.find("metadata"); m != s.end() && m->is_object()) {
      if (auto a = m->find("annotations"); a != m->end() && a->is_object()) {
        a->erase("kubectl.kubernetes.io/last-applied-configuration");
      }
    }
    for (const char* field : {"data", "stringData"}) {
      auto d = s.find(field);
      if (d == s.end() || !d->is_object()) continue;
      for (auto it = d->begin(); it != d->end();) {
        if (keep.count(it.key())) {
          ++it;
        } else {
          it = d->erase(it);
        }
      }
    }
  };
}

NamedSecrets::NamedSecrets(client::RestClient& cli, const ObjectCache& labelled, std::function<void(Json&)> transform)
    : cli_(cli), labelled_(labelled), transform_(std::move(transform)) {}

core::Result<ObjectPtr> NamedSecrets::fetch(const std::string& ns, const std::string& name) {
  if (auto s = labelled_.get(ns, name)) return s;
  auto got = cli_.get(kube::kSecrets, ns, name);
  const std::string key = objectKey(ns, name);
  if (!got && got.error().is(core::ErrorCode::kNotFound)) {
    forget(ns, name);
    return ObjectPtr{};
  }
  if (!got) return got.error();
  Json obj = std::move(*got);
  if (transform_) transform_(obj);
  auto ptr = std::make_shared<const Json>(std::move(obj));
  std::lock_guard l(mu_);
  fetched_[key] = ptr;
  return ptr;
}

ObjectPtr NamedSecrets::peek(const std::string& ns, const std::string& name) const {
  if (auto s = labelled_.get(ns, name)) return s;
  std::lock_guard l(mu_);
  auto it = fetched_.find(objectKey(ns, name));
  return it == fetched_.end() ? nullptr : it->second;
}

void NamedSecrets::forget(const std::string& ns, const std::string& name) {
  std::lock_guard l(mu_);
  fetched_.erase(objectKey(ns, name));
}

}  // namespace mysqlop::runtime
