#include "e2e/sandbox/kubelet/pod_runner.h"

#include "e2e/sandbox/kubelet/atomic_writer.h"
#include "e2e/sandbox/kubelet/image_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/core/time_format.h"
#include "common/kube/label_selector.h"
#include "common/kube/object.h"
#include "common/runtime/event_recorder.h"
#include "common/runtime/writes.h"

extern char** environ;

namespace mysqlop::sandbox::kubelet {

using runtime::Json;
using runtime::ReconcileResult;
namespace fs = std::filesystem;

namespace {

std::chrono::seconds backoff(int restarts) {
  int64_t s = 1;
  for (int i = 1; i < restarts && s < 300; ++i) s *= 2;
  return std::chrono::seconds(std::min<int64_t>(s, 300));
}

// Runs argv, waits at most `timeout`; true on exit status 0.
bool runWithTimeout(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setsigmask(&attr, &none);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool tcpConnect(const std::string& ip, int port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  ::close(fd);
  return ok;
}

// A probe's port: a number, or the name of one of the container's ports.
int probePort(const Json& port, const Json& ports) {
  if (port.is_number_integer()) return port.get<int>();
  const std::string name = port.is_string() ? port.get<std::string>() : "";
  for (const auto& p : ports.is_array() ? ports : Json::array()) {
    if (p.value("name", "") == name) return p.value("containerPort", 0);
  }
  return std::atoi(name.c_str());
}

}  // namespace

PodRunner::PodRunner(runtime::Manager& m, PodRunnerOptions opts, core::Logger log)
    : m_(m), opts_(std::move(opts)), log_(log.with("component", "pod-runner")), net_(opts_.network) {
  pods_ = &m_.informer(kube::kPods);
  secrets_ = &m_.informer(kube::kSecrets);
  configMaps_ = &m_.informer(kube::kConfigMaps);
  services_ = &m_.informer(kube::kServices);
  claims_ = &m_.informer(kube::kPersistentVolumeClaims);
  auto& c = m_.controller({.name = "pods", .workers = 2},
                          [this](const runtime::Request& r, std::stop_token) { return reconcile(r); });
  controller_ = &c;
  c.watchPrimary(*pods_);
  // Secrets and ConfigMaps a waiting pod needs: retry the pods of that namespace.
  auto retryNamespace = [this](const Json& obj) {
    std::vector<runtime::Request> out;
    for (const auto& p : pods_->cache().list(kube::namespaceOf(obj))) {
      if (p->value("status", Json::object()).value("phase", "Pending") == "Pending") out.push_back({kube::namespaceOf(*p), kube::name(*p)});
    }
    return out;
  };
  c.watchMapped(*secrets_, retryNamespace);
  c.watchMapped(*configMaps_, retryNamespace);
  c.watchMapped(*claims_, retryNamespace);
  // A Service selects by labels: a pod relabelled (a group's new primary) moves the Service's name.
  pods_->addHandler({.onUpdate = [this](const runtime::ObjectPtr& before, const runtime::ObjectPtr& after) {
    if (kube::labels(*before) != kube::labels(*after)) writeHosts();
  }});
  services_->addHandler({.onAdd = [this](const runtime::ObjectPtr&) { writeHosts(); },
                         .onUpdate = [this](const runtime::ObjectPtr&, const runtime::ObjectPtr&) { writeHosts(); },
                         .onDelete = [this](const runtime::ObjectPtr&) { writeHosts(); }});
  // A deleted claim's volume is deleted too (the reclaim policy of dynamically provisioned
  // volumes), once no pod here uses it: a claim made again under the same name starts empty.
  claims_->addHandler({.onDelete = [this](const runtime::ObjectPtr& claim) {
    std::lock_guard lock(mu_);
    releasedClaims_.insert({kube::namespaceOf(*claim), kube::name(*claim), kube::uid(*claim)});
    reclaimLocked();
  }});
}

void PodRunner::reclaimLocked() {
  for (auto it = releasedClaims_.begin(); it != releasedClaims_.end();) {
    const auto& [ns, name, uid] = *it;
    auto uses = [&uid = uid](const PodPlan& plan) {
      return std::any_of(plan.volumes.begin(), plan.volumes.end(),
                         [&](const Volume& v) { return v.kind == Volume::kClaim && v.claimUid == uid; });
    };
    const bool inUse = std::any_of(running_.begin(), running_.end(), [&](const auto& e) { return uses(e.second.plan); }) ||
                       std::any_of(stopping_.begin(), stopping_.end(), [&](const auto& e) { return uses(e.second); });
    if (inUse) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove_all(claimDir(opts_.nodeDir, ns, name, uid), ec);
    log_.info("deleted the volume of a deleted claim", {{"namespace", ns}, {"claim", name}});
    it = releasedClaims_.erase(it);
  }
}

PodRunner::~PodRunner() { shutdown(); }

core::Result<bool> PodRunner::start() {
  fs::create_directories(opts_.nodeDir);
  auto up = net_.up();
  if (!up) return up.error();
  supervisor_ = std::jthread([this](std::stop_token st) { supervise(st); });
  return true;
}

void PodRunner::shutdown() {
  if (supervisor_.joinable()) {
    supervisor_.request_stop();
    supervisor_.join();
  }
  std::lock_guard lock(mu_);
  if (!running_.empty()) log_.info("stopping every pod", {{"pods", running_.size()}});
  {
    // All at once, as a node shutting down terminates its pods: each gets its grace period
    // side by side, not one after the other.
    std::vector<std::jthread> stops;
    for (auto& [_, p] : running_) stops.emplace_back([this, &p] { stopPod(p); });
  }
  running_.clear();
  (void)net_.down();
}

Lookups PodRunner::lookups(const Running& r) const {
  Lookups l;
  l.data = [this](const std::string& kind, const std::string& ns, const std::string& name)
      -> std::optional<std::map<std::string, std::string>> {
    auto obj = (kind == "Secret" ? secrets_ : configMaps_)->cache().get(ns, name);
    if (!obj) return std::nullopt;
    std::map<std::string, std::string> out;
    const Json data = obj->value("data", Json::object());
    for (const auto& [k, v] : data.items()) {
      if (!v.is_string()) continue;
      out[k] = kind == "Secret" ? kube::secretValue(*obj, k).value_or("") : v.get<std::string>();
    }
    return out;
  };
  l.claim = [this](const std::string& ns, const std::string& name) -> std::optional<std::string> {
    auto claim = claims_->cache().get(ns, name);
    if (!claim || kube::isBeingDeleted(*claim)) return std::nullopt;
    return kube::uid(*claim);
  };
  l.image = [store = ImageStore(opts_.imageStore)](const std::string& ref) { return store.find(ref); };
  l.serviceAccountToken = r.token;
  l.caPem = opts_.caPem;
  l.podIP = r.ip;
  return l;
}

void PodRunner::syncVolumes(Running& r, const Json& pod) {
  auto plan = planPod(pod, lookups(r));
  if (!plan) return;  // a source gone: the volume keeps what it had, as a kubelet's does
  for (const auto& v : plan->volumes) {
    auto dir = r.dirs.find(v.name);
    if (v.kind != Volume::kFiles || dir == r.dirs.end()) continue;
    auto changed = writeAtomically(dir->second, v.files);
    if (!changed) {
      log_.warn("cannot update a volume", {{"pod", runtime::objectKey(pod)}, {"volume", v.name}, {"error", changed.error().message}});
    } else if (*changed) {
      log_.info("volume updated", {{"pod", runtime::objectKey(pod)}, {"volume", v.name}});
    }
  }
}

core::Result<PodRunner::Running> PodRunner::launch(const Json& pod) {
  Running r;
  r.uid = kube::uid(pod);
  const std::string ns = kube::namespaceOf(pod);
  // The service account's token, as a kubelet gets it (TokenRequest).
  const std::string sa = pod.value("spec", Json::object()).value("serviceAccountName", "default");
  Json tr = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"},
             {"spec", {{"expirationSeconds", 86400}, {"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"},
                                                                          {"name", kube::name(pod)}, {"uid", r.uid}}}}}};
  auto token = m_.client().execute({.method = "POST",
                                    .path = fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}/token", ns, sa),
                                    .contentType = "application/json",
                                    .body = tr.dump(),
                                    .verb = "create",
                                    .resource = "serviceaccounts/token"});
  if (!token) return core::Error(token.error().code, "service account token for " + ns + "/" + sa + ": " + token.error().message);
  auto ip = net_.addPod(r.uid);
  if (!ip) return ip.error();
  r.ip = *ip;
  r.token = token->value("status", Json::object()).value("token", "");
  const Lookups l = lookups(r);
  auto plan = planPod(pod, l);
  if (!plan) {
    (void)net_.removePod(r.uid);
    return plan.error();
  }
  for (auto& c : plan->containers) addServiceEnv(c);

  r.plan = std::move(*plan);
  auto dirs = materialise(r.plan, opts_.nodeDir);
  if (!dirs) {
    (void)net_.removePod(r.uid);
    return dirs.error();
  }
  r.dirs = std::move(*dirs);
  for (const auto& c : r.plan.containers) r.containers[c.name] = Container{};
  return r;
}

