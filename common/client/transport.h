#pragma once
// HTTPS (or plain HTTP) transport to one API server, on cpp-httplib + OpenSSL: server
// verification against the configured CA, client certificates (mTLS), bearer tokens from a
// TokenSource, explicit connect/read/write timeouts, keep-alive connections pooled for unary
// requests and a dedicated connection per stream.
//
// Cancellation never hangs: a std::stop_token aborts a request in any phase — connecting,
// TLS handshake, waiting, reading — by shutting its socket down, retried until the request
// returns (a stop that lands before the socket exists is not lost; see debian-deps.md §2).
//
// Thread-safe: any number of threads may send at once (each takes its own connection).

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/client/config.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/kube/request.h"

namespace mysqlop::client {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // First value of a header, case-insensitive; "" when absent.
  std::string header(std::string_view name) const;
};

struct TransportOptions {
  std::chrono::milliseconds connectTimeout{std::chrono::seconds{10}};
  std::chrono::milliseconds readTimeout{std::chrono::seconds{60}};  // unary requests
  std::chrono::milliseconds writeTimeout{std::chrono::seconds{60}};
  size_t maxIdleConnections = 8;
  std::string userAgent = "mysqlop/0.1.0";
  const core::Clock* clock = &core::systemClock();
  std::chrono::seconds tokenRefresh{60};
  // Client-side rate limit of requests (watches included); qps ≤ 0 (the default) turns it off.
  // The operators set kube-scheduler's 50/100 (their --kube-api-qps/--kube-api-burst).
  double qps = 0;
  int burst = 30;
};

class Transport {
 public:
  // Validates the TLS material up front (CA, client certificate and key, their match).
  static core::Result<std::unique_ptr<Transport>> create(const RestConfig& cfg,
                                                         TransportOptions opts = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // A unary request: the whole response, whatever its status. Transport failures are errors:
  // Unavailable (connect, TLS, connection lost, cancelled — reason "Canceled"), Timeout (the
  // read deadline passed).
  core::Result<HttpResponse> send(const kube::ApiRequest& req, std::stop_token stop = {});

  // A streamed request on its own connection. For a 2xx answer, body bytes go to `onData` as
  // they arrive (return false to end the stream early; that is not an error) and the status is
  // returned when the stream ends. A non-2xx answer is read whole and returned as the Error it
  // describes. `readTimeout` bounds each wait for data (a stalled server → Timeout).
  core::Result<int> stream(const kube::ApiRequest& req, std::chrono::milliseconds readTimeout,
                           const std::function<bool(std::string_view)>& onData,
                           std::stop_token stop = {});

  const std::string& server() const { return server_; }

 private:
  struct Impl;
  struct Conn;
  explicit Transport(std::unique_ptr<Impl> impl, std::string server);

  std::unique_ptr<Impl> impl_;
  std::string server_;
};

}  // namespace mysqlop::client
