#include "e2e/envtest/envtest.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

namespace mysqlop::envtest {

namespace fs = std::filesystem;

Envtest::Envtest(sandbox::ApiServerOptions opts) {
  std::string tmpl = (fs::temp_directory_path() / "envtest-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("envtest: cannot make a temporary directory");
  dir_ = tmpl;
  opts.dataDir = dir_;
  server_ = std::make_unique<sandbox::ApiServer>(std::move(opts));
  if (auto st = server_->start(); !st) {
    fs::remove_all(dir_);
    throw std::runtime_error("envtest: the API server did not start: " + st.error().toString());
  }
  admin_ = connect();
}

Envtest::~Envtest() {
  admin_.reset();
  server_->stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

client::RestConfig Envtest::config(const std::string& token) const {
  client::RestConfig cfg;
  cfg.server = server_->url();
  cfg.caPem = server_->caCertPem();
  cfg.token = token.empty() ? server_->adminToken() : token;
  cfg.source = "envtest";
  return cfg;
}

std::unique_ptr<client::RestClient> Envtest::connect(const std::string& token) const {
  auto c = client::RestClient::create(config(token));
  if (!c) throw std::runtime_error("envtest: no client: " + c.error().toString());
  return std::move(*c);
}

core::Result<Json> Envtest::hook(const std::string& method, const std::string& path, const Json& body) {
  const bool get = method == "GET";
  return admin_->execute({method, "/__sandbox/" + path, get ? "" : "application/json", get ? "" : body.dump(),
                          get ? "get" : "create", ""});
}

int64_t Envtest::requests(const std::string& verb, const std::string& resource) {
  auto all = hook("GET", "counters");
  if (!all) throw std::runtime_error("envtest: no counters: " + all.error().toString());
  int64_t n = 0;
  for (const auto& c : (*all)["counters"]) {
    if (c["verb"] == verb && c["resource"] == resource) n += c["count"].get<int64_t>();
  }
  return n;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace mysqlop::envtest
