#include "common/runtime/informer.h"

#include "common/kube/object.h"

namespace mysqlop::runtime {

Informer::Informer(client::RestClient& cli, kube::ResourceType type, InformerOptions opts,
                   core::Logger log)
    : cli_(cli),
      type_(std::move(type)),
      opts_(std::move(opts)),
      log_(log.with("informer", type_.qualifiedResource())),
      cache_(opts_.compact, opts_.indexers),
      reflector_(opts_.reflector, core::systemClock()) {}

Informer::~Informer() { stop(); }

void Informer::addHandler(EventHandler h) { handlers_.push_back(std::move(h)); }

void Informer::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

void Informer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  waitCv_.notify_all();
  thread_.join();
  syncCv_.notify_all();
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(syncMu_);
  return syncCv_.wait_for(lock, timeout, [&] { return synced_.load(); });
}

void Informer::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Reflector::Step step = reflector_.next();
    switch (step.action) {
      case Reflector::Action::kWait: {
        std::unique_lock lock(waitMu_);
        waitCv_.wait_for(lock, stop, step.wait, [] { return false; });
        reflector_.waited();
        break;
      }
      case Reflector::Action::kList:
        listAll(stop);
        break;
      case Reflector::Action::kWatch:
        watchOnce(step, stop);
        break;
    }
  }
}

bool Informer::listAll(std::stop_token stop) {
  kube::ListOptions o{.labelSelector = opts_.labelSelector, .fieldSelector = opts_.fieldSelector,
                      .limit = opts_.pageSize};
  ObjectCache::Staged staged(cache_);  // stored as each page arrives: never a whole list parsed
  std::string rv;
  while (true) {
    std::unique_lock<std::mutex> gate;
    if (opts_.listGate) gate = std::unique_lock(*opts_.listGate);
    auto page = cli_.list(type_, opts_.namespace_, o, stop);
    if (!page) {
      if (!stop.stop_requested()) {
        if (page.error().is(core::ErrorCode::kNotFound)) {
          log_.warn("the API server does not serve this resource (is its CRD installed?); retrying",
                    {{"resource", type_.qualifiedResource()}});
        } else {
          log_.warn("list failed", {{"error", page.error().toString()}});
        }
        reflector_.listFailed(page.error());
      }
      return false;
    }
    if (rv.empty()) rv = (*page)["metadata"].value("resourceVersion", "");
    for (auto& item : (*page)["items"]) {
      // List items carry no kind; watch events do. Make cached objects look the same.
      item["apiVersion"] = type_.apiVersion();
      item["kind"] = type_.kind;
      if (opts_.transform) opts_.transform(item);
      staged.add(std::make_shared<const Json>(std::move(item)));
    }
    std::string next = (*page)["metadata"].value("continue", "");
    if (next.empty()) break;
    o.continueToken = next;
  }
  // Adds and updates for what is listed anew, deletes for what vanished; one object parsed at a time.
  auto relisted = cache_.replace(std::move(staged));
  for (const auto& c : relisted.changed) {
    ObjectPtr obj = c.current.object(), old = c.previous ? c.previous->object() : nullptr;
    for (const auto& h : handlers_) {
      if (old && h.onUpdate) h.onUpdate(old, obj);
      if (!old && h.onAdd) h.onAdd(obj);
    }
  }
  for (const auto& v : relisted.vanished) {
    ObjectPtr gone = v.object();
    for (const auto& h : handlers_) {
      if (h.onDelete) h.onDelete(gone);
    }
  }
  reflector_.listed(rv);
  if (!synced_.exchange(true)) {
    std::lock_guard lock(syncMu_);
    syncCv_.notify_all();
    log_.debug("synced", {{"objects", cache_.size()}, {"resourceVersion", rv}});
  }
  return true;
}

void stripManagedFields(Json& obj) {
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object()) m->erase("managedFields");
}

void Informer::apply(kube::WatchEvent&& ev) {
  std::string rv = kube::resourceVersion(ev.object);
  if (ev.type == kube::WatchEventType::kBookmark) {
    reflector_.observed(rv);
    return;
  }
  if (opts_.transform) opts_.transform(ev.object);
  auto obj = std::make_shared<const Json>(std::move(ev.object));
  if (ev.type == kube::WatchEventType::kDeleted) {
    cache_.remove(objectKey(*obj));
    for (const auto& h : handlers_) {
      if (h.onDelete) h.onDelete(obj);  // the last state, stamped with the deletion RV
    }
  } else {
    ObjectPtr old = cache_.upsert(obj);
    for (const auto& h : handlers_) {
      if (old && h.onUpdate) h.onUpdate(old, obj);
      if (!old && h.onAdd) h.onAdd(obj);
    }
  }
  reflector_.observed(rv);
}

void Informer::watchOnce(const Reflector::Step& step, std::stop_token stop) {
  kube::ListOptions o{.labelSelector = opts_.labelSelector, .fieldSelector = opts_.fieldSelector,
                      .resourceVersion = step.resourceVersion, .timeoutSeconds = step.timeoutSeconds,
                      .allowWatchBookmarks = true};
  auto st = cli_.watch(type_, opts_.namespace_, o,
                       [&](kube::WatchEvent&& ev) {
                         apply(std::move(ev));
                         return !stop.stop_requested();
                       },
                       stop);
  if (stop.stop_requested()) return;
  if (!st) {
    if (st.error().is(core::ErrorCode::kGone)) {
      log_.info("watch history expired; relisting", {{"resourceVersion", step.resourceVersion}});
    } else {
      log_.warn("watch failed", {{"error", st.error().toString()}});
    }
  }
  reflector_.watchEnded(st);
}

}  // namespace mysqlop::runtime
