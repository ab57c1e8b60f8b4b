// Test hooks under /__sandbox/ (admin only; kube-api-emulator-spec §2.17): reset, load YAML,
// compact history, drop watches, clock, fault injection, request log and request counters.
#include <algorithm>

#include <fmt/format.h>

#include "common/core/time_format.h"
#include "e2e/sandbox/apiserver/server_impl.h"
#include "e2e/sandbox/apiserver/yaml_json.h"

namespace mysqlop::sandbox {

std::optional<FaultRule> ApiServer::Impl::takeFault(const std::string& verb, const std::string& path,
                                                    const std::string& userAgent) {
  std::lock_guard lock(hookMu);
  for (auto it = faults.begin(); it != faults.end(); ++it) {
    if ((!it->verb.empty() && it->verb != verb) || path.rfind(it->pathPrefix, 0) != 0) continue;
    if (userAgent.rfind(it->userAgent, 0) != 0) continue;
    if (it->closeWatch && verb != "watch") continue;
    if (it->percent < 100 && static_cast<int>(faultRng() % 100) >= it->percent) continue;
    FaultRule f = *it;
    if (--it->remaining <= 0) faults.erase(it);
    return f;
  }
  return std::nullopt;
}

void ApiServer::Impl::count(const Call& c, int code) {
  std::string ua = c.req.get_header_value("User-Agent");
  std::string agent = ua.substr(0, ua.find('/'));
  std::string resource = c.info.isResource ? (c.info.group.empty() ? c.info.resource : c.info.resource + "." + c.info.group) : "";
  if (!c.info.subresource.empty()) resource += "/" + c.info.subresource;
  std::lock_guard lock(hookMu);
  if (c.req.path.rfind("/__sandbox/", 0) != 0) {
    ++counters[fmt::format("{} {} {} {}", c.info.verb, resource.empty() ? c.req.path : resource,
                           c.user.name.empty() ? "system:anonymous" : c.user.name, agent)];
  }
  if (logRequests) {
    requestLog.push_back({{"time", core::formatMicroTime(clock.now())}, {"verb", c.info.verb},
                          {"method", c.req.method}, {"path", c.req.path}, {"user", c.user.name},
                          {"userAgent", ua}, {"remoteAddr", c.req.remote_addr}, {"code", code}});
    if (requestLog.size() > 10000) requestLog.erase(requestLog.begin(), requestLog.begin() + 1000);
  }
}

ApiResult<Reply> ApiServer::Impl::sandboxHook(Call& c) {
  std::string what = c.req.path.substr(std::string("/__sandbox/").size());
  const std::string& m = c.req.method;
  Json body = c.req.body.empty() ? Json::object() : Json::parse(c.req.body, nullptr, false);
  Reply ok;
  ok.body = {{"ok", true}};
  if (what == "compact" && m == "POST") {
    store.compact();
    ok.body["resourceVersion"] = std::to_string(store.currentRv());
    return ok;
  }
  if (what == "drop-watches" && m == "POST") {
    store.dropWatches();
    return ok;
  }
  if (what == "history-limit" && m == "POST" && body.is_object()) {
    store.setHistoryLimit(body.value("limit", 1000));
    return ok;
  }
  if (what == "reset" && m == "POST") {
    for (const auto& r : registry.all()) {
      if (!r->builtin) registry.unregisterCrd(r->crdName);
    }
    store.clear();
    {
      std::lock_guard lock(tokenMu);
      tokens.clear();
    }
    seed();
    return ok;
  }
  if (what == "clock") {
    if (m == "POST") {
      if (!body.is_object()) return errors::badRequest("expected a JSON object");
      if (body.contains("advanceSeconds")) clock.advance(std::chrono::milliseconds(
                                               static_cast<int64_t>(body["advanceSeconds"].get<double>() * 1000)));
      if (body.contains("freeze")) {
        if (body["freeze"].get<bool>()) clock.freeze();
        else clock.unfreeze();
      }
    }
    ok.body = {{"now", core::formatMicroTime(clock.now())}, {"frozen", clock.frozen()}};
    return ok;
  }
  if (what == "faults") {
    std::lock_guard lock(hookMu);
    if (m == "DELETE") {
      faults.clear();
      return ok;
    }
    if (m == "POST") {
      if (!body.is_object()) return errors::badRequest("expected a JSON object");
      faults.push_back({body.value("verb", ""), body.value("path", "/"), body.value("code", 0),
                        body.value("retryAfter", -1), body.value("delayMs", 0), body.value("count", 1),
                        body.value("userAgent", ""), std::clamp(body.value("percent", 100), 0, 100),
                        body.value("closeWatch", false)});
      return ok;
    }
    Json list = Json::array();
    for (const auto& f : faults) {
      list.push_back({{"verb", f.verb}, {"path", f.pathPrefix}, {"code", f.code}, {"retryAfter", f.retryAfter},
                      {"delayMs", f.delayMs}, {"count", f.remaining}, {"userAgent", f.userAgent},
                      {"percent", f.percent}, {"closeWatch", f.closeWatch}});
    }
    ok.body = {{"faults", list}};
    return ok;
  }
  if (what == "requests") {
    std::lock_guard lock(hookMu);
    if (m == "DELETE") {
      requestLog.clear();
      return ok;
    }
    ok.body = {{"requests", requestLog}};
    return ok;
  }
  if (what == "counters") {
    std::lock_guard lock(hookMu);
    if (m == "DELETE") {
      counters.clear();
      return ok;
    }
    Json list = Json::array();
    for (const auto& [k, n] : counters) {
      // "verb resource user agent"
      std::vector<std::string> parts;
      size_t s = 0;
      for (int i = 0; i < 3; ++i) {
        size_t sp = k.find(' ', s);
        parts.push_back(k.substr(s, sp - s));
        s = sp + 1;
      }
      parts.push_back(k.substr(s));
      list.push_back({{"verb", parts[0]}, {"resource", parts[1]}, {"user", parts[2]}, {"userAgent", parts[3]}, {"count", n}});
    }
    ok.body = {{"counters", list}};
    return ok;
  }
  if (what == "load" && m == "POST") {
    auto docs = parseYamlDocuments(c.req.body);
    if (!docs) return errors::badRequest(docs.error().message);
    Json created = Json::array();
    for (auto& d : *docs) {
      std::string apiVersion = d.value("apiVersion", "");
      std::string kind = d.value("kind", "");
      auto slash = apiVersion.find('/');
      std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
      std::string version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
      ResourcePtr r = registry.findByKind(group, kind);
      if (!r) return errors::badRequest(fmt::format("no kind {} in {}", kind, apiVersion));
      std::string ns = r->namespaced ? d["metadata"].value("namespace", "default") : "";
      httplib::Request fake = c.req;
      fake.method = "POST";
      fake.body = d.dump();
      fake.headers.erase("Content-Type");
      fake.headers.emplace("Content-Type", "application/json");
      fake.params.clear();
      fake.path = (group.empty() ? "/api/" + version : "/apis/" + group + "/" + version) +
                  (ns.empty() ? "" : "/namespaces/" + ns) + "/" + r->plural;
      Call inner{fake, c.res, parseRequestInfo("POST", fake.path, false), c.user, c.accept, {}};
      auto res = createObject(inner, *r);
      if (!res) return res.error();
      created.push_back(fmt::format("{}/{}", r->qualified(), meta(res->body, "name")));
    }
    ok.body = {{"created", created}};
    return ok;
  }
  return errors::pathNotFound();
}

}  // namespace mysqlop::sandbox
