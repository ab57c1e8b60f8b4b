#include "common/client/rest_client.h"

#include <fmt/format.h>

#include "common/client/status_error.h"
#include "common/kube/object.h"

namespace mysqlop::client {

core::Result<std::unique_ptr<RestClient>> RestClient::create(const RestConfig& cfg,
                                                             ClientOptions opts) {
  auto t = Transport::create(cfg, opts.transport);
  if (!t) return t.error();
  return std::make_unique<RestClient>(std::move(*t), opts);
}

RestClient::RestClient(std::unique_ptr<Transport> transport, ClientOptions opts)
    : transport_(std::move(transport)), opts_(std::move(opts)) {}

void RestClient::record(const kube::ApiRequest& req, std::string code,
                        std::chrono::nanoseconds latency) {
  if (hook_) hook_({req.verb, req.method, req.resource, std::move(code), latency});
}

core::Result<Json> RestClient::execute(const kube::ApiRequest& req, std::stop_token stop) {
  const core::Clock& clock = *opts_.transport.clock;
  auto start = clock.monotonic();
  auto res = transport_->send(req, stop);
  auto latency = clock.monotonic() - start;
  if (!res) {
    record(req, "<error>", latency);
    return res.error();
  }
  record(req, std::to_string(res->status), latency);
  if (res->status < 200 || res->status > 299) {
    return errorFromResponse(res->status, res->body, res->header("Retry-After"));
  }
  auto j = Json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return core::internal(fmt::format("{} {}: the server answered {} with a body that is not JSON",
                                      req.method, req.path, res->status));
  }
  return j;
}

core::Result<Json> RestClient::get(const kube::ResourceType& rt, std::string_view ns,
                                   std::string_view name, std::stop_token stop) {
  return execute(kube::getRequest(rt, ns, name), stop);
}

core::Result<Json> RestClient::list(const kube::ResourceType& rt, std::string_view ns,
                                    const kube::ListOptions& o, std::stop_token stop) {
  return execute(kube::listRequest(rt, ns, o), stop);
}

core::Result<Json> RestClient::listAll(const kube::ResourceType& rt, std::string_view ns,
                                       kube::ListOptions o, std::stop_token stop) {
  if (o.limit <= 0) o.limit = 500;
  Json all;
  while (true) {
    auto page = list(rt, ns, o, stop);
    if (!page) return page.error();
    std::string next;
    if (auto m = page->find("metadata"); m != page->end() && m->is_object()) {
      next = m->value("continue", "");
    }
    if (all.is_null()) {
      all = std::move(*page);
      if (!all.contains("items") || !all["items"].is_array()) all["items"] = Json::array();
    } else if (auto items = page->find("items"); items != page->end() && items->is_array()) {
      for (auto& it : *items) all["items"].push_back(std::move(it));
    }
    if (next.empty()) break;
    o.continueToken = next;
    // Later pages come from the first page's snapshot; the RV must not be sent with continue.
    o.resourceVersion.clear();
    o.resourceVersionMatch.clear();
  }
  if (all["metadata"].is_object()) {
    all["metadata"].erase("continue");
    all["metadata"].erase("remainingItemCount");
  }
  return all;
}

core::Result<Json> RestClient::create(const kube::ResourceType& rt, std::string_view ns,
                                      const Json& obj, const kube::WriteOptions& o) {
  return execute(kube::createRequest(rt, ns, obj, o));
}

core::Result<Json> RestClient::update(const kube::ResourceType& rt, const Json& obj,
                                      const kube::WriteOptions& o) {
  return execute(kube::updateRequest(rt, obj, {}, o));
}

core::Result<Json> RestClient::updateStatus(const kube::ResourceType& rt, const Json& obj,
                                            const kube::WriteOptions& o) {
  return execute(kube::updateRequest(rt, obj, "status", o));
}

core::Result<Json> RestClient::patch(const kube::ResourceType& rt, std::string_view ns,
                                     std::string_view name, kube::PatchType type,
                                     const Json& patch, const kube::PatchOptions& o,
                                     std::string_view subresource) {
  return execute(kube::patchRequest(rt, ns, name, type, patch, o, subresource));
}

core::Result<Json> RestClient::apply(const kube::ResourceType& rt, const Json& obj,
                                     std::string_view fieldManager, bool force,
                                     std::string_view subresource) {
  kube::PatchOptions o;
  o.write.fieldManager = std::string(fieldManager);
  o.force = force;
  return patch(rt, kube::namespaceOf(obj), kube::name(obj), kube::PatchType::kApply, obj, o,
               subresource);
}

core::Result<Json> RestClient::remove(const kube::ResourceType& rt, std::string_view ns,
                                      std::string_view name, const kube::DeleteOptions& o) {
  return execute(kube::deleteRequest(rt, ns, name, o));
}

core::Status RestClient::watch(const kube::ResourceType& rt, std::string_view ns,
                               kube::ListOptions o,
                               const std::function<bool(kube::WatchEvent&&)>& onEvent,
                               std::stop_token stop) {
  if (o.timeoutSeconds <= 0) o.timeoutSeconds = opts_.watchTimeout.count();
  auto req = kube::watchRequest(rt, ns, o);
  auto readTimeout = std::chrono::milliseconds{(o.timeoutSeconds + 5) * 1000};

  kube::WatchDecoder decoder;
  std::optional<core::Error> failure;
  bool consumerDone = false;  // onEvent asked to stop: end the stream at once
  auto sink = [&](kube::WatchEvent&& ev) {
    if (ev.type == kube::WatchEventType::kError) {
      failure = errorFromStatus(ev.object);
      return false;
    }
    if (!onEvent(std::move(ev))) consumerDone = true;
    return !consumerDone;
  };
  auto onData = [&](std::string_view bytes) {
    auto st = decoder.feed(bytes, sink);
    if (!st) {
      failure = st.error();
      return false;
    }
    return !failure.has_value() && !consumerDone;
  };

  const core::Clock& clock = *opts_.transport.clock;
  auto start = clock.monotonic();
  auto res = transport_->stream(req, readTimeout, onData, stop);
  auto latency = clock.monotonic() - start;
  if (!res) {
    record(req, res.error().httpStatus ? std::to_string(res.error().httpStatus) : "<error>", latency);
    return res.error();
  }
  record(req, std::to_string(*res), latency);
  if (failure) return *failure;
  if (consumerDone) return {};
  if (auto st = decoder.finish(sink); !st) return st.error();
  if (failure) return *failure;
  return {};
}

}  // namespace mysqlop::client
