#include "common/api/naming.h"

#include <fmt/format.h>

namespace mysqlop::api {

const std::vector<std::string>& tlsAliases() {
  static const std::vector<std::string> a = {std::string(kAliasServer), std::string(kAliasClient),
                                             std::string(kAliasExporter)};
  return a;
}

std::string authSecretName(std::string_view db) { return fmt::format("{}-auth", db); }
std::string primaryServiceName(std::string_view db) { return std::string(db); }
std::string governingServiceName(std::string_view db) { return fmt::format("{}-pods", db); }
std::string statsServiceName(std::string_view db) { return fmt::format("{}-stats", db); }
std::string statefulSetName(std::string_view db) { return std::string(db); }
std::string serviceAccountName(std::string_view db) { return std::string(db); }
std::string certificateName(std::string_view db, std::string_view alias) {
  return fmt::format("{}-{}-cert", db, alias);
}
std::string defaultCertSecretName(std::string_view db, std::string_view alias) {
  return certificateName(db, alias);
}
std::string exporterConfigSecretName(std::string_view db) {
  return fmt::format("{}-metrics-exporter-config", db);
}
std::string podName(std::string_view db, int ordinal) { return fmt::format("{}-{}", db, ordinal); }
std::string serviceHost(std::string_view db, std::string_view ns) { return fmt::format("{}.{}.svc", db, ns); }
std::string podHost(std::string_view db, std::string_view ns, int ordinal) {
  return fmt::format("{}.{}.{}.svc", podName(db, ordinal), governingServiceName(db), ns);
}

std::map<std::string, std::string> selectorLabels(std::string_view db) {
  return {{std::string(kLabelName), std::string(kLabelNameValue)},
          {std::string(kLabelInstance), std::string(db)},
          {std::string(kLabelManagedBy), std::string(kLabelManagedByValue)}};
}

std::map<std::string, std::string> offshootLabels(std::string_view db) {
  auto l = selectorLabels(db);
  l.emplace(kLabelComponent, kLabelComponentValue);
  return l;
}

std::vector<std::string> mysqldTlsArgs(bool requireSecureTransport) {
  std::vector<std::string> args = {
      fmt::format("--ssl-capath={}", kCertsDir),
      fmt::format("--ssl-ca={}/ca.crt", kCertsDir),
      fmt::format("--ssl-cert={}/server.crt", kCertsDir),
      fmt::format("--ssl-key={}/server.key", kCertsDir),
  };
  if (requireSecureTransport) args.push_back("--require-secure-transport=ON");
  return args;
}

std::vector<std::string> exporterArgs() {
  return {fmt::format("--web.listen-address=:{}", kExporterPort), "--web.telemetry-path=/metrics",
          fmt::format("--config.my-cnf={}/{}", kCertsDir, kExporterConfigKey)};
}

}  // namespace mysqlop::api
