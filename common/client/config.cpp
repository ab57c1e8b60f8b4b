#include "common/client/config.h"

#include "common/core/file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/kube/base64.h"

namespace mysqlop::client {
namespace {

namespace fs = std::filesystem;

class Kubeconfig {
 public:
  Kubeconfig(std::string_view path) : path_(path) {}

  core::Error fail(std::string_view field, std::string_view problem) const {
    return core::invalid(fmt::format("kubeconfig {}: {}: {}", path_, field, problem));
  }

  // Finds the entry named `name` in a list like `clusters`; returns its inner map (`cluster`).
  core::Result<YAML::Node> entry(const YAML::Node& root, const char* list, const char* inner,
                                 const std::string& name) const {
    YAML::Node items = root[list];
    if (items && !items.IsSequence()) return fail(list, "must be a list");
    if (items) {
      for (size_t i = 0; i < items.size(); ++i) {
        YAML::Node item = items[i];
        if (item.IsMap() && item["name"] && item["name"].as<std::string>("") == name) {
          YAML::Node body = item[inner];
          if (!body || !body.IsMap()) {
            return fail(fmt::format("{}[{}].{}", list, i, inner), "missing or not a map");
          }
          return body;
        }
      }
    }
    return fail(list, fmt::format("no entry named \"{}\"", name));
  }

  std::string str(const YAML::Node& n, const char* key) const {
    YAML::Node v = n[key];
    return v && v.IsScalar() ? v.as<std::string>("") : std::string();
  }

  // A `<field>-data` (base64) or `<field>` (file path, relative to the kubeconfig) pair.
  core::Result<std::string> material(const YAML::Node& n, const std::string& where,
                                     const std::string& field) const {
    std::string data = str(n, (field + "-data").c_str());
    if (!data.empty()) {
      auto decoded = kube::base64Decode(data);
      if (!decoded) return fail(where + "." + field + "-data", "is not valid base64");
      return *decoded;
    }
    std::string file = str(n, field.c_str());
    if (file.empty()) return std::string();
    fs::path p(file);
    if (p.is_relative()) p = fs::path(path_).parent_path() / p;
    auto content = core::readFile(p.string());
    if (!content) return fail(where + "." + field, content.error().message);
    return *content;
  }

 private:
  std::string path_;
};

bool looksLikePem(const std::string& s, std::string_view what) {
  return s.find("-----BEGIN") != std::string::npos && s.find(what) != std::string::npos;
}

}  // namespace

std::optional<std::string> processEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

core::Result<RestConfig> parseKubeconfig(std::string_view yaml, std::string_view path,
                                         std::string_view context) {
  Kubeconfig kc(path);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return core::invalid(fmt::format("kubeconfig {}: not valid YAML: {}", path, e.what()));
  }
  if (!root.IsMap()) return core::invalid(fmt::format("kubeconfig {}: not a kubeconfig (expected a map)", path));

  std::string ctxName(context);
  if (ctxName.empty()) ctxName = kc.str(root, "current-context");
  if (ctxName.empty()) return kc.fail("current-context", "not set and no context was named");
  auto ctx = kc.entry(root, "contexts", "context", ctxName);
  if (!ctx) return ctx.error();
  std::string ctxWhere = fmt::format("context \"{}\"", ctxName);
  std::string clusterName = kc.str(*ctx, "cluster");
  if (clusterName.empty()) return kc.fail(ctxWhere + ".cluster", "missing");
  auto cluster = kc.entry(root, "clusters", "cluster", clusterName);
  if (!cluster) return cluster.error();

  RestConfig cfg;
  cfg.source = fmt::format("kubeconfig {} (context {})", path, ctxName);
  cfg.namespace_ = kc.str(*ctx, "namespace");
  std::string clWhere = fmt::format("cluster \"{}\"", clusterName);
  cfg.server = kc.str(*cluster, "server");
  if (cfg.server.empty()) return kc.fail(clWhere + ".server", "missing");
  if (cfg.server.rfind("https://", 0) != 0 && cfg.server.rfind("http://", 0) != 0) {
    return kc.fail(clWhere + ".server", fmt::format("\"{}\" is not an http(s) URL", cfg.server));
  }
  cfg.insecureSkipTlsVerify = kc.str(*cluster, "insecure-skip-tls-verify") == "true";
  auto ca = kc.material(*cluster, clWhere, "certificate-authority");
  if (!ca) return ca.error();
  cfg.caPem = std::move(*ca);
  if (!cfg.caPem.empty() && !looksLikePem(cfg.caPem, "CERTIFICATE")) {
    return kc.fail(clWhere + ".certificate-authority", "does not hold a PEM certificate");
  }

