#include "common/runtime/manager.h"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

#include "common/client/config.h"

namespace mysqlop::runtime {
namespace {

std::pair<std::string, int> splitAddress(const std::string& addr) {
  auto colon = addr.rfind(':');
  std::string host = colon == std::string::npos ? "" : addr.substr(0, colon);
  int port = std::stoi(colon == std::string::npos ? addr : addr.substr(colon + 1));
  return {host.empty() ? "0.0.0.0" : host, port};
}

std::string hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

core::Result<std::unique_ptr<Manager>> Manager::create(const client::RestConfig& cfg, ManagerOptions opts,
                                                       core::Logger log) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // The API server's audit and request counters see which operator asked ("community-operator/0.1.0").
  client::ClientOptions co;
  co.transport.userAgent = opts.name + "/" + opts.version;
  co.transport.qps = opts.qps;
  co.transport.burst = opts.burst;
  auto cli = client::RestClient::create(cfg, co);
  if (!cli) return cli.error();
  // The metrics endpoint's reviews: a client of their own, unlimited here (MetricsAuthorizer
  // limits them), so that tokens sent by whoever reaches the port never spend or wait on the
  // reconcilers' rate limit.
  client::ClientOptions reviewOpts = co;
  reviewOpts.transport.qps = 0;
  auto reviewCli = client::RestClient::create(cfg, reviewOpts);
  if (!reviewCli) return reviewCli.error();
  if (opts.leaderElectionNamespace.empty()) {
    opts.leaderElectionNamespace = cfg.namespace_.empty() ? "default" : cfg.namespace_;
  }
  if (opts.leaderElectionId.empty()) opts.leaderElectionId = opts.name + "-leader";
  std::unique_ptr<ServingCertificate> cert;
  if (opts.metricsSecure && !opts.metricsBindAddress.empty() && opts.metricsBindAddress != "0") {
    auto made = opts.metricsCertDir.empty() ? ServingCertificate::selfSigned({opts.name, "localhost"})
                                            : ServingCertificate::fromDirectory(opts.metricsCertDir, log);
    if (!made) {
      return core::Error(made.error().code, "the metrics serving certificate: " + made.error().message);
    }
    cert = std::move(*made);
  }
  return std::unique_ptr<Manager>(new Manager(std::move(*cli), std::move(*reviewCli), std::move(opts), log, std::move(cert)));
}

Manager::Manager(std::unique_ptr<client::RestClient> cli, std::unique_ptr<client::RestClient> reviewCli, ManagerOptions opts,
                 core::Logger log, std::unique_ptr<ServingCertificate> metricsCert)
    : opts_(std::move(opts)),
      log_(log),
      client_(std::move(cli)),
      reviewClient_(std::move(reviewCli)),
      metricsCert_(std::move(metricsCert)) {
  if (metricsCert_) metricsAuth_ = std::make_unique<MetricsAuthorizer>(apiReviewer(*reviewClient_), core::systemClock());
  identity_ = fmt::format("{}_{}_{}", hostname(), getpid(), opts_.name);
  client_->setRequestHook([this](const client::RequestRecord& r) { metrics_.restRequest(r.code, r.method); });
  recorder_ = std::make_unique<EventRecorder>(*client_, opts_.name, identity_, core::systemClock(), log_);
  // Created here, before run(), so that isLeader() may be called from any thread.
  if (opts_.leaderElection) {
    metrics_.leader(opts_.leaderElectionId, false);
    elector_ = std::make_unique<LeaderElector>(
        *client_,
        LeaderElectionConfig{opts_.leaderElectionNamespace, opts_.leaderElectionId, identity_, opts_.leaseDuration,
                             opts_.renewDeadline, opts_.retryPeriod, opts_.name + "-leader"},
        LeaderElector::Callbacks{
            [this] {
              metrics_.leader(opts_.leaderElectionId, true);
              startControllers();
            },
            [this] {
              metrics_.leader(opts_.leaderElectionId, false);
              lostLease_ = true;
              log_.error("leader election lost");
              if (opts_.exitOnLostLease) std::_Exit(1);
              stop();
            },
            [this](const std::string& leader) { log_.info("new leader", {{"leader", leader}}); }},
        core::systemClock(), log_);
  }
}

Manager::~Manager() {
  stop();
  joinStarter();
  for (auto& c : controllers_) c->stop(std::chrono::seconds{0});
  if (elector_) elector_->stop();
  for (auto& [k, inf] : informers_) inf->stop();
  stopServers();
}

Informer& Manager::informer(const kube::ResourceType& type, InformerOptions opts) {
  std::string key = fmt::format("{}|{}|{}|{}", type.qualifiedResource(), opts.namespace_, opts.labelSelector,
                                opts.fieldSelector);
  auto& slot = informers_[key];
  if (!opts.listGate) opts.listGate = listGate_;
  if (!slot) slot = std::make_unique<Informer>(*client_, type, std::move(opts), log_);
  return *slot;
}

Controller& Manager::controller(ControllerOptions opts, ReconcileFn reconcile) {
  opts.metrics = &metrics_;
  opts.log = log_;
  controllers_.push_back(std::make_unique<Controller>(std::move(opts), std::move(reconcile)));
  return *controllers_.back();
}


void Manager::addReadyCheck(std::string name, std::function<std::optional<std::string>()> check) {
  readyChecks_.emplace_back(std::move(name), std::move(check));
}

bool Manager::isLeader() const { return !opts_.leaderElection || (elector_ && elector_->isLeader()); }

std::pair<int, std::string> Manager::readyz() {
  std::vector<std::string> names;
  auto note = [&names](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const auto& [k, inf] : informers_) {
    if (!inf->synced()) note("informers");
  }
  if (isLeader()) {
    for (const auto& c : controllers_) {
      if (!c->running() && controllersStarted_.load()) note("controllers");
    }
  }
  for (const auto& [name, check] : readyChecks_) {
    if (check()) note(name);
  }
  const auto details = notReady();
  const std::string verdict = fmt::format("{}", fmt::join(details, "; "));
  {
    std::lock_guard l(readyLogMu_);
    if (verdict != readyLogged_) {
      readyLogged_ = verdict;
      if (details.empty()) {
        log_.info("ready", {});
      } else {
        log_.warn("not ready", {{"why", verdict}});
      }
    }
  }
  if (names.empty()) return {200, "ok"};
  return {500, fmt::format("not ready: {}\n", fmt::join(names, ", "))};
}

std::vector<std::string> Manager::notReady() const {
  std::vector<std::string> out;
  for (const auto& [k, inf] : informers_) {
    if (!inf->synced()) out.push_back("informer " + inf->type().qualifiedResource() + " not synced");
  }
  if (isLeader()) {
    for (const auto& c : controllers_) {
      if (!c->running() && controllersStarted_.load()) out.push_back("controller " + c->name() + " not running");
    }
  }
  for (const auto& [name, check] : readyChecks_) {
    if (auto why = check()) out.push_back(name + ": " + *why);
  }
  return out;
}

void Manager::startServers() {
  auto serve = [this](const std::string& addr, std::unique_ptr<httplib::Server>& srv, std::thread& th,
                      std::atomic<int>& portOut, bool health) {
    if (addr.empty() || addr == "0") return;
    auto [host, port] = splitAddress(addr);
    const bool tls = !health && metricsCert_;
    if (tls) {
      srv = std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) { return metricsCert_->install(ctx); });
    } else {
      srv = std::make_unique<httplib::Server>();
    }
    srv->new_task_queue = [] { return new httplib::ThreadPool(4); };
    if (health) {
      srv->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
      srv->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
        auto [status, body] = readyz();
        res.status = status;
        res.set_content(body, "text/plain");
      });
    } else {
      srv->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
        if (metricsAuth_) {
          auto d = metricsAuth_->check(req.get_header_value("Authorization"), "get", req.path);
          if (d.status != 200) {
            res.status = d.status;
            res.set_content(d.message + "\n", "text/plain");
            return;
          }
        }
        res.set_content(metrics_.serialize(), "text/plain; version=0.0.4");
      });
    }
    int bound = port == 0 ? srv->bind_to_any_port(host) : (srv->bind_to_port(host, port) ? port : -1);
    if (bound <= 0) {
      log_.error("cannot listen", {{"address", addr}});
      return;
    }
    portOut = bound;
    th = std::thread([s = srv.get()] { s->listen_after_bind(); });
    core::LogFields fields{{"address", fmt::format("{}:{}", host, bound)}};
    if (!health) fields.push_back({"secure", tls});
    log_.info(health ? "serving health probes" : "serving metrics", fields);
  };
  serve(opts_.healthBindAddress, health_, healthThread_, healthPort_, true);
  serve(opts_.metricsBindAddress, metricsServer_, metricsThread_, metricsPort_, false);
}

