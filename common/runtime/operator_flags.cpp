#include "common/runtime/operator_flags.h"

#include <malloc.h>

#include <iostream>

#include "common/core/log.h"
#include "common/kube/duration.h"

namespace mysqlop::runtime {

void addOperatorFlags(CLI::App& app, OperatorFlags& f) {
  app.add_option("--kubeconfig", f.kubeconfig,
                 "Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config, else the in-cluster service account");
  app.add_option("--metrics-bind-address", f.metricsBindAddress,
                 "Address of the Prometheus /metrics endpoint (\"0\" turns it off)")
      ->capture_default_str();
  app.add_flag("--metrics-secure", f.metricsSecure,
               "Serve /metrics over HTTPS, only to callers the API server authenticates (TokenReview) and RBAC allows "
               "`get` on the path (SubjectAccessReview); --metrics-secure=false serves plain HTTP to anyone")
      ->capture_default_str();
  app.add_option("--metrics-cert-dir", f.metricsCertDir,
                 "Directory holding tls.crt and tls.key for the HTTPS metrics endpoint, re-read when they change; "
                 "default: a self-signed certificate made at start");
  app.add_option("--health-probe-bind-address", f.healthProbeBindAddress,
                 "Address of the /healthz and /readyz endpoints (\"0\" turns them off)")
      ->capture_default_str();
  app.add_flag("--leader-elect", f.leaderElect,
               "Elect a leader through a coordination.k8s.io Lease so that only one replica works");
  app.add_option("--leader-elect-lease-duration", f.leaseDuration,
                 "How long a standby waits after the leader's last renewal before taking the Lease over")
      ->capture_default_str();
  app.add_option("--leader-elect-renew-deadline", f.renewDeadline,
                 "How long the leader keeps trying to renew before it gives up leading (and exits)")
      ->capture_default_str();
  app.add_option("--leader-elect-retry-period", f.retryPeriod, "How often the Lease is tried and renewed")
      ->capture_default_str();
  app.add_option("--leader-election-id", f.leaderElectionId,
                 "Name of the Lease the replicas elect their leader with (the charts: the release's full name, so that "
                 "two releases in one namespace never share one); default: <binary>-leader. A pod given another name "
                 "waits until a pod still holding <binary>-leader (an older version) lets go of it");
  app.add_option("--leader-election-namespace", f.leaderElectionNamespace,
                 "Namespace of the Lease; default: the pod's namespace in a cluster, else \"default\"");
  app.add_option("--watch-namespace", f.watchNamespace, "Only watch this namespace; default: all namespaces");
  app.add_option("--log-level", f.logLevel, "Least severe level logged")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--kube-api-qps", f.kubeApiQps, "Requests per second to the API server, sustained (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--kube-api-burst", f.kubeApiBurst, "Requests to the API server allowed at once above the rate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--version", f.version, "Print the version and exit");
}

std::optional<int> parseFlags(CLI::App& app, const OperatorFlags& f, int argc, char** argv, const std::string& versionLine) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << e.what() << "\nRun '" << app.get_name() << " --help' for the flags.\n";
    return 2;
  }
  if (f.version) {
    std::cout << versionLine << "\n";
    return 0;
  }
  // client-go's rules: lease > renew deadline > retry period × 1.2 (its jitter).
  auto lease = kube::parseGoDuration(f.leaseDuration), renew = kube::parseGoDuration(f.renewDeadline),
       retry = kube::parseGoDuration(f.retryPeriod);
  std::string bad;
  if (!lease || *lease < 1'000'000'000) bad = "--leader-elect-lease-duration must be a duration of at least 1s";
  else if (!renew || *renew <= 0) bad = "--leader-elect-renew-deadline must be a positive duration";
  else if (!retry || *retry <= 0) bad = "--leader-elect-retry-period must be a positive duration";
  else if (*lease <= *renew) bad = "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline";
  else if (static_cast<double>(*renew) <= 1.2 * static_cast<double>(*retry)) {
    bad = "--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period";
  }
  if (!bad.empty()) {
    std::cerr << app.get_name() << ": " << bad << "\nRun '" << app.get_name() << " --help' for the flags.\n";
    return 2;
  }
  auto level = core::parseLogLevel(f.logLevel);
  core::Logger::configureRoot(core::stderrSink(), level ? *level : core::LogLevel::kInfo);
  return std::nullopt;
}

ManagerOptions managerOptions(const OperatorFlags& f, const std::string& name) {
  ManagerOptions o;
  o.name = name;
#ifdef MYSQLOP_VERSION
  o.version = MYSQLOP_VERSION;
#endif
  o.metricsBindAddress = f.metricsBindAddress;
  o.metricsSecure = f.metricsSecure;
  o.metricsCertDir = f.metricsCertDir;
  o.healthBindAddress = f.healthProbeBindAddress;
  o.leaderElection = f.leaderElect;
  // Checked by parseFlags; whole seconds (the Lease's leaseDurationSeconds is an integer).
  auto seconds = [](const std::string& d, std::chrono::seconds fallback) {
    auto ns = kube::parseGoDuration(d);
    return ns ? std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(std::chrono::nanoseconds(*ns)))
              : fallback;
  };
  o.leaseDuration = seconds(f.leaseDuration, o.leaseDuration);
  o.renewDeadline = seconds(f.renewDeadline, o.renewDeadline);
  o.retryPeriod = seconds(f.retryPeriod, o.retryPeriod);
  o.leaderElectionNamespace = f.leaderElectionNamespace;
  o.leaderElectionId = f.leaderElectionId;
  o.qps = f.kubeApiQps;
  o.burst = f.kubeApiBurst;
  return o;
}

std::unique_ptr<Manager> startManager(const OperatorFlags& flags, const std::string& name, const core::Logger& log,
                                      client::RestConfig* cfgOut) {
  // One arena (two cost 1-2 MiB more at 300 databases: memory freed by one thread's arena was no
  // use to the other's); and large transient buffers (a response body, a list page) straight from and
  // back to the kernel at a fixed threshold — glibc's default raises it after the first such free,
  // and then they are carved from the heap and keep its pages (issue 18).
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024);
  auto cfg = client::loadConfig(flags.kubeconfig);
  if (!cfg) {
    log.error("cannot load the cluster configuration", {{"error", cfg.error().message}});
    return nullptr;
  }
  auto created = Manager::create(*cfg, managerOptions(flags, name), log);
  if (!created) {
    log.error("cannot start", {{"error", created.error().message}});
    return nullptr;
  }
  if (cfgOut) *cfgOut = std::move(*cfg);
  return std::move(*created);
}

}  // namespace mysqlop::runtime
