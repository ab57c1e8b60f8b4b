#include "community-operator/controller/health_checker.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/api/mysql.h"
#include "common/api/naming.h"
#include "common/kube/object.h"

namespace mysqlop::community {
HealthChecker::HealthChecker(const runtime::ObjectCache& mysqls, const runtime::ObjectCache& secrets,
                             const runtime::ObjectCache& statefulSets, std::function<void(const std::string&)> onChange,
                             HealthCheckerOptions opts, const core::Clock& clock, core::Logger log)
    : mysqls_(mysqls),
      secrets_(secrets),
      statefulSets_(statefulSets),
      onChange_(std::move(onChange)),
      opts_(std::move(opts)),
      log_(log.with("component", "health-checker")),
      queue_({.name = "health-checker", .clock = &clock}) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  if (!threads_.empty()) return;
  for (int i = 0; i < std::max(1, opts_.workers); ++i) threads_.emplace_back([this] { worker(); });
}

void HealthChecker::stop() {
  // Queued checks are dropped, not run: stopping must not wait for every database.
  stopping_ = true;
  queue_.shutDown();
  threads_.clear();  // joins once the checks in flight end
}

void HealthChecker::trigger(const std::string& key) { queue_.add(key); }

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
  const std::string authName = my.effectiveAuthSecretName();
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

void HealthChecker::worker() {
  while (auto key = queue_.get()) {
    if (!stopping_ && check(*key)) queue_.addAfter(*key, opts_.interval);
    queue_.done(*key);
  }
}

bool HealthChecker::check(const std::string& key) {
  auto obj = mysqls_.get(key);
  if (!obj || kube::isBeingDeleted(*obj)) {
    forget(key);
    return false;
  }
  const std::string ns = kube::namespaceOf(*obj), name = kube::name(*obj), uid = kube::uid(*obj);
  const auto& spec = obj->value("spec", runtime::Json::object());
  if (spec.value("halted", false) == true || !statefulSets_.get(ns, api::statefulSetName(name))) return false;

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
  return true;
}

}  // namespace mysqlop::community
