#pragma once
// How to reach and authenticate to an API server: from a kubeconfig file (the --kubeconfig
// flag, else $KUBECONFIG, else ~/.kube/config) or, inside a pod, from the service-account
// mount and KUBERNETES_SERVICE_HOST/PORT. Every failure names the file and the field.
//
//   auto cfg = loadConfig(flags.kubeconfig);        // flag → env → home → in-cluster
//   if (!cfg) { std::cerr << cfg.error().message; return 1; }
//
// Loading reads files once; the returned value is plain data, any thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace mysqlop::client {

inline constexpr std::string_view kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct RestConfig {
  std::string server;  // "https://host:port[/prefix]"
  std::string caPem;   // trusted CA bundle; empty = system trust store
  bool insecureSkipTlsVerify = false;
  std::string clientCertPem;
  std::string clientKeyPem;
  std::string token;      // static bearer token
  std::string tokenFile;  // bearer token re-read from this file (in-cluster, `tokenFile`)
  std::string namespace_;  // the context's namespace or the pod's namespace; may be empty
  std::string source;      // what it came from, for messages: "kubeconfig /x (context dev)"
};

// Reads the process environment; tests substitute their own.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
std::optional<std::string> processEnv(std::string_view name);

// Parses kubeconfig text. `path` names it in messages and anchors relative file paths.
// `context` empty → current-context.
core::Result<RestConfig> parseKubeconfig(std::string_view yaml, std::string_view path,
                                         std::string_view context = {});
core::Result<RestConfig> loadKubeconfig(std::string_view path, std::string_view context = {});

// In-cluster configuration from `env` and the files in `saDir` (token, ca.crt, namespace).
core::Result<RestConfig> inClusterConfig(const EnvLookup& env = processEnv,
                                         std::string_view saDir = kServiceAccountDir);

// The --kubeconfig flag if given; else the first existing file of $KUBECONFIG (':'-separated);
// else ~/.kube/config if it exists; else in-cluster.
core::Result<RestConfig> loadConfig(std::string_view kubeconfigFlag, std::string_view context = {},
                                    const EnvLookup& env = processEnv,
                                    std::string_view saDir = kServiceAccountDir);


}  // namespace mysqlop::client