void PodRunner::stopPod(Running& p) {
  const auto grace = std::chrono::seconds(p.plan.terminationGracePeriodSeconds);
  for (auto& [name, c] : p.containers) {
    if (c.pid > 0) stopContainer(c.pid, grace);
    c.pid = -1;
  }
  (void)net_.removePod(p.uid);
  std::error_code ec;
  fs::remove_all(fs::path(opts_.nodeDir) / "pods" / p.uid, ec);
}

void PodRunner::addServiceEnv(ContainerPlan& c) const {
  c.env.insert(c.env.begin(), {{"KUBERNETES_SERVICE_HOST", net_.nodeAddress()}, {"KUBERNETES_SERVICE_PORT", opts_.apiServerPort}});
}

bool PodRunner::pullAgain(Running& p, ContainerPlan& c) {
  auto pod = pods_->cache().get(p.plan.ns + "/" + p.plan.name);
  if (!pod) return false;
  auto plan = planPod(*pod, lookups(p));
  if (!plan) return false;
  for (auto& fresh : plan->containers) {
    if (fresh.name != c.name || !fresh.pullError.empty()) continue;
    log_.info("image found", {{"pod", runtime::objectKey(*pod)}, {"container", c.name}, {"image", fresh.imageRef}});
    addServiceEnv(fresh);
    c = std::move(fresh);
    return true;
  }
  auto same = std::find_if(plan->containers.begin(), plan->containers.end(), [&](const auto& f) { return f.name == c.name; });
  if (same != plan->containers.end()) c.pullError = same->pullError;
  return false;
}

