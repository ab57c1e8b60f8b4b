#include "community-operator/controller/health_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/api/conditions.h"
#include "common/api/mysql.h"
#include "common/api/naming.h"
#include "common/core/time_format.h"
#include "common/kube/object.h"
#include "common/pki/pki.h"

namespace mysqlop::community {

// docs/design.md §10's names: the expiry of each certificate in each Secret and of each served one,
// and the reloads by result.
struct HealthChecker::Metrics {
  prometheus::Family<prometheus::Gauge>& expiry;
  prometheus::Family<prometheus::Counter>& reloads;
  // The series of each MySQL ("ns/name"), removed with it. Guarded by `mu`.
  std::mutex mu;
  std::map<std::string, std::set<prometheus::Gauge*>> gauges;
  std::map<std::string, std::set<prometheus::Counter*>> counters;
  std::map<std::string, std::set<prometheus::Gauge*>> bundles;  // the bundle's series of each MySQL

  void setExpiry(const api::MySQL& my, const std::string& alias, const std::string& source, const std::string& pod,
                 core::WallTime notAfter) {
    auto& g = expiry.Add({{"namespace", my.namespace_}, {"mysql", my.name}, {"alias", alias}, {"source", source}, {"pod", pod}});
    g.Set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(notAfter.time_since_epoch()).count()));
    std::lock_guard l(mu);
    gauges[my.namespace_ + "/" + my.name].insert(&g);
  }
  void countReload(const api::MySQL& my, const std::string& result) {
    auto& c = reloads.Add({{"namespace", my.namespace_}, {"mysql", my.name}, {"result", result}});
    c.Increment();
    std::lock_guard l(mu);
    counters[my.namespace_ + "/" + my.name].insert(&c);
  }
  // The CAs of the trust bundle (alias "ca:<fingerprint's first 16>", source "bundle"): those
  // no longer in it lose their series.
  void setBundle(const api::MySQL& my, const std::vector<std::pair<std::string, core::WallTime>>& cas) {
    const std::string key = my.namespace_ + "/" + my.name;
    std::set<prometheus::Gauge*> now;
    for (const auto& [digest, notAfter] : cas) {
      auto& g = expiry.Add({{"namespace", my.namespace_}, {"mysql", my.name}, {"alias", "ca:" + digest.substr(0, 16)},
                            {"source", "bundle"}, {"pod", ""}});
      g.Set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(notAfter.time_since_epoch()).count()));
      now.insert(&g);
    }
    std::lock_guard l(mu);
    auto& before = bundles[key];
    for (auto* g : before) {
      if (!now.count(g)) {
        gauges[key].erase(g);
        expiry.Remove(g);
      }
    }
    before = now;
    gauges[key].insert(now.begin(), now.end());
  }
  void forget(const std::string& key) {
    std::lock_guard l(mu);
    for (auto* g : gauges[key]) expiry.Remove(g);
    for (auto* c : counters[key]) reloads.Remove(c);
    gauges.erase(key);
    counters.erase(key);
    bundles.erase(key);
  }
  explicit Metrics(prometheus::Registry& r)
      : expiry(prometheus::BuildGauge()
                   .Name("mysqlop_certificate_expiration_timestamp_seconds")
                   .Help("When a certificate of a MySQL expires (Unix seconds): in its Secret, or as a pod serves it")
                   .Register(r)),
        reloads(prometheus::BuildCounter()
                    .Name("mysqlop_tls_reloads_total")
                    .Help("Reloads of TLS material the operator asked a MySQL server for, by result")
                    .Register(r)) {}
};

