#include "e2e/sandbox/apiserver/api_server.h"

#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/core/log.h"
#include "common/core/time_format.h"
#include "common/kube/base64.h"
#include "common/testing/test_pki.h"
#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {
namespace fs = std::filesystem;

// --- helpers shared by the implementation files ---------------------------------------------

std::string meta(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto it = m->find(field);
  return it != m->end() && it->is_string() ? it->get<std::string>() : "";
}

std::string randomSuffix(size_t n) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out(n, 'x');
  std::vector<unsigned char> bytes(n);
  RAND_bytes(bytes.data(), static_cast<int>(n));
  for (size_t i = 0; i < n; ++i) out[i] = kAlphabet[bytes[i] % (sizeof kAlphabet - 1)];
  return out;
}

std::string newUid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                     b[13], b[14], b[15]);
}

Json asList(const ResourceInfo& r, const std::string& version, std::vector<Json> items,
            const std::string& rv, const std::string& cont, std::optional<int64_t> remaining) {
  Json list = {{"apiVersion", r.apiVersion(version)}, {"kind", r.listKind},
               {"metadata", {{"resourceVersion", rv}}}, {"items", Json::array()}};
  for (auto& i : items) list["items"].push_back(std::move(i));
  if (!cont.empty()) list["metadata"]["continue"] = cont;
  if (remaining) list["metadata"]["remainingItemCount"] = *remaining;
  return list;
}

bool UserInfo::isAdmin() const {
  return std::find(groups.begin(), groups.end(), "system:masters") != groups.end();
}

std::string Call::fieldManager() const {
  std::string m = param("fieldManager");
  if (!m.empty()) return m;
  std::string ua = req.get_header_value("User-Agent");
  auto slash = ua.find('/');
  return slash == std::string::npos ? (ua.empty() ? "unknown" : ua) : ua.substr(0, slash);
}

// --- ApiServer ---------------------------------------------------------------------------

namespace {

Accept parseAccept(const std::string& header) {
  Accept a;
  if (header.empty()) return a;
  bool anyJson = false, anyProto = false;
  std::stringstream ss(header);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::string lower = item;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    lower.erase(std::remove(lower.begin(), lower.end(), ' '), lower.end());
    if (lower.find("protobuf") != std::string::npos) {
      anyProto = true;
      continue;
    }
    if (lower.find("application/json") != std::string::npos || lower.find("*/*") != std::string::npos ||
        lower.find("application/yaml") != std::string::npos) {
      anyJson = true;
    }
    if (lower.find("as=table") != std::string::npos && lower.find("g=meta.k8s.io") != std::string::npos &&
        !a.table) {
      a.table = true;
      a.tableVersion = lower.find("v=v1beta1") != std::string::npos ? "v1beta1" : "v1";
    }
    if (lower.find("as=apigroupdiscoverylist") != std::string::npos && a.discovery.empty()) {
      if (lower.find("v=v2beta1") != std::string::npos) {
        a.discovery = "v2beta1";
      } else if (lower.find("v=v2") != std::string::npos) {
        a.discovery = "v2";
      }
    }
  }
  a.protobufOnly = anyProto && !anyJson;
  return a;
}

std::string readOrCreate(const fs::path& p, const std::function<std::string()>& make) {
  if (fs::exists(p)) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (!s.empty()) return s;
  }
  std::string v = make();
  std::ofstream(p) << v << "\n";
  return v;
}

void writeFile(const fs::path& p, const std::string& content, fs::perms perms) {
  std::ofstream(p, std::ios::trunc) << content;
  fs::permissions(p, perms);
}

X509* readCert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return c;
}

EVP_PKEY* readKey(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return k;
}

}  // namespace

ApiServer::Impl::Impl(ApiServerOptions o) : opts(std::move(o)), store(opts.historyLimit, opts.historyAge) {}