void PodRunner::stopIfGone(const std::string& key, const runtime::ObjectPtr& pod) {
  std::optional<Running> gone;
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(key);
    if (it == running_.end() || (pod && !kube::isBeingDeleted(*pod) && kube::uid(*pod) == it->second.uid)) return;
    // Out of every Service's names first, as a real kubelet's endpoints drop a terminating pod:
    // a client dialling the Service must not reach a server that is shutting down (or gone).
    gone = std::move(it->second);
    running_.erase(it);
    stopping_.emplace(gone->uid, gone->plan);
    writeHostsLocked();
  }
  // Its grace period holds no other pod up (only this key waits: a pod of the same name starts
  // after it, in this same reconcile).
  log_.info("stopping pod", {{"pod", key}});
  stopPod(*gone);
  std::lock_guard lock(mu_);
  stopping_.erase(gone->uid);
  reclaimLocked();
}

core::Result<ReconcileResult> PodRunner::reconcile(const runtime::Request& req) {
  auto pod = pods_->cache().get(req.key());
  stopIfGone(req.key(), pod);
  Json status;
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(req.key());
    if (!pod || kube::isBeingDeleted(*pod)) {
      writeHostsLocked();
      return ReconcileResult{};
    }
    if (it == running_.end()) {
      auto launched = launch(*pod);
      if (!launched) {
        log_.warn("cannot run pod", {{"pod", req.key()}, {"error", launched.error().message}});
        Json pending = {{"phase", "Pending"},
                        {"conditions", Json::array({{{"type", "PodScheduled"}, {"status", "True"}},
                                                    {{"type", "Ready"}, {"status", "False"}, {"reason", "ContainersNotReady"},
                                                     {"message", launched.error().message}}})}};
        (void)runtime::updateStatus(m_.client(), kube::kPods, req.namespace_, req.name, [&](Json& latest) {
          if (latest.value("status", Json::object()) == pending) return false;
          latest["status"] = pending;
          return true;
        });
        return launched.error();
      }
      log_.info("running pod", {{"pod", req.key()}, {"ip", launched->ip}});
      it = running_.emplace(req.key(), std::move(*launched)).first;
      writeHostsLocked();
    } else {
      syncVolumes(it->second, *pod);
    }
    status = statusOf(it->second);
  }
  auto w = runtime::updateStatus(m_.client(), kube::kPods, req.namespace_, req.name, [&](Json& latest) {
    Json s = latest.value("status", Json::object());
    Json merged = s;
    for (const auto& [k, v] : status.items()) merged[k] = v;
    if (merged == s) return false;
    latest["status"] = merged;
    return true;
  });
  if (!w && !w.error().is(core::ErrorCode::kNotFound)) return w.error();
  return ReconcileResult{.requeueAfter = opts_.syncFrequency};  // the next volume sync
}