namespace {

std::optional<pki::CertFacts> factsOf(const std::string& pem) {
  auto c = pki::parseCertificate(pem);
  if (!c) return std::nullopt;
  return pki::inspect(*c);
}

void describe(ServedCertificate& s, const std::string& pem) {
  if (auto f = factsOf(pem)) {
    s.serialNumber = f->serialHex;
    s.notAfter = core::formatTime(f->notAfter);
    s.issuer = "CN=" + f->issuerCommonName;
  }
}

bool servesCertificate(const std::string& servedPem, const std::optional<CertificateSummary>& want) {
  if (!want) return false;
  auto digest = certificateDigest(servedPem);
  return digest && *digest == want->sha256;
}

// Which CA of `trustPem` (the database's trust: its bundle and its server Secret's CA) signed
// what a server presents: its digest; "" when none did (or it cannot be read).
std::string signerOf(const std::string& servedPem, const std::string& trustPem) {
  auto served = pki::parseCertificate(servedPem);
  auto cas = pki::parseCertificateChain(trustPem);
  if (!served || !cas) return "";
  for (const auto& ca : *cas) {
    if (pki::signedBy(*served, ca)) return certificateDigest(ca.toPem()).value_or("");
  }
  return "";
}

}  // namespace

// While the rest of a check runs (a probe can wait seconds on a member that has just gone), the
// members are asked again every `every` and what they say is told at once, so that the roles
// follow a new primary without waiting for the check to end; stop() returns the latest.
class GroupWatch {
 public:
  GroupWatch(GroupFacts first, std::chrono::milliseconds every, std::function<GroupFacts()> observe,
             std::function<void(const GroupFacts&)> publish)
      : latest_(std::move(first)),
        thread_([this, every, observe = std::move(observe), publish = std::move(publish)](std::stop_token st) {
          std::unique_lock l(mu_);
          for (;;) {
            cv_.wait_for(l, st, every, [] { return false; });
            if (st.stop_requested()) return;
            l.unlock();
            GroupFacts g = observe();
            publish(g);
            l.lock();
            latest_ = std::move(g);
          }
        }) {}
  GroupFacts stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    std::lock_guard l(mu_);
    return latest_;
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  GroupFacts latest_;
  std::jthread thread_;  // last: started once the rest is made
};

HealthChecker::HealthChecker(const runtime::ObjectCache& mysqls, const runtime::ObjectCache& secrets,
                             const runtime::ObjectCache& statefulSets, std::function<void(const std::string&)> onChange,
                             HealthCheckerOptions opts, const core::Clock& clock, core::Logger log)
    : mysqls_(mysqls),
      secrets_(secrets),
      statefulSets_(statefulSets),
      onChange_(std::move(onChange)),
      opts_(std::move(opts)),
      log_(log.with("component", "health-checker")),
      clock_(clock),
      metrics_(opts_.metrics ? std::make_unique<Metrics>(*opts_.metrics) : nullptr),
      queue_({.name = "health-checker", .clock = &clock}) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
  if (!threads_.empty()) return;
  const int n = std::max(1, opts_.workers);
  {
    std::lock_guard l(runningMu_);
    running_ = n;
  }
  for (int i = 0; i < n; ++i) {
    threads_.emplace_back([this] {
      worker();
      std::lock_guard l(runningMu_);
      --running_;
      runningCv_.notify_all();
    });
  }
}

bool HealthChecker::stop(std::chrono::milliseconds grace) {
  // Queued checks are dropped, not run: stopping must not wait for every database.
  stopping_ = true;
  queue_.shutDown();
  bool ended = true;
  {
    std::unique_lock l(runningMu_);
    if (grace == std::chrono::milliseconds::max()) {
      runningCv_.wait(l, [this] { return running_ == 0; });
    } else {
      ended = runningCv_.wait_for(l, grace, [this] { return running_ == 0; });
    }
  }
  for (auto& t : threads_) {
    if (ended) {
      t.join();
    } else {
      t.detach();  // a probe still in flight: the process exits without waiting for it
    }
  }
  threads_.clear();
  return ended;
}

void HealthChecker::trigger(const std::string& key) { queue_.add(key); }

std::optional<HealthFacts> HealthChecker::verdict(const std::string& key, const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = verdicts_.find(key);
  if (it == verdicts_.end() || it->second.uid != uid) return std::nullopt;
  return it->second.facts;
}

void HealthChecker::forget(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    verdicts_.erase(key);
    reloadRetries_.erase(key);
    unsettledGroups_.erase(key);
    failures_.erase(key);
    trust_.erase(key);
  }
  if (metrics_) metrics_->forget(key);  // a deleted database leaves no series behind
}

