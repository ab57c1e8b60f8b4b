#pragma once
// sandbox-apiserver: a Kubernetes-API-compatible server that real kubectl (1.27–1.33) and helm
// (3 and 4) use unchanged — the local cluster's control plane (docs/design.md §7). HTTPS on 127.0.0.1
// with a CA and serving certificate made at start, bearer-token authentication, RBAC, and the
// behaviour real kubectl and helm expect of an API server (e2e/sandbox/README.md).
//
//   ApiServer srv({.dataDir = "/tmp/sandbox"});
//   if (auto st = srv.start(); !st) ...;        // srv.port(), srv.kubeconfigPath()
//   srv.wait();                                 // until stop() (SIGTERM in main)
//
// start/stop from one thread; everything else is internally synchronised.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace mysqlop::sandbox {

struct ApiServerOptions {
  std::string bindAddress = "127.0.0.1";
  int port = 0;        // 0 = pick a free port
  int httpPort = -1;   // plain-HTTP listener for debugging: -1 = off, 0 = pick
  std::string dataDir;  // pki/, kubeconfig and the admin token are written here
  std::string minorVersion = "33";  // /version minor; selects /usr/bin/kubectl's client
  size_t historyLimit = 200000;     // retained watch history (changes)
  // ... and no change older than this (kube-apiserver compacts etcd every 5 minutes): the
  // history of 1,000 databases' writes would otherwise hold every version of every object.
  std::chrono::seconds historyAge{300};
  size_t threads = 160;             // HTTP worker threads (each open watch holds one)
  std::chrono::seconds maxWatch{1800};         // streams without timeoutSeconds end after this
  std::chrono::seconds bookmarkInterval{60};
  // Extra names the serving certificate covers (the pod network address, ...).
  std::vector<std::string> extraSans;
  // The sandbox kubelet's node directory: pods/<uid>/<container>.log serve `kubectl logs`.
  std::string podLogsDir;
};

class ApiServer {
 public:
  explicit ApiServer(ApiServerOptions opts);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  core::Status start();
  void stop();
  void wait();  // blocks until stop()

  int port() const;
  int httpPort() const;
  std::string url() const;
  std::string kubeconfigPath() const;
  std::string adminToken() const;
  std::string caCertPem() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mysqlop::sandbox