  std::string userName = kc.str(*ctx, "user");
  if (!userName.empty()) {
    auto user = kc.entry(root, "users", "user", userName);
    if (!user) return user.error();
    std::string uWhere = fmt::format("user \"{}\"", userName);
    for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
      if ((*user)[unsupported]) {
        return kc.fail(uWhere + "." + unsupported,
                       "is not supported; use a token, a tokenFile or a client certificate");
      }
    }
    cfg.token = kc.str(*user, "token");
    std::string tokenFile = kc.str(*user, "tokenFile");
    if (!tokenFile.empty()) {
      fs::path p(tokenFile);
      if (p.is_relative()) p = fs::path(path).parent_path() / p;
      if (!fs::exists(p)) return kc.fail(uWhere + ".tokenFile", fmt::format("{} does not exist", p.string()));
      cfg.tokenFile = p.string();
    }
    auto cert = kc.material(*user, uWhere, "client-certificate");
    if (!cert) return cert.error();
    auto key = kc.material(*user, uWhere, "client-key");
    if (!key) return key.error();
    cfg.clientCertPem = std::move(*cert);
    cfg.clientKeyPem = std::move(*key);
    if (cfg.clientCertPem.empty() != cfg.clientKeyPem.empty()) {
      return kc.fail(uWhere + (cfg.clientKeyPem.empty() ? ".client-key" : ".client-certificate"),
                     "missing: a client certificate needs both client-certificate and client-key");
    }
    if (!cfg.clientCertPem.empty() && !looksLikePem(cfg.clientCertPem, "CERTIFICATE")) {
      return kc.fail(uWhere + ".client-certificate", "does not hold a PEM certificate");
    }
    if (!cfg.clientKeyPem.empty() && !looksLikePem(cfg.clientKeyPem, "PRIVATE KEY")) {
      return kc.fail(uWhere + ".client-key", "does not hold a PEM private key");
    }
  }
  return cfg;
}

core::Result<RestConfig> loadKubeconfig(std::string_view path, std::string_view context) {
  auto text = core::readFile(path);
  if (!text) return core::invalid(fmt::format("kubeconfig: {}", text.error().message));
  return parseKubeconfig(*text, path, context);
}

core::Result<RestConfig> inClusterConfig(const EnvLookup& env, std::string_view saDir) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return core::invalid(
        "unable to load in-cluster configuration: KUBERNETES_SERVICE_HOST and "
        "KUBERNETES_SERVICE_PORT must be defined (or pass --kubeconfig)");
  }
  RestConfig cfg;
  std::string h = host->find(':') != std::string::npos ? "[" + *host + "]" : *host;  // IPv6
  cfg.server = fmt::format("https://{}:{}", h, *port);
  std::string dir(saDir);
  cfg.tokenFile = dir + "/token";
  if (!fs::exists(cfg.tokenFile)) {
    return core::invalid(fmt::format("in-cluster configuration: {} does not exist", cfg.tokenFile));
  }
  auto ca = core::readFile(dir + "/ca.crt");
  if (!ca) return core::invalid("in-cluster configuration: " + ca.error().message);
  cfg.caPem = std::move(*ca);
  if (auto ns = core::readFile(dir + "/namespace")) {
    cfg.namespace_ = *ns;
    while (!cfg.namespace_.empty() && std::isspace(static_cast<unsigned char>(cfg.namespace_.back()))) {
      cfg.namespace_.pop_back();
    }
  }
  cfg.source = "in-cluster service account " + dir;
  return cfg;
}

core::Result<RestConfig> loadConfig(std::string_view flag, std::string_view context,
                                    const EnvLookup& env, std::string_view saDir) {
  if (!flag.empty()) return loadKubeconfig(flag, context);
  if (auto list = env("KUBECONFIG"); list && !list->empty()) {
    std::string_view rest = *list;
    while (!rest.empty()) {
      auto colon = rest.find(':');
      std::string_view one = rest.substr(0, colon);
      if (!one.empty() && fs::exists(std::string(one))) return loadKubeconfig(one, context);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (auto home = env("HOME"); home && !home->empty()) {
    std::string p = *home + "/.kube/config";
    if (fs::exists(p)) return loadKubeconfig(p, context);
  }
  return inClusterConfig(env, saDir);
}

}  // namespace mysqlop::client