core::Result<std::string> HealthChecker::trustOf(const runtime::Json& server, const std::string& serverSecret,
                                                  const api::MySQL& my) const {
  static const CaPool kNoPool(0);
  const CaPool& pool = opts_.caPool ? *opts_.caPool : kNoPool;
  auto read = [&](const runtime::ObjectPtr& s, const std::string& name) {
    auto pems = casOf(*s, pool);
    if (!pems && opts_.rereadSecret) {  // a CA the pool let go: reading the Secret puts it back
      if (auto again = opts_.rereadSecret(my.namespace_, name)) pems = casOf(*again, pool);
    }
    return pems;
  };
  auto own = read(std::make_shared<const runtime::Json>(server), serverSecret);
  if (!own || own->empty()) {
    return core::unavailable(fmt::format("the CA of the server certificate Secret {}/{} could not be read", my.namespace_,
                                         serverSecret));
  }
  std::string trust;
  std::set<std::string> seen;
  auto add = [&](const std::vector<std::string>& pems) {
    for (const auto& pem : pems) {
      if (seen.insert(pem).second) trust += pem + (pem.empty() || pem.back() == '\n' ? "" : "\n");
    }
  };
  add(*own);
  const std::string bundleName = api::trustBundleSecretName(my.name);
  if (auto bundle = secrets_.get(my.namespace_, bundleName); bundle && kube::isOwnedBy(*bundle, my.uid)) {
    if (auto pems = read(bundle, bundleName)) add(*pems);
  }
  return trust;
}

core::Result<ProbeTarget> HealthChecker::target(const runtime::Json& obj) const {
  auto parsed = api::parseMySQL(obj);
  if (!parsed) return core::invalid("the MySQL spec is invalid");
  api::MySQL my = std::move(*parsed);
  api::setDefaults(my);
  ProbeTarget t;
  t.host = api::serviceHost(my.name, my.namespace_);
  t.port = my.primaryPort();
  t.timeout = opts_.probeTimeout;
  if (my.healthChecker) {
    const int64_t s = my.healthChecker->timeoutSeconds > 0 ? my.healthChecker->timeoutSeconds : api::kHealthCheckerTimeoutSeconds;
    t.timeout = std::chrono::seconds(s);
  }
  const std::string authName = my.effectiveAuthSecretName();
  auto auth = secrets_.get(my.namespace_, authName);
  if (!auth && opts_.namedSecret) auth = opts_.namedSecret(my.namespace_, authName);
  if (!auth) return core::notFound(fmt::format("the auth Secret {}/{} does not exist", my.namespace_, authName));
  t.user = kube::secretValue(*auth, "username").value_or("root");
  auto password = kube::secretValue(*auth, "password");
  if (!password) return core::invalid(fmt::format("the auth Secret {}/{} has no password", my.namespace_, authName));
  t.password = std::move(*password);
  if (my.tls) {
    const std::string serverSecret = my.certSecretName(std::string(api::kAliasServer));
    auto server = secrets_.get(my.namespace_, serverSecret);
    if (!server) return core::notFound(fmt::format("the server certificate Secret {}/{} does not exist", my.namespace_, serverSecret));
    if (!hasCa(*server)) {
      return core::invalid(fmt::format("the server certificate Secret {}/{} has no ca.crt to verify the server with",
                                       my.namespace_, serverSecret));
    }
    // The database's own trust, never another's: its server Secret's CA and its trust bundle
    // (trust_bundle.h; ours only), which keeps a former CA while anything of the database uses it.
    auto ca = trustOf(*server, serverSecret, my);
    if (!ca) return ca.error();
    // With TLS on, the server proves who it is whether or not plain connections are refused.
    t.tls = ProbeTls{.caPem = std::move(*ca), .verifyHostname = true};
  }
  return t;
}