core::Status ApiServer::Impl::start() {
  if (opts.dataDir.empty()) return core::invalid("sandbox-apiserver: a data directory is required");
  fs::path dir(opts.dataDir);
  std::error_code ec;
  fs::create_directories(dir / "pki", ec);
  if (ec) return core::invalid(fmt::format("cannot create {}: {}", (dir / "pki").string(), ec.message()));

  // The CA lives as long as the data directory, so kubeconfigs stay valid across restarts.
  testing::TestPki pki("sandbox-apiserver-ca");
  fs::path caCrt = dir / "pki" / "ca.crt", caKeyPath = dir / "pki" / "ca.key";
  if (fs::exists(caCrt) && fs::exists(caKeyPath)) {
    std::ifstream a(caCrt), b(caKeyPath);
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    caCert = sa.str();
    caKey = sb.str();
  } else {
    caCert = pki.ca().certPem;
    caKey = pki.ca().keyPem;
    writeFile(caCrt, caCert, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                 fs::perms::others_read);
    writeFile(caKeyPath, caKey, fs::perms::owner_read | fs::perms::owner_write);
  }
  testing::TestPki signer = testing::TestPki::fromPem(caCert, caKey);
  std::vector<std::string> dns = {"localhost", "kubernetes", "kubernetes.default",
                                  "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"};
  std::vector<std::string> ips = {"127.0.0.1", "10.96.0.1"};
  // The address it listens on is one it answers to (kube-apiserver's advertise address).
  if (opts.bindAddress != "0.0.0.0" && opts.bindAddress != "127.0.0.1" &&
      std::find(ips.begin(), ips.end(), opts.bindAddress) == ips.end()) {
    ips.push_back(opts.bindAddress);
  }
  for (const auto& s : opts.extraSans) {
    bool ip = !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return isdigit(ch) || ch == '.'; });
    (ip ? ips : dns).push_back(s);
  }
  auto serving = signer.issue({.commonName = "kube-apiserver", .dnsNames = dns, .ipAddresses = ips,
                               .serverAuth = true, .validDays = 365});
  servingCert = serving.certPem;
  servingKey = serving.keyPem;
  writeFile(dir / "pki" / "apiserver.crt", servingCert,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  writeFile(dir / "pki" / "apiserver.key", servingKey, fs::perms::owner_read | fs::perms::owner_write);

  adminTokenValue = readOrCreate(dir / "admin.token", [] { return "sandbox-admin-" + randomSuffix(32); });
  fs::permissions(dir / "admin.token", fs::perms::owner_read | fs::perms::owner_write);

  // HTTPS listener.
  X509* cert = readCert(servingCert);
  EVP_PKEY* key = readKey(servingKey);
  https = std::make_unique<httplib::SSLServer>(cert, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!https->is_valid()) return core::internal("sandbox-apiserver: cannot set up TLS");
  size_t threads = opts.threads;
  auto install = [&](httplib::Server& s) {
    s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // Without TCP_NODELAY a reply written in two segments meets the client's delayed ACK:
    // 40 ms per request and per watch event.
    s.set_tcp_nodelay(true);
    s.set_keep_alive_max_count(1000);
    // Idle keep-alive connections hold a worker and delay stop() by up to this long.
    s.set_keep_alive_timeout(5);
    s.set_read_timeout(60, 0);
    s.set_write_timeout(60, 0);
    s.set_payload_max_length(64 * 1024 * 1024);
    auto h = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    s.Get(".*", h);
    s.Post(".*", h);
    s.Put(".*", h);
    s.Patch(".*", h);
    s.Delete(".*", h);
    s.Options(".*", h);
  };
  install(*https);
  httpsPort = opts.port == 0 ? https->bind_to_any_port(opts.bindAddress)
                             : (https->bind_to_port(opts.bindAddress, opts.port) ? opts.port : -1);
  if (httpsPort <= 0) {
    return core::unavailable(fmt::format("sandbox-apiserver: cannot listen on {}:{}", opts.bindAddress, opts.port));
  }
  if (opts.httpPort >= 0) {
    http = std::make_unique<httplib::Server>();
    install(*http);
    plainPort = opts.httpPort == 0 ? http->bind_to_any_port(opts.bindAddress)
                                   : (http->bind_to_port(opts.bindAddress, opts.httpPort) ? opts.httpPort : -1);
    if (plainPort <= 0) return core::unavailable("sandbox-apiserver: cannot bind the plain-HTTP port");
  }

  seed();

  // Admin kubeconfig.
  std::string server = fmt::format("https://{}:{}", opts.bindAddress, httpsPort);
  kubeconfig = (dir / "kubeconfig").string();
  std::string kc = fmt::format(
      "apiVersion: v1\nkind: Config\ncurrent-context: sandbox\n"
      "clusters:\n- name: sandbox\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n"
      "users:\n- name: sandbox-admin\n  user:\n    token: {}\n"
      "contexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: sandbox-admin\n"
      "    namespace: default\n",
      server, kube::base64Encode(caCert), adminTokenValue);
  writeFile(kubeconfig, kc, fs::perms::owner_read | fs::perms::owner_write);

  httpsThread = std::thread([this] { https->listen_after_bind(); });
  if (http) httpThread = std::thread([this] { http->listen_after_bind(); });
  controllerThread = std::thread([this] { runControllers(); });
  return {};
}

