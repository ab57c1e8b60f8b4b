#pragma once
// The command line both operators share (issue 5): --kubeconfig, --metrics-bind-address (:8080),
// --metrics-secure (HTTPS for authorized callers; --metrics-secure=false: plain HTTP), --metrics-cert-dir,
// --health-probe-bind-address (:8081), --leader-elect, --leader-election-namespace,
// --watch-namespace (all namespaces when empty), --log-level, --version, --help — parsed with
// CLI11 (`--flag value` and `--flag=value`), plus whatever flags a binary adds to the app.
//
//   CLI::App app{"what it does", "community-operator"};
//   OperatorFlags flags;
//   addOperatorFlags(app, flags);
//   if (auto rc = parseFlags(app, argc, argv)) return *rc;   // help, version or a usage error
//
// Startup only (CLI11 throws; parseFlags turns that into an exit code).

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "common/client/config.h"
#include "common/runtime/manager.h"

namespace mysqlop::runtime {

struct OperatorFlags {
  std::string kubeconfig;
  std::string metricsBindAddress = ":8080";
  bool metricsSecure = true;
  std::string metricsCertDir;
  std::string healthProbeBindAddress = ":8081";
  bool leaderElect = false;
  // kube-controller-manager's names and defaults; Go durations.
  std::string leaseDuration = "15s", renewDeadline = "10s", retryPeriod = "2s";
  std::string leaderElectionNamespace;
  std::string leaderElectionId;
  std::string watchNamespace;
  std::string logLevel = "info";
  // kube-scheduler's 50/100 rather than controller-runtime's 20/30: at 20 a second the operators,
  // not cert-manager, set the pace of a mass creation (docs/performance.md).
  double kubeApiQps = 50;
  int kubeApiBurst = 100;
  bool version = false;
};

void addOperatorFlags(CLI::App& app, OperatorFlags& flags);

// Parses; nullopt to go on, else the exit code: 0 after --help or --version (printed to
// stdout), 2 after a usage error (printed to stderr with a pointer to --help).
std::optional<int> parseFlags(CLI::App& app, const OperatorFlags& flags, int argc, char** argv,
                              const std::string& versionLine);

// The manager options the flags describe.
ManagerOptions managerOptions(const OperatorFlags& flags, const std::string& name);

// Loads the cluster configuration the flags name and creates the manager; on failure logs why
// and returns null (main then exits 1). `cfgOut`, when given, receives the configuration.
// Before any thread starts it limits glibc's malloc to two arenas: an operator's threads are
// many and mostly waiting, and the default (eight per core) keeps freed memory in each.
std::unique_ptr<Manager> startManager(const OperatorFlags& flags, const std::string& name, const core::Logger& log,
                                      client::RestConfig* cfgOut = nullptr);

}  // namespace mysqlop::runtime