Json PodRunner::statusOf(const Running& p) const {
  bool allReady = true, allStarted = true;
  Json statuses = Json::array();
  for (const auto& c : p.plan.containers) {
    const Container& s = p.containers.at(c.name);
    allReady = allReady && s.ready;
    allStarted = allStarted && s.pid > 0;
    Json st = {{"name", c.name}, {"image", c.imageRef.empty() ? c.image : c.imageRef}, {"imageID", c.imageId},
               {"ready", s.ready}, {"restartCount", s.restarts}, {"started", s.pid > 0}};
    if (s.pid > 0) {
      st["state"] = {{"running", {{"startedAt", s.startedTime}}}};
    } else if (!c.pullError.empty()) {
      // A kubelet's words: the pull's error first, then the back-off.
      st["state"] = {{"waiting", s.pullFailures > 1 ? Json{{"reason", "ImagePullBackOff"}, {"message", fmt::format("Back-off pulling image {:?}", c.image)}}
                                                    : Json{{"reason", "ErrImagePull"}, {"message", c.pullError}}}};
    } else {
      st["state"] = {{"waiting", {{"reason", s.restarts > 0 ? "CrashLoopBackOff" : "ContainerCreating"}}}};
    }
    if (s.restarts > 0) st["lastState"] = {{"terminated", {{"exitCode", s.lastExit}}}};
    statuses.push_back(st);
  }
  auto cond = [](const char* type, bool ok) {
    return Json{{"type", type}, {"status", ok ? "True" : "False"}};
  };
  return {{"phase", allStarted ? "Running" : "Pending"},
          {"hostIP", net_.nodeAddress()},
          {"podIP", p.ip},
          {"podIPs", Json::array({{{"ip", p.ip}}})},
          {"conditions", Json::array({cond("PodScheduled", true), cond("Initialized", true), cond("ContainersReady", allReady),
                                      cond("Ready", allReady)})},
          {"containerStatuses", statuses}};
}

bool PodRunner::probe(const Running& p, const ContainerPlan& c, const Container& state, const Json& pr) {
  const auto timeout = std::chrono::seconds(pr.value("timeoutSeconds", 1));
  if (pr.contains("exec")) {
    std::vector<std::string> args = {"nsenter", "--target", std::to_string(state.pid), "--mount", "--uts", "--net", "--",
                                     "env", "-i"};
    for (auto& e : containerEnv(p.plan, c)) args.push_back(std::move(e));
    for (const auto& a : pr["exec"].value("command", Json::array())) args.push_back(a.get<std::string>());
    return runWithTimeout(args, timeout);
  }
  if (pr.contains("tcpSocket")) return tcpConnect(p.ip, probePort(pr["tcpSocket"].value("port", Json(0)), c.ports), timeout);
  if (pr.contains("httpGet")) {
    httplib::Client cli(p.ip, probePort(pr["httpGet"].value("port", Json(0)), c.ports));
    cli.set_connection_timeout(timeout);
    cli.set_read_timeout(timeout);
    auto res = cli.Get(pr["httpGet"].value("path", "/"));
    return res && res->status >= 200 && res->status < 400;
  }
  return true;
}

