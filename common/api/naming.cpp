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
std::string standbyServiceName(std::string_view db) { return fmt::format("{}-standby", db); }
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
std::string trustBundleSecretName(std::string_view db) { return fmt::format("{}-ca-bundle", db); }
std::string issuerCaSecretName(std::string_view db) { return fmt::format("{}-issuer-ca", db); }
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

std::vector<std::string> mysqldGroupArgs(std::string_view db, std::string_view ns, std::string_view groupName, int members) {
  const std::string self = fmt::format("$({}).{}.{}.svc", kEnvPodName, governingServiceName(db), ns);
  std::string seeds;
  for (int i = 0; i < members; ++i) seeds += fmt::format("{}{}:{}", i ? "," : "", podHost(db, ns, i), kGroupPort);
  return {
      "--gtid-mode=ON",
      "--enforce-gtid-consistency=ON",
      "--plugin-load-add=group_replication.so",
      fmt::format("--report-host={}", self),
      fmt::format("--loose-group-replication-group-name={}", groupName),
      "--loose-group-replication-start-on-boot=OFF",
      fmt::format("--loose-group-replication-local-address={}:{}", self, kGroupPort),
      fmt::format("--loose-group-replication-group-seeds={}", seeds),
      "--loose-group-replication-single-primary-mode=ON",
      // A member that stops answering is expelled after the 5 s suspicion, not 5 s + 5 s more:
      // a killed primary is replaced in about 7 s (docs/design.md §11).
      "--loose-group-replication-member-expel-timeout=0",
      "--loose-group-replication-ssl-mode=VERIFY_IDENTITY",
      "--loose-group-replication-recovery-use-ssl=ON",
      "--loose-group-replication-recovery-ssl-verify-server-cert=ON",
      fmt::format("--loose-group-replication-recovery-ssl-ca={}/ca.crt", kCertsDir),
      fmt::format("--loose-group-replication-recovery-ssl-cert={}/server.crt", kCertsDir),
      fmt::format("--loose-group-replication-recovery-ssl-key={}/server.key", kCertsDir),
  };
}

std::vector<std::string> exporterArgs() {
  return {fmt::format("--web.listen-address=:{}", kExporterPort), "--web.telemetry-path=/metrics",
          fmt::format("--config.my-cnf={}/{}", kCertsDir, kExporterConfigKey)};
}

}  // namespace mysqlop::api