void ApiServer::Impl::stop() {
  if (stopping.exchange(true)) return;
  store.wakeAll();  // ends open watches
  kickControllers();
  if (https) https->stop();
  if (http) http->stop();
  if (httpsThread.joinable()) httpsThread.join();
  if (httpThread.joinable()) httpThread.join();
  if (controllerThread.joinable()) controllerThread.join();
  std::lock_guard lock(stopMu);
  stopped = true;
  stopCv.notify_all();
}

void ApiServer::Impl::seed() {
  std::string clusterId = readOrCreate(fs::path(opts.dataDir) / "cluster-id", [] { return newUid(); });
  auto tx = store.begin();
  std::string now = core::formatTime(clock.now());
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (tx.get("/namespaces", "", ns)) continue;
    Json obj = {{"apiVersion", "v1"},
                {"kind", "Namespace"},
                {"metadata", {{"name", ns},
                              {"uid", std::string(ns) == "kube-system" ? clusterId : newUid()},
                              {"creationTimestamp", now},
                              {"labels", {{"kubernetes.io/metadata.name", ns}}}}},
                {"spec", {{"finalizers", {"kubernetes"}}}},
                {"status", {{"phase", "Active"}}}};
    ObjPtr stored = tx.put("/namespaces", std::move(obj));
    afterWrite(*registry.findByKey("/namespaces"), tx, nullptr, stored.get());
  }
  // The `kubernetes` Service every cluster has.
  if (!tx.get("/services", "default", "kubernetes")) {
    Json svc = {{"apiVersion", "v1"},
                {"kind", "Service"},
                {"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"uid", newUid()},
                              {"creationTimestamp", now},
                              {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
                {"spec", {{"type", "ClusterIP"}, {"clusterIP", "10.96.0.1"}, {"clusterIPs", {"10.96.0.1"}},
                          {"ports", {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"},
                                      {"targetPort", httpsPort}}}}}},
                {"status", {{"loadBalancer", Json::object()}}}};
    tx.put("/services", std::move(svc));
  }
  // The roles a real cluster bootstraps that our charts and users rely on.
  if (!tx.get("/clusterroles", "", "cluster-admin")) {
    Json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                 {"kind", "ClusterRole"},
                 {"metadata", {{"name", "cluster-admin"}, {"uid", newUid()}, {"creationTimestamp", now},
                               {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}}},
                 {"rules", {{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                            {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}}}};
    tx.put("/clusterroles", std::move(role));
  }
}

std::optional<UserInfo> ApiServer::Impl::authenticate(const httplib::Request& req) {
  std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) != 0) return std::nullopt;
  std::string token = auth.substr(7);
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (!token.empty() && token == adminTokenValue) {
    return UserInfo{"sandbox-admin", {"system:masters", "system:authenticated"}};
  }
  std::lock_guard lock(tokenMu);
  auto it = tokens.find(token);
  if (it == tokens.end()) return std::nullopt;
  if (it->second.expires < clock.now()) {
    tokens.erase(it);
    return std::nullopt;
  }
  return it->second.user;
}

void ApiServer::Impl::handle(const httplib::Request& req, httplib::Response& res) {
  try {
    serve(req, res);
  } catch (const std::exception& e) {
    // A bug, not a client error: say so in a Status rather than drop the connection.
    res.status = 500;
    res.set_content(errors::internal(e.what()).toStatus().dump(), "application/json");
    std::fprintf(stderr, "sandbox-apiserver: internal error on %s %s: %s\n", req.method.c_str(),
                 req.path.c_str(), e.what());
  }
}

