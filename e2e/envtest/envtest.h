#pragma once
// envtest — the project's counterpart of controller-runtime's envtest: a real sandbox-apiserver
// started in-process on 127.0.0.1 (port 0, a temporary data directory), with clients for it and
// its /__sandbox/ test hooks (faults, watch drops, compaction, request counters). For tests of
// code that talks to the Kubernetes API — common/runtime, the operators' executors — without
// processes, root or a cluster. Test-only: never linked into a product binary; common/ does not
// link it (its API-server tests are registered here, in e2e/envtest/).
//
//   envtest::Envtest env;                          // started; stopped and removed at scope end
//   auto cli = env.connect();                      // admin; connect(token) for another identity
//   env.hook("POST", "faults", {...});             // /__sandbox/faults
//   int64_t lists = env.requests("list", "configmaps");
//   REQUIRE(envtest::eventually([&] { return cache.synced(); }));
//
// One Envtest per test case; its methods may be called from any thread.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/client/rest_client.h"
#include "e2e/sandbox/apiserver/api_server.h"

namespace mysqlop::envtest {

using Json = nlohmann::json;

class Envtest {
 public:
  // Starts the server; throws std::runtime_error (with the server's words) when it cannot.
  explicit Envtest(sandbox::ApiServerOptions opts = {});
  ~Envtest();
  Envtest(const Envtest&) = delete;
  Envtest& operator=(const Envtest&) = delete;

  // A client configuration for the server; `token` empty: the admin's.
  client::RestConfig config(const std::string& token = "") const;
  std::unique_ptr<client::RestClient> connect(const std::string& token = "") const;
  sandbox::ApiServer& server() { return *server_; }

  // A /__sandbox/ hook: GET reads, any other method changes.
  core::Result<Json> hook(const std::string& method, const std::string& path, const Json& body = Json::object());
  // Requests the server counted for one verb and resource since the counters were last reset.
  int64_t requests(const std::string& verb, const std::string& resource);

 private:
  std::string dir_;
  std::unique_ptr<sandbox::ApiServer> server_;
  std::unique_ptr<client::RestClient> admin_;
};

// Polls `pred` every 20 ms until it holds or `limit` passes; the last answer.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(15));

}  // namespace mysqlop::envtest
