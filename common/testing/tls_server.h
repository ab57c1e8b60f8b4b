#pragma once
// Test-only HTTPS server on 127.0.0.1, port 0, built on httplib::SSLServer from in-memory PEM.
// Register handlers on `server()`, then `start()`; the destructor stops it. Streaming handlers
// must poll `stopping()` so that shutdown never waits on them (see debian-deps.md §2).
//
//   TlsServer srv(pki.issue({...serverAuth...}), pki.ca().certPem /* require client certs */);
//   srv.server().Get("/api", [](auto&, auto& res) { res.set_content("{}", "application/json"); });
//   srv.start();   // srv.port() is now bound

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/testing/test_pki.h"

namespace mysqlop::testing {

class TlsServer {
 public:
  // `clientCaPem` non-empty → clients must present a certificate signed by it (mTLS).
  explicit TlsServer(const KeyPair& serving, const std::string& clientCaPem = "");
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  httplib::Server& server() { return *server_; }
  void start();
  void stop();
  int port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  bool stopping() const { return stopping_.load(); }

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace mysqlop::testing