void HealthChecker::worker() {
  while (auto key = queue_.get()) {
    if (!stopping_ && opts_.active && !opts_.active()) {
      queue_.addAfter(*key, opts_.inactiveRetry);
      queue_.done(*key);
      continue;
    }
    // Nothing a server answers may take the process (and with it every database's checks) down:
    // an exception from a check is logged and the database checked again at the next interval.
    bool again = false;
    try {
      again = !stopping_ && check(*key);
    } catch (const std::exception& e) {
      log_.error("a health check failed unexpectedly; checking again later", {{"key", *key}, {"error", e.what()}});
      if (!stopping_) queue_.addAfter(*key, intervalOf(*key));
    }
    if (again) {
      // A pod whose files lag behind its Secret is checked again soon, backing off to the interval.
      int retries = 0;
      bool unsettled = false, spreading = false;
      {
        std::lock_guard lock(mu_);
        auto it = reloadRetries_.find(*key);
        retries = it == reloadRetries_.end() ? 0 : it->second;
        unsettled = unsettledGroups_.count(*key) > 0;
        auto tr = trust_.find(*key);
        spreading = tr != trust_.end() && tr->second.loaded != tr->second.trust;
      }
      const auto interval = intervalOf(*key);
      auto next = retries == 0 ? interval : std::min(interval, opts_.reloadRetry * (1 << std::min(retries - 1, 10)));
      if (unsettled) next = std::min(next, opts_.groupRetry);
      if (spreading) next = std::min(next, opts_.trustRetry);
      queue_.addAfter(*key, next);
    }
    queue_.done(*key);
  }
}

void HealthChecker::recordSecretExpiries(const api::MySQL& my) {
  if (!metrics_ || !my.tls) return;
  for (const auto& alias : api::tlsAliases()) {
    auto secret = secrets_.get(my.namespace_, my.certSecretName(alias));
    if (!secret) continue;
    // The cache keeps a summary of the certificate (secret_summary.h): nothing to parse here.
    auto c = certificateOf(*secret);
    if (!c) continue;
    metrics_->setExpiry(my, alias, "secret", "", c->notAfter);
  }
  // The trust bundle's CAs, when it is the MySQL's.
  std::vector<std::pair<std::string, core::WallTime>> cas;
  auto bundle = secrets_.get(my.namespace_, api::trustBundleSecretName(my.name));
  static const CaPool kNoPool(0);
  if (bundle && kube::isOwnedBy(*bundle, my.uid)) {
    if (auto pems = casOf(*bundle, opts_.caPool ? *opts_.caPool : kNoPool)) {
      for (const auto& pem : *pems) {
        auto c = pki::parseCertificate(pem);
        auto d = certificateDigest(pem);
        if (c && d) cas.emplace_back(*d, pki::inspect(*c).notAfter);
      }
    }
  }
  metrics_->setBundle(my, cas);
}

std::vector<ServedCertificate> HealthChecker::checkServed(const api::MySQL& my, const ProbeTarget& t,
                                                          const std::string& serverVersion,
                                                          const std::optional<HealthFacts>& previous) {
  ServedWant w{my.certSecretName(std::string(api::kAliasServer)), std::nullopt, "none"};
  if (auto secret = secrets_.get(my.namespace_, w.secretName)) w.cert = certificateOf(*secret);
  if (w.cert) w.holds = w.cert->serialHex;
  std::vector<ServedCertificate> out;
  const bool spreading = trustSpreading(my, t.tls->caPem);
  for (int i = 0; i < std::max<int64_t>(my.replicas, 1); ++i) {
    ServedCertificate s{.pod = api::podName(my.name, i)};
    if (previous && previous->served) {
      for (const auto& p : *previous->served) {
        if (p.pod == s.pod) s.lastReloadTime = p.lastReloadTime;
      }
    }
    ProbeTarget pod = t;
    pod.host = api::podHost(my.name, my.namespace_, i);
    pod.port = api::kMySQLPort;  // the pod's own port, whatever the primary Service's is
    auto served = opts_.fetchServed(pod.host, pod.port, pod.timeout);
    if (!served) {
      out.push_back({s.pod, "", "", "", false, s.lastReloadTime, std::string(api::kReasonServedUnreachable), served.error().message});
      continue;
    }
    describe(s, *served);
    s.caSha256 = signerOf(*served, t.tls->caPem);
    s.matchesSecret = servesCertificate(*served, w.cert);
    if (!s.matchesSecret) {
      askReload(s, my, pod, w, serverVersion);
    } else if (spreading) {
      reloadTrust(my, s.pod, pod, serverVersion);
    }
    noteExpiry(s, my);
    out.push_back(std::move(s));
  }
  return out;
}