void PodRunner::supervise(std::stop_token stop) {
  std::map<std::string, std::chrono::steady_clock::time_point> lastProbe;
  while (!stop.stop_requested()) {
    std::this_thread::sleep_for(opts_.supervisePeriod);
    const auto now = std::chrono::steady_clock::now();
    struct Check {
      std::string key, container;
      pid_t pid;
      const Json* probe;
      bool liveness;
    };
    std::vector<std::string> changed;
    std::vector<std::pair<std::string, runtime::EventSpec>> events;  // pod key → Event, sent without the lock
    std::vector<Check> checks;
    std::map<std::string, Running> snapshot;
    {
      std::lock_guard lock(mu_);
      for (auto& [key, p] : running_) {
        bool podChanged = false;
        for (auto& c : p.plan.containers) {
          Container& s = p.containers[c.name];
          int status = 0;
          if (s.pid > 0 && waitpid(s.pid, &status, WNOHANG) == s.pid) {
            s.lastExit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            reapGroup(s.pid);
            s.pid = -1;
            s.ready = false;
            ++s.restarts;
            s.restartAt = now + backoff(s.restarts);
            podChanged = true;
            log_.info("container exited", {{"pod", key}, {"container", c.name}, {"exit", s.lastExit}, {"restarts", s.restarts}});
          }
          if (s.pid <= 0 && now >= s.restartAt && !c.pullError.empty()) {
            if (!pullAgain(p, c)) {
              ++s.pullFailures;
              s.restartAt = now + std::chrono::seconds(std::min(300, 10 << std::min(s.pullFailures - 1, 5)));
              if (s.pullFailures <= 2) podChanged = true;
              // As a kubelet says it (kubectl describe pod): the pull's error once, then each back-off.
              if (s.pullFailures == 1) {
                events.push_back({key, {true, "Failed", fmt::format("Failed to pull image {:?}: {}", c.image, c.pullError)}});
                events.push_back({key, {true, "Failed", "Error: ErrImagePull"}});
              } else {
                events.push_back({key, {false, "BackOff", fmt::format("Back-off pulling image {:?}", c.image)}});
                events.push_back({key, {true, "Failed", "Error: ImagePullBackOff"}});
              }
              continue;
            }
            s.pullFailures = 0;
          }
          if (s.pid <= 0 && now >= s.restartAt) {
            const fs::path resolv = fs::path(opts_.nodeDir) / "pods" / p.uid / "resolv.conf";
            if (!fs::exists(resolv)) std::ofstream(resolv) << kResolvConf;
            auto pid = startContainer(p.plan, c, p.dirs,
                                      {.netns = net_.namespaceName(p.uid),
                                       .hostsFile = (fs::path(opts_.nodeDir) / "pods" / p.uid / "hosts").string(),
                                       .resolvFile = resolv.string(),
                                       .logFile = (fs::path(opts_.nodeDir) / "pods" / p.uid / (c.name + ".log")).string(),
                                       .containerDir = containerDir(opts_.nodeDir, p.uid, c.name),
                                       .enterProgram = opts_.enterProgram});
            if (pid) {
              s.pid = *pid;
              // For `sandbox exec`: which process is this container.
              std::ofstream(fs::path(opts_.nodeDir) / "pods" / p.uid / (c.name + ".pid"), std::ios::trunc) << *pid << "\n";
              s.startedAt = now;
              s.startedTime = core::formatTime(core::systemClock().now());
              s.ready = c.readinessProbe.is_null();
              podChanged = true;
            } else {
              s.restartAt = now + backoff(++s.restarts);
            }
          }
          if (s.pid > 0) {
            for (bool liveness : {false, true}) {
              const Json& pr = liveness ? c.livenessProbe : c.readinessProbe;
              if (pr.is_null()) continue;
              const std::string id = key + "/" + c.name + (liveness ? "/l" : "/r");
              if (now - s.startedAt < std::chrono::seconds(pr.value("initialDelaySeconds", 0))) continue;
              if (now - lastProbe[id] < std::chrono::seconds(pr.value("periodSeconds", 10)) && lastProbe[id].time_since_epoch().count() != 0 &&
                  !(liveness == false && !s.ready)) {
                continue;
              }
              lastProbe[id] = now;
              checks.push_back({key, c.name, s.pid, &pr, liveness});
            }
          }
        }
        if (podChanged) changed.push_back(key);
        if (!checks.empty()) snapshot.emplace(key, p);
      }
    }
    // Probes run without the lock; their verdicts apply if the container is still the same.
    std::vector<std::pair<Check, bool>> results;
    for (const auto& ch : checks) {
      const Running& p = snapshot.at(ch.key);
      const ContainerPlan* c = nullptr;
      for (const auto& cp : p.plan.containers) {
        if (cp.name == ch.container) c = &cp;
      }
      const Json& pr = ch.liveness ? c->livenessProbe : c->readinessProbe;
      results.emplace_back(ch, probe(p, *c, p.containers.at(ch.container), pr));
    }
    {
      std::lock_guard lock(mu_);
      for (const auto& [ch, ok] : results) {
        auto it = running_.find(ch.key);
        if (it == running_.end()) continue;
        Container& s = it->second.containers[ch.container];
        if (s.pid != ch.pid) continue;
        if (!ch.liveness && s.ready != ok) {
          s.ready = ok;
          changed.push_back(ch.key);
        }
        if (ch.liveness) {
          s.livenessFailures = ok ? 0 : s.livenessFailures + 1;
          if (s.livenessFailures >= ch.probe->value("failureThreshold", 3)) {
            log_.info("liveness probe failed; restarting", {{"pod", ch.key}, {"container", ch.container}});
            s.livenessFailures = 0;
            ::kill(s.pid, SIGTERM);
          }
        }
      }
    }
    for (const auto& [key, e] : events) {
      if (auto pod = pods_->cache().get(key)) m_.recorder().event(*pod, e);
    }
    if (!changed.empty()) {
      writeHosts();
      for (const auto& k : changed) {
        auto [ns, name] = runtime::splitKey(k);
        controller_->enqueue({ns, name});
      }
    }
  }
}

