#pragma once
// An informer: keeps an ObjectCache of one kind (optionally one namespace, label or field
// selector) in step with the API server and tells handlers what changed. It drives the
// Reflector state machine on its own thread: a paginated list (pages of 100), then watches with
// bookmarks from the last seen resourceVersion, a relist on 410 (objects that vanished meanwhile
// are reported deleted), backoff on failures. The client's read deadline is the watch timeout
// plus 5 s (RestClient), so a silent server is noticed.
//
// Handlers run on the informer's thread, in order; they should be quick (enqueue a key).
// start()/stop() from one thread; cache(), synced() and waitForSync() from any.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/client/rest_client.h"
#include "common/core/log.h"
#include "common/kube/resource.h"
#include "common/runtime/cache.h"
#include "common/runtime/reflector.h"

namespace mysqlop::runtime {

struct EventHandler {
  std::function<void(const ObjectPtr&)> onAdd;
  std::function<void(const ObjectPtr& oldObj, const ObjectPtr& newObj)> onUpdate;
  std::function<void(const ObjectPtr&)> onDelete;
};

// The default transform: metadata.managedFields removed.
void stripManagedFields(Json& obj);

struct InformerOptions {
  std::string namespace_;  // "" = all namespaces
  std::string labelSelector;
  std::string fieldSelector;
  // Objects per list page. A page is held parsed whole before its objects are stored, and a
  // Secret page still carries every key (the transform comes after): 500 of them (client-go's
  // default) peaked at 17 MB in a restarted operator; 100 at a fifth of that (issue 18).
  int64_t pageSize = 100;
  // Informers given the same gate fetch and store their list pages one at a time, so that a
  // restarted operator holds one page parsed, not one per kind at once (the Manager gives its
  // informers one gate; issue 18: a restart at 1,000 databases peaked 6 MiB above the run).
  std::shared_ptr<std::mutex> listGate;
  ReflectorOptions reflector;
  // Applied to every object before it is cached (client-go's SetTransform): drop what the
  // operator never reads, so that the cache costs less. Default: metadata.managedFields goes
  // (an update sent without it keeps the server's; the operators never read it).
  std::function<void(Json&)> transform = stripManagedFields;
  // Keep the objects serialized, parsed when read (ObjectCache's compact mode).
  bool compact = false;
  Indexers indexers;  // the cache's named indexes
};

class Informer {
 public:
  Informer(client::RestClient& cli, kube::ResourceType type, InformerOptions opts = {},
           core::Logger log = core::Logger::root());
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers added before start() see every object from the first list as an add.
  void addHandler(EventHandler h);
  void start();
  void stop();

  const kube::ResourceType& type() const { return type_; }
  const ObjectCache& cache() const { return cache_; }
  bool synced() const { return synced_.load(); }
  // Waits until the first list has been applied; false on timeout or stop.
  bool waitForSync(std::chrono::milliseconds timeout);

 private:
  void run(std::stop_token stop);
  bool listAll(std::stop_token stop);
  void watchOnce(const Reflector::Step& step, std::stop_token stop);
  void apply(kube::WatchEvent&& ev);

  client::RestClient& cli_;
  kube::ResourceType type_;
  InformerOptions opts_;
  core::Logger log_;
  ObjectCache cache_;
  Reflector reflector_;
  std::vector<EventHandler> handlers_;  // fixed after start()
  std::atomic<bool> synced_{false};
  std::mutex syncMu_;
  std::condition_variable syncCv_;
  std::mutex waitMu_;
  std::condition_variable_any waitCv_;
  std::jthread thread_;
};

}  // namespace mysqlop::runtime