void HealthChecker::askReload(ServedCertificate& s, const api::MySQL& my, const ProbeTarget& pod,
                              const ServedWant& w, const std::string& serverVersion) {
  auto statement = tlsReloadStatement(serverVersion);
  if (!statement) {
    s.reason = api::kReasonReloadUnsupported;
    s.message = fmt::format("server {} cannot reload TLS without a restart; it serves serial {} while Secret {} holds {}",
                            serverVersion, s.serialNumber, w.secretName, w.holds);
    return;
  }
  // Verified with the database's trust, which holds the CA of what it presents now (a former one
  // after an issuer change) as long as it presents it.
  if (auto st = opts_.runStatement(pod, *statement); !st) {
    if (metrics_) metrics_->countReload(my, "failed");
    s.reason = api::kReasonReloadFailed;
    s.message = fmt::format("{}; it still serves serial {} (Secret {} holds {})", st.error().message, s.serialNumber,
                            w.secretName, w.holds);
    return;
  }
  noteReloaded(my, s.pod);
  if (auto again = opts_.fetchServed(pod.host, pod.port, pod.timeout)) {
    describe(s, *again);
    s.caSha256 = signerOf(*again, pod.tls ? pod.tls->caPem : "");
    s.matchesSecret = servesCertificate(*again, w.cert);
  }
  // Only a reload that brought the Secret's certificate is recorded: retries while the pod's files
  // lag change nothing a reader would see (and cost no status write).
  if (s.matchesSecret) s.lastReloadTime = core::formatTime(clock_.now());
  if (metrics_) metrics_->countReload(my, s.matchesSecret ? "success" : "outdated");
  log_.info("asked the server to reload its TLS material",
            {{"namespace", my.namespace_}, {"pod", s.pod}, {"statement", *statement}, {"serial", s.serialNumber},
             {"current", s.matchesSecret}});
  if (!s.matchesSecret) {
    s.reason = api::kReasonServedOutdated;
    s.message = fmt::format("still serves serial {} after a reload while Secret {} holds {}: the pod's files are not "
                            "refreshed yet",
                            s.serialNumber, w.secretName, w.holds);
  }
}

void HealthChecker::TrustReloads::settle() {
  // The fingerprints are worked out once, here, not at every check.
  loaded = trust;
  loadedCas.clear();
  if (auto cas = pki::parseCertificateChain(loaded)) {
    for (const auto& c : *cas) loadedCas.push_back(pki::fingerprint(c));
  }
}

bool HealthChecker::trustSpreading(const api::MySQL& my, const std::string& trust) {
  const std::string key = my.namespace_ + "/" + my.name;
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  auto& tr = trust_[key];
  if (tr.trust != trust) {
    // Changed: each pod reloads at every check until the kubelet has surely refreshed its files.
    // First seen (this process just started): nothing to do.
    const bool first = tr.trust.empty();
    tr.window = opts_.trustPropagation;
    tr.trust = trust;
    tr.changedAt = now;
    tr.reloadedAt.clear();
    if (first) {
      tr.changedAt -= tr.window;
      tr.settle();
    }
  }
  if (tr.loaded == tr.trust) return false;
  if (now < tr.changedAt + tr.window) return true;
  // Said to be loaded once every pod reloaded in the second half of the window (when its files
  // had surely moved on); until then the reloads go on.
  const auto late = tr.changedAt + tr.window / 2;
  for (int i = 0; i < std::max<int64_t>(my.replicas, 1); ++i) {
    auto it = tr.reloadedAt.find(api::podName(my.name, i));
    if (it == tr.reloadedAt.end() || it->second < late) return true;
  }
  tr.settle();
  return false;
}

void HealthChecker::noteReloaded(const api::MySQL& my, const std::string& pod) {
  std::lock_guard lock(mu_);
  trust_[my.namespace_ + "/" + my.name].reloadedAt[pod] = clock_.now();
}

std::vector<std::string> HealthChecker::loadedCas(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = trust_.find(key);
  return it == trust_.end() ? std::vector<std::string>{} : it->second.loadedCas;
}