void PodRunner::writeHosts() {
  std::lock_guard lock(mu_);
  writeHostsLocked();
}

void PodRunner::writeHostsLocked() {
  // One hosts file per pod (short Service names resolve in the pod's own namespace), rewritten
  // in place so the bind mounts keep seeing it.
  struct Endpoint {
    std::string ns, ip, hostname, subdomain;
    std::map<std::string, std::string> labels;
    bool ready;
  };
  std::vector<Endpoint> endpoints;
  for (const auto& [key, p] : running_) {
    auto pod = pods_->cache().get(key);
    if (!pod) continue;
    bool ready = true;
    for (const auto& [_, c] : p.containers) ready = ready && c.ready;
    endpoints.push_back({p.plan.ns, p.ip, p.plan.hostname, p.plan.subdomain, kube::labels(*pod), ready});
  }
  std::vector<std::tuple<std::string, std::string, std::string>> services;  // ns, name line, ip
  for (const auto& svc : services_->cache().list()) {
    const std::string ns = kube::namespaceOf(*svc), name = kube::name(*svc);
    const Json spec = svc->value("spec", Json::object());
    const Json selector = spec.value("selector", Json::object());
    if (selector.empty()) continue;
    const bool notReady = spec.value("publishNotReadyAddresses", false);
    for (const auto& e : endpoints) {
      if (e.ns != ns || !(e.ready || notReady)) continue;
      bool match = true;
      for (const auto& [k, v] : selector.items()) match = match && e.labels.count(k) && e.labels.at(k) == v.get<std::string>();
      if (!match) continue;
      services.emplace_back(ns, name, e.ip);
      break;  // no virtual IP: the name is one ready endpoint's address
    }
  }
  for (const auto& [key, p] : running_) {
    std::string out = "127.0.0.1 localhost\n";
    out += fmt::format("{} {}\n", p.ip, p.plan.hostname);
    out += fmt::format("{} kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local\n",
                       net_.nodeAddress());
    for (const auto& [ns, name, ip] : services) {
      out += fmt::format("{0} {1}.{2} {1}.{2}.svc {1}.{2}.svc.cluster.local{3}\n", ip, name, ns, ns == p.plan.ns ? " " + name : "");
    }
    for (const auto& e : endpoints) {
      if (e.subdomain.empty()) continue;
      out += fmt::format("{0} {1}.{2}.{3}.svc {1}.{2}.{3}.svc.cluster.local\n", e.ip, e.hostname, e.subdomain, e.ns);
    }
    const fs::path file = fs::path(opts_.nodeDir) / "pods" / p.uid / "hosts";
    std::ifstream in(file);
    std::stringstream cur;
    cur << in.rdbuf();
    if (cur.str() == out) continue;
    // Same inode (the bind mounts follow), and never empty in between: a resolver reading it
    // then would fail the names it holds. The whole text goes at once over the old, then the
    // rest of the old is cut off.
    std::fstream f(file, std::ios::in | std::ios::out);
    if (!f) {
      std::ofstream(file, std::ios::trunc) << out;
      continue;
    }
    f.rdbuf()->pubsetbuf(nullptr, 0);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.close();
    std::error_code ec;
    fs::resize_file(file, out.size(), ec);
  }
}

}  // namespace mysqlop::sandbox::kubelet
