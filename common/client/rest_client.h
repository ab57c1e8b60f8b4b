#pragma once
// The Kubernetes REST verbs over a Transport: get, list (one page, or every page), create,
// update, update status, patch (merge, JSON, strategic, server-side apply), delete and watch.
// Every non-2xx answer becomes an Error (status_error.h); a per-request hook sees every call
// (verb, resource, code, latency) for metrics. Operators use this, never HTTP.
//
//   auto cli = RestClient::create(*loadConfig(flag));
//   auto secret = (*cli)->get(kube::kSecrets, "demo", "my-auth");
//   if (!secret && secret.error().is(core::ErrorCode::kNotFound)) ...
//
// Thread-safe; watch() blocks its caller until the stream ends or is stopped.

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/client/config.h"
#include "common/client/transport.h"
#include "common/core/result.h"
#include "common/kube/request.h"
#include "common/kube/resource.h"
#include "common/kube/watch_event.h"

namespace mysqlop::client {

using Json = nlohmann::json;

// What the per-request hook is told about each call.
struct RequestRecord {
  std::string verb;      // get, list, watch, create, update, patch, delete
  std::string method;    // GET, POST, ...
  std::string resource;  // "secrets", "statefulsets.apps", "mysqls.kubedb.com/status"
  // The HTTP status as text ("200", "404"), or "<error>" when no answer came (client-go's label).
  std::string code;
  std::chrono::nanoseconds latency{0};
};
using RequestHook = std::function<void(const RequestRecord&)>;

struct ClientOptions {
  TransportOptions transport;
  // Watches ask the server to end after this long (client-go picks 5–10 min); the client's read
  // deadline is this plus 5 s, so a silent server is noticed.
  std::chrono::seconds watchTimeout{300};
};

class RestClient {
 public:
  static core::Result<std::unique_ptr<RestClient>> create(const RestConfig& cfg,
                                                          ClientOptions opts = {});
  explicit RestClient(std::unique_ptr<Transport> transport, ClientOptions opts = {});

  // Replaces the hook (not meant to race with requests: set it before use).
  void setRequestHook(RequestHook hook) { hook_ = std::move(hook); }

  core::Result<Json> get(const kube::ResourceType& rt, std::string_view ns, std::string_view name,
                         std::stop_token stop = {});
  // One page, as the server answers it (a <Kind>List).
  core::Result<Json> list(const kube::ResourceType& rt, std::string_view ns,
                          const kube::ListOptions& o = {}, std::stop_token stop = {});
  // Every page (`limit` defaults to 500), items concatenated into one list whose
  // metadata.resourceVersion is the snapshot's. An expired continue token is Gone.
  core::Result<Json> listAll(const kube::ResourceType& rt, std::string_view ns,
                             kube::ListOptions o = {}, std::stop_token stop = {});
  core::Result<Json> create(const kube::ResourceType& rt, std::string_view ns, const Json& obj,
                            const kube::WriteOptions& o = {});
  // PUT with the object's resourceVersion (stale → Conflict).
  core::Result<Json> update(const kube::ResourceType& rt, const Json& obj,
                            const kube::WriteOptions& o = {});
  core::Result<Json> updateStatus(const kube::ResourceType& rt, const Json& obj,
                                  const kube::WriteOptions& o = {});
  core::Result<Json> patch(const kube::ResourceType& rt, std::string_view ns, std::string_view name,
                           kube::PatchType type, const Json& patch,
                           const kube::PatchOptions& o = {}, std::string_view subresource = {});
  // Server-side apply of `obj` (its own namespace and name) as `fieldManager`.
  core::Result<Json> apply(const kube::ResourceType& rt, const Json& obj,
                           std::string_view fieldManager, bool force = false,
                           std::string_view subresource = {});
  // The server's answer: the deleted object, the object now marked for deletion, or a Status.
  core::Result<Json> remove(const kube::ResourceType& rt, std::string_view ns,
                            std::string_view name, const kube::DeleteOptions& o = {});

  // Streams events to `onEvent` until the server ends the stream (ok), `onEvent` returns false
  // (ok), `stop` fires (Unavailable, reason "Canceled"), or something fails: an ERROR event
  // becomes its Error (e.g. Gone for a too-old resourceVersion), a broken line is Invalid, a
  // silent server past the read deadline is Timeout. `o.timeoutSeconds` 0 → watchTimeout.
  core::Status watch(const kube::ResourceType& rt, std::string_view ns, kube::ListOptions o,
                     const std::function<bool(kube::WatchEvent&&)>& onEvent,
                     std::stop_token stop = {});

  // Sends a prepared request; a 2xx JSON body is returned parsed.
  core::Result<Json> execute(const kube::ApiRequest& req, std::stop_token stop = {});

  Transport& transport() { return *transport_; }

 private:
  void record(const kube::ApiRequest& req, std::string code, std::chrono::nanoseconds latency);

  std::unique_ptr<Transport> transport_;
  ClientOptions opts_;
  RequestHook hook_;
};

}  // namespace mysqlop::client
