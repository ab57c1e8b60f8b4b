#include "community-operator/controller/health_checker.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/mysql.h"
#include "common/api/naming.h"
#include "common/kube/object.h"

namespace mysqlop::community {
HealthChecker::HealthChecker(const runtime::ObjectCache& mysqls, const runtime::ObjectCache& secrets,
                             const runtime::ObjectCache& statefulSets, std::function<void(const std::string&)> onChange,
                             HealthCheckerOptions opts, core::Logger log)
    : mysqls_(mysqls),
      secrets_(secrets),
      statefulSets_(statefulSets),
      onChange_(std::move(onChange)),
      opts_(std::move(opts)),
      log_(log.with("component", "health-checker")) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  if (!threads_.empty()) return;
  threads_.emplace_back([this](std::stop_token st) { ticker(st); });
  for (int i = 0; i < std::max(1, opts_.workers); ++i) {
    threads_.emplace_back([this](std::stop_token st) { worker(st); });
  }
}

void HealthChecker::stop() {
  for (auto& t : threads_) t.request_stop();
  cv_.notify_all();
  threads_.clear();  // joins
}

void HealthChecker::trigger(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (!pending_.insert(key).second) return;
    order_.push_back(key);
  }
  cv_.notify_one();
}

std::optional<HealthFacts> HealthChecker::verdict(const std::string& key, const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = verdicts_.find(key);
  if (it == verdicts_.end() || it->second.uid != uid) return std::nullopt;
  return it->second.facts;
}

void HealthChecker::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  verdicts_.erase(key);
}

core::Result<ProbeTarget> HealthChecker::target(const runtime::Json& obj) const {
  auto parsed = api::parseMySQL(obj);
  if (!parsed) return core::invalid("the MySQL spec is invalid");
  api::MySQL my = std::move(*parsed);
  api::setDefaults(my);
  ProbeTarget t;
  t.host = api::serviceHost(my.name, my.namespace_);
  t.port = api::kMySQLPort;
  t.timeout = opts_.probeTimeout;
  const std::string authName = my.authSecretName.empty() ? api::authSecretName(my.name) : my.authSecretName;
  auto auth = secrets_.get(my.namespace_, authName);
  if (!auth) return core::notFound(fmt::format("the auth Secret {}/{} does not exist", my.namespace_, authName));
  t.user = kube::secretValue(*auth, "username").value_or("root");
  auto password = kube::secretValue(*auth, "password");
  if (!password) return core::invalid(fmt::format("the auth Secret {}/{} has no password", my.namespace_, authName));
  t.password = std::move(*password);
  if (my.tls) {
    const std::string serverSecret = my.certSecretName(std::string(api::kAliasServer));
    auto server = secrets_.get(my.namespace_, serverSecret);
    if (!server) return core::notFound(fmt::format("the server certificate Secret {}/{} does not exist", my.namespace_, serverSecret));
    auto ca = kube::secretValue(*server, "ca.crt");
    if (!ca || ca->empty()) {
      return core::invalid(fmt::format("the server certificate Secret {}/{} has no ca.crt to verify the server with",
                                       my.namespace_, serverSecret));
    }
    t.tls = ProbeTls{.caPem = std::move(*ca), .verifyHostname = my.requireSSL};
  }
  return t;
}

void HealthChecker::ticker(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    for (const auto& obj : mysqls_.list()) trigger(runtime::objectKey(*obj));
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, opts_.interval, [] { return false; });
  }
}

void HealthChecker::worker(std::stop_token stop) {
  while (true) {
    std::string key;
    {
      std::unique_lock lock(mu_);
      // The first pending key nobody is checking.
      auto ready = [&] {
        return std::any_of(order_.begin(), order_.end(), [&](const std::string& k) { return !inFlight_.count(k); });
      };
      if (!cv_.wait(lock, stop, ready)) return;
      auto it = std::find_if(order_.begin(), order_.end(), [&](const std::string& k) { return !inFlight_.count(k); });
      key = *it;
      order_.erase(it);
      pending_.erase(key);
      inFlight_.insert(key);
    }
    check(key);
    {
      std::lock_guard lock(mu_);
      inFlight_.erase(key);
    }
    cv_.notify_all();
  }
}

void HealthChecker::check(const std::string& key) {
  auto obj = mysqls_.get(key);
  if (!obj || kube::isBeingDeleted(*obj)) {
    forget(key);
    return;
  }
  const std::string ns = kube::namespaceOf(*obj), name = kube::name(*obj), uid = kube::uid(*obj);
  const auto& spec = obj->value("spec", runtime::Json::object());
  if (spec.value("halted", false) == true || !statefulSets_.get(ns, api::statefulSetName(name))) return;

  HealthFacts facts;
  auto t = target(*obj);
  if (!t) {
    facts.message = "cannot check " + key + ": " + t.error().message;
  } else {
    auto r = opts_.probe(*t);
    if (r) {
      facts.ok = true;
      facts.message = fmt::format("{}:{} answered a query over {} (server {})", t->host, t->port,
                                  r->tlsVersion.empty() ? std::string("a plain connection") : r->tlsVersion,
                                  r->serverVersion);
    } else {
      facts.message = r.error().message;
    }
  }
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    auto& v = verdicts_[key];
    changed = v.uid != uid || v.facts.ok != facts.ok || v.facts.message != facts.message;
    v = Verdict{uid, facts};
  }
  if (changed) {
    log_.info(facts.ok ? "database accepts connections" : "database check failed",
              {{"namespace", ns}, {"name", name}, {"detail", facts.message}});
    onChange_(key);
  }
}

}  // namespace mysqlop::community