void ApiServer::Impl::serve(const httplib::Request& req, httplib::Response& res) {
  res.set_header("Audit-Id", newUid());
  res.set_header("Cache-Control", "no-cache, private");
  bool watch = req.has_param("watch") && parseBoolParam(req.get_param_value("watch")).value_or(false);
  Call call{req, res, parseRequestInfo(req.method, req.path, watch), {}, parseAccept(req.get_header_value("Accept")), {}};
  const std::string& path = req.path;

  bool publicPath = path == "/version" || path == "/healthz" || path == "/livez" || path == "/readyz";
  auto user = authenticate(req);
  if (!user && !publicPath) {
    send(call, errors::unauthorized());
    return;
  }
  if (user) call.user = *user;
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    res.set_content("ok", "text/plain");
    return;
  }
  if (path.rfind("/__sandbox/", 0) == 0) {
    if (!call.user.isAdmin()) {
      send(call, errors::forbidden("the /__sandbox/ hooks are for the admin only"));
      return;
    }
    send(call, sandboxHook(call));
    return;
  }
  if (!publicPath) {
    if (auto denied = authorize(call.user, call.info)) {
      ApiError e = errors::forbidden(*denied, call.info.name, call.info.group, call.info.resource);
      if (!call.info.isResource) e.details = nullptr;
      send(call, e);
      return;
    }
  }
  if (auto fault = takeFault(call.info.verb, path, req.get_header_value("User-Agent"))) {
    if (fault->delayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(fault->delayMs));
    if (fault->closeWatch) {
      res.status = 200;
      res.set_content("", "application/json");
      count(call, 200);
      return;
    }
    if (fault->code > 0) {
      ApiError e = errors::fromCode(fault->code, fmt::format("injected fault: {}", fault->code));
      if (fault->retryAfter >= 0) {
        e.retryAfterSeconds = fault->retryAfter;
        res.set_header("Retry-After", std::to_string(fault->retryAfter));
      }
      send(call, e);
      return;
    }
  }
  bool openapi = path.rfind("/openapi/", 0) == 0 || path == "/swagger-2.0.0.pb-v1";
  if (call.accept.protobufOnly && !openapi) {
    send(call, errors::notAcceptable());
    return;
  }

  ApiResult<Reply> r = errors::pathNotFound();
  if (path == "/version") {
    r = version(call);
  } else if (path == "/openapi/v2" || path == "/swagger-2.0.0.pb-v1") {
    r = openapiV2(call);
  } else if (path.rfind("/openapi/v3", 0) == 0) {
    r = openapiV3(call);
  } else if (call.info.isResource) {
    r = resource(call);
  } else if (path == "/api" || path.rfind("/api/", 0) == 0 || path == "/apis" ||
             path.rfind("/apis/", 0) == 0) {
    r = discovery(call);
  }
  if (call.streamed) {
    count(call, 200);
    return;
  }
  send(call, r);
}

void ApiServer::Impl::send(Call& call, const ApiResult<Reply>& r) {
  for (const auto& w : call.warnings) {
    std::string text = w;
    std::replace(text.begin(), text.end(), '"', '\'');
    call.res.set_header("Warning", fmt::format("299 - \"{}\"", text));
  }
  if (!r) {
    const ApiError& e = r.error();
    call.res.status = e.code;
    if (e.retryAfterSeconds && !call.res.has_header("Retry-After")) {
      call.res.set_header("Retry-After", std::to_string(*e.retryAfterSeconds));
    }
    call.res.set_content(e.toStatus().dump(), "application/json");
    count(call, e.code);
    return;
  }
  const Reply& rep = *r;
  call.res.status = rep.code;
  if (!rep.raw.empty() || rep.body.is_null()) {
    call.res.set_content(rep.raw, rep.contentType);
  } else {
    call.res.set_content(rep.body.dump(-1, ' ', false, Json::error_handler_t::replace), rep.contentType);
  }
  count(call, rep.code);
}

ApiServer::ApiServer(ApiServerOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
ApiServer::~ApiServer() { stop(); }
core::Status ApiServer::start() { return impl_->start(); }
void ApiServer::stop() { impl_->stop(); }
void ApiServer::wait() {
  std::unique_lock lock(impl_->stopMu);
  impl_->stopCv.wait(lock, [&] { return impl_->stopped; });
}
int ApiServer::port() const { return impl_->httpsPort; }
int ApiServer::httpPort() const { return impl_->plainPort; }
std::string ApiServer::url() const {
  return fmt::format("https://{}:{}", impl_->opts.bindAddress, impl_->httpsPort);
}
std::string ApiServer::kubeconfigPath() const { return impl_->kubeconfig; }
std::string ApiServer::adminToken() const { return impl_->adminTokenValue; }
std::string ApiServer::caCertPem() const { return impl_->caCert; }

}  // namespace mysqlop::sandbox