void HealthChecker::reloadTrust(const api::MySQL& my, const std::string& podName, const ProbeTarget& pod,
                                const std::string& serverVersion) {
  auto statement = tlsReloadStatement(serverVersion);
  if (!statement) return;  // restartForTls is the only way there: the next restart loads the bundle
  auto st = opts_.runStatement(pod, *statement);
  if (metrics_) metrics_->countReload(my, st ? "trust" : "failed");
  if (st) noteReloaded(my, podName);
  if (!st) {
    log_.info("a reload for the trust bundle failed; trying again", {{"namespace", my.namespace_}, {"pod", pod.host}, {"error", st.error().message}});
  }
}

void HealthChecker::noteExpiry(ServedCertificate& s, const api::MySQL& my) {
  auto notAfter = core::parseTime(s.notAfter);
  if (!notAfter) return;
  const auto now = clock_.now();
  if (*notAfter <= now) {
    s.expiry = api::kReasonExpired;
  } else if (*notAfter - now <= opts_.expiryWarning) {
    s.expiry = api::kReasonExpiresSoon;
  }
  if (metrics_) metrics_->setExpiry(my, std::string(api::kAliasServer), "served", s.pod, *notAfter);
}

bool HealthChecker::check(const std::string& key) {
  auto obj = mysqls_.get(key);
  if (!obj || kube::isBeingDeleted(*obj)) {
    forget(key);
    return false;
  }
  const std::string ns = kube::namespaceOf(*obj), name = kube::name(*obj), uid = kube::uid(*obj);
  const auto& spec = obj->value("spec", runtime::Json::object());
  const std::string stsName = api::statefulSetName(name);
  auto sts = spec.value("halted", false) == true ? nullptr : statefulSets_.get(ns, stsName);
  if (!sts) return false;

  auto my = api::parseMySQL(*obj);
  if (my) {
    api::setDefaults(*my);
    recordSecretExpiries(*my);  // what the Secrets hold, whether or not the server answers
  }
  HealthFacts facts;
  std::unique_ptr<GroupWatch> watch;
  if (my && my->isGroup()) facts.group = checkGroup(*my, *obj, watch);
  const Json* ready = kube::find(*sts, {"status", "readyReplicas"});
  if (!ready || !ready->is_number_integer() || ready->get<int64_t>() < 1) {
    // Nothing to dial yet (or any more): no pod is ready. Provisioning stays pending without a
    // probe that could only fail; a database that was checked is reported failing. The target
    // (Secrets read, the CA looked up) is made only when there is something to dial.
    facts.noReadyPod = true;
    facts.message = fmt::format("no pod of StatefulSet {}/{} is ready", ns, stsName);
  } else if (auto t = target(*obj); !t) {
    facts.message = "cannot check " + key + ": " + t.error().message;
  } else if (auto r = opts_.probe(*t); !r) {
    facts.message = r.error().message;
    // Only for a failed TLS handshake (client error 2026): an unreachable server costs no more dialling.
  } else if (auto w = writeCheck(my ? &*my : nullptr, *t); !w) {
    facts.message = "the write check failed: " + w.error().message;
  } else {
    facts.ok = true;
    facts.message = fmt::format("{}:{} answered a query{} over {} (server {})", t->host, t->port,
                                my && my->healthChecker && !my->healthChecker->disableWriteCheck ? " and took a write" : "",
                                r->tlsVersion.empty() ? std::string("a plain connection") : r->tlsVersion, r->serverVersion);
    if (my && t->tls) {
      facts.served = checkServed(*my, *t, r->serverVersion, verdict(key, uid));
      facts.loadedCas = loadedCas(key);
    }
  }
  if (watch) facts.group = watch->stop();  // what the members said last
  if (!failureReported(key, uid, my ? &*my : nullptr, facts)) return true;
  record(key, uid, facts, ns, name);
  return true;
}