void Manager::stopServers() {
  if (health_) health_->stop();
  if (metricsServer_) metricsServer_->stop();
  if (healthThread_.joinable()) healthThread_.join();
  if (metricsThread_.joinable()) metricsThread_.join();
}

void Manager::joinStarter() {
  std::thread t;
  {
    std::lock_guard lock(starterMu_);
    t = std::move(controllerStarter_);
  }
  if (t.joinable()) t.join();
}

void Manager::startControllers() {
  std::lock_guard lock(starterMu_);
  if (stopping_.load() || controllerStarter_.joinable()) return;
  controllersStarted_ = true;
  controllerStarter_ = std::thread([this] {
    for (auto& c : controllers_) {
      if (stopping_.load()) return;
      c->start();
    }
  });
}

int Manager::run() {
  startServers();
  for (auto& [k, inf] : informers_) inf->start();
  if (elector_) {
    elector_->start();
  } else {
    startControllers();
  }

  // Wait for SIGTERM/SIGINT (blocked in create()) or stop().
  std::thread signals([this] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    timespec tick{0, 200 * 1000 * 1000};
    while (!stopping_.load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig > 0) {
        log_.info("signal received; shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        stop();
      }
    }
  });
  {
    std::unique_lock lock(stopMu_);
    stopCv_.wait(lock, [&] { return stopping_.load(); });
  }
  signals.join();
  joinStarter();
  for (auto& c : controllers_) c->stop(opts_.gracefulShutdown);
  if (elector_) elector_->stop();  // releases the lease
  for (auto& [k, inf] : informers_) inf->stop();
  stopServers();
  log_.info("stopped");
  return lostLease_.load() ? 1 : 0;
}

void Manager::stop() {
  std::lock_guard lock(stopMu_);
  stopping_ = true;
  stopCv_.notify_all();
}

}  // namespace mysqlop::runtime