std::optional<GroupFacts> HealthChecker::checkGroup(const api::MySQL& my, const Json& obj, std::unique_ptr<GroupWatch>& watch) {
  auto t = target(obj);
  if (!t || !t->tls) return std::nullopt;
  auto server = secrets_.get(my.namespace_, my.certSecretName(std::string(api::kAliasServer)));
  auto cert = server ? certificateOf(*server) : std::nullopt;
  if (!cert || cert->subject.empty()) return std::nullopt;
  // What the members say now reaches the reconciler before any join (a join takes seconds): the
  // roles, and with them the Services, follow a new primary at once.
  auto publish = [this, key = kube::namespaceOf(obj) + "/" + kube::name(obj), uid = kube::uid(obj)](const GroupFacts& g) {
    bool changed = false;
    {
      std::lock_guard lock(mu_);
      auto it = verdicts_.find(key);
      if (it != verdicts_.end() && it->second.uid == uid && !(it->second.facts.group == g)) {
        it->second.facts.group = g;
        changed = true;
      }
    }
    if (changed) onChange_(key);
  };
  const GroupWant want{cert->subject, cert->sha256};
  const core::WallTime asked = clock_.now();
  GroupFacts facts = manageGroup(opts_.group, my, *t, want, log_, [&](const GroupFacts& g) {
    GroupFacts stamped = g;
    stamped.observedAt = asked;
    publish(stamped);
  });
  facts.observedAt = asked;
  watch = std::make_unique<GroupWatch>(
      facts, opts_.groupWatch,
      [this, my, base = *t, want] {
        const core::WallTime at = clock_.now();
        GroupFacts g = observeGroup(opts_.group, my, base, want);
        g.observedAt = at;
        return g;
      },
      publish);
  return facts;
}

core::Status HealthChecker::writeCheck(const api::MySQL* my, const ProbeTarget& t) const {
  if (!my || !my->healthChecker || my->healthChecker->disableWriteCheck) return {};
  return opts_.runStatements(t, dbclient::writeCheckStatements());
}

bool HealthChecker::failureReported(const std::string& key, const std::string& uid, const api::MySQL* my, const HealthFacts& facts) {
  const int64_t threshold = my && my->healthChecker && my->healthChecker->failureThreshold > 0 ? my->healthChecker->failureThreshold
                            : my && my->healthChecker                                           ? api::kHealthCheckerFailureThreshold
                                                                                                : 1;
  int64_t failed = 0;
  bool standing = false;
  {
    std::lock_guard lock(mu_);
    if (facts.ok || facts.noReadyPod) {
      failures_.erase(key);
      return true;
    }
    failed = ++failures_[key];
    auto v = verdicts_.find(key);
    standing = v != verdicts_.end() && v->second.uid == uid && v->second.facts.ok;
  }
  if (failed >= threshold || !standing) return true;
  log_.info("a health check failed; the verdict before stands until spec.healthChecker.failureThreshold",
            {{"key", key}, {"failed", std::to_string(failed)}, {"threshold", std::to_string(threshold)}, {"detail", facts.message}});
  return false;
}

std::chrono::milliseconds HealthChecker::intervalOf(const std::string& key) const {
  auto obj = mysqls_.get(key);
  const Json* period = obj ? kube::find(*obj, {"spec", "healthChecker"}) : nullptr;
  if (!period || !period->is_object()) return opts_.interval;
  const auto seconds = period->value("periodSeconds", int64_t{0});
  if (seconds <= 0 || seconds > 86400) return std::chrono::seconds(api::kHealthCheckerPeriodSeconds);
  return std::chrono::seconds(seconds);
}

void HealthChecker::record(const std::string& key, const std::string& uid, const HealthFacts& facts, const std::string& ns,
                           const std::string& name) {
  const bool outdated = facts.served && std::any_of(facts.served->begin(), facts.served->end(), [](const ServedCertificate& s) {
                          return s.reason == api::kReasonServedOutdated;
                        });
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    auto& v = verdicts_[key];
    changed = v.uid != uid || !(v.facts == facts);
    v = Verdict{uid, facts};
    if (outdated) {
      ++reloadRetries_[key];
    } else {
      reloadRetries_.erase(key);
    }
    if (facts.group && (facts.group->reason != api::kReasonGroupOnline || facts.group->rolling)) {
      unsettledGroups_.insert(key);
    } else {
      unsettledGroups_.erase(key);
    }
  }
  if (changed) {
    log_.info(facts.ok ? "database accepts connections" : "database check failed",
              {{"namespace", ns}, {"name", name}, {"detail", facts.message}});
    onChange_(key);
  }
}

}  // namespace mysqlop::community
