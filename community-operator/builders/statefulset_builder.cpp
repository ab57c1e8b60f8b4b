#include "community-operator/builders/statefulset_builder.h"

#include <fmt/format.h>

#include "common/api/naming.h"

namespace mysqlop::community {
namespace {


Json envFromSecret(std::string_view name, const std::string& secret, const char* key) {
  return {{"name", std::string(name)}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

Json keyPath(const char* key, const char* path) { return {{"key", key}, {"path", path}}; }

const Json& templateSpec(const api::MySQL& my) {
  static const Json kEmpty = Json::object();
  if (!my.podTemplate.is_object()) return kEmpty;
  auto it = my.podTemplate.find("spec");
  return it != my.podTemplate.end() && it->is_object() ? *it : kEmpty;
}

const Json& templateMeta(const api::MySQL& my) {
  static const Json kEmpty = Json::object();
  if (!my.podTemplate.is_object()) return kEmpty;
  auto it = my.podTemplate.find("metadata");
  return it != my.podTemplate.end() && it->is_object() ? *it : kEmpty;
}

// KubeDB v1's container template: spec.podTemplate.spec.containers[] entry of that name (empty
// when there is none); v1alpha2's fields sit on the pod template's spec itself.
Json containerTemplate(const Json& ts, std::string_view name) {
  for (const auto& c : ts.value("containers", Json::array())) {
    if (c.is_object() && c.value("name", "") == name) return c;
  }
  return Json::object();
}

// A list field of both templates, the pod's (v1alpha2) first.
Json joined(const Json& ts, const Json& ct, const char* key) {
  Json out = Json::array();
  for (const Json* from : {&ts, &ct}) {
    for (const auto& x : from->value(key, Json::array())) out.push_back(x);
  }
  return out;
}

}  // namespace

Json buildStatefulSet(const api::MySQL& my, const Images& images) {
  const Json& ts = templateSpec(my);
  const Json& tm = templateMeta(my);
  const std::string authSecret = my.effectiveAuthSecretName();
  const bool tls = my.tls.has_value();
  const bool monitor = my.monitor.has_value();

  Json selector = Json::object();
  for (const auto& [k, v] : api::selectorLabels(my.name)) selector[k] = v;
  Json podLabels = Json::object();
  for (const auto& [k, v] : api::offshootLabels(my.name)) podLabels[k] = v;
  if (tm.contains("labels") && tm["labels"].is_object()) {
    for (auto it = tm["labels"].begin(); it != tm["labels"].end(); ++it) {
      if (!podLabels.contains(it.key())) podLabels[it.key()] = it.value();
    }
  }

  // --- mysql container
  const Json ct = containerTemplate(ts, api::kContainerMySQL);
  Json args = joined(ts, ct, "args");
  if (tls) {
    for (const auto& a : api::mysqldTlsArgs(my.requireSSL)) args.push_back(a);
  }
  Json env = Json::array({envFromSecret(api::kEnvRootUsername, authSecret, "username"),
                          envFromSecret(api::kEnvRootPassword, authSecret, "password")});
  if (my.isGroup()) {
    for (const auto& a : api::mysqldGroupArgs(my.name, my.namespace_, my.topology->groupName, static_cast<int>(my.replicas))) {
      args.push_back(a);
    }
    env.push_back({{"name", std::string(api::kEnvPodName)}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}});
  }
  for (const auto& e : joined(ts, ct, "env")) env.push_back(e);
  Json mounts = Json::array({{{"name", std::string(api::kVolumeData)}, {"mountPath", "/var/lib/mysql"}},
                             {{"name", std::string(api::kVolumeTmp)}, {"mountPath", "/tmp"}}});
  if (tls) mounts.push_back({{"name", std::string(api::kVolumeTls)}, {"mountPath", std::string(api::kCertsDir)}});
  if (!my.configSecretName.empty()) mounts.push_back({{"name", "custom-config"}, {"mountPath", "/etc/mysql/conf.d"}});
  // spec.init.script: where the image's entrypoint looks for scripts on an empty data directory.
  if (my.initScript) {
    mounts.push_back({{"name", "initial-script"}, {"mountPath", "/docker-entrypoint-initdb.d"}, {"readOnly", true}});
  }
  // The probe asks mysqld itself, over TCP (TLS when the server offers it). The password goes in
  // the environment (MYSQL_PWD), never on a command line where `ps` would show it.
  Json probe = {{"exec", {{"command", Json::array({"bash", "-c",
                                                    "MYSQL_PWD=\"${MYSQL_ROOT_PASSWORD}\" exec mysqladmin ping --host=127.0.0.1 "
                                                    "--port=3306 --user=\"${MYSQL_ROOT_USERNAME}\""})}}},
                {"initialDelaySeconds", 5}, {"periodSeconds", 10}, {"timeoutSeconds", 5}, {"failureThreshold", 3}};
  Json mysql = {{"name", std::string(api::kContainerMySQL)},
                {"image", images.db},
                {"imagePullPolicy", "IfNotPresent"},
                {"args", args},
                {"env", env},
                {"ports", Json::array({{{"name", std::string(api::kPortNameDb)}, {"containerPort", api::kMySQLPort}, {"protocol", "TCP"}}})},
                {"volumeMounts", mounts},
                {"readinessProbe", probe}};
  if (ct.contains("resources")) {
    mysql["resources"] = ct["resources"];
  } else if (ts.contains("resources")) {
    mysql["resources"] = ts["resources"];
  }
  if (ct.contains("securityContext")) mysql["securityContext"] = ct["securityContext"];
  Json containers = Json::array({mysql});

  // --- exporter sidecar
  if (monitor) {
    Json exporter = {{"name", std::string(api::kContainerExporter)},
                     {"image", images.exporter},
                     {"imagePullPolicy", "IfNotPresent"},
                     {"env", Json::array({envFromSecret(api::kEnvRootUsername, authSecret, "username"),
                                          envFromSecret(api::kEnvRootPassword, authSecret, "password")})},
                     {"ports", Json::array({{{"name", std::string(api::kPortNameMetrics)}, {"containerPort", api::kExporterPort}, {"protocol", "TCP"}}})}};
    if (tls) {
      // mysqld_exporter before 0.15 reads its TLS files once, at start (0.15 and later reread
      // them at every scrape). The kubelet swaps the files of a projected volume all at once
      // through its `..data` link: a shell runs the exporter and, once the files moved on (a
      // renewed client certificate, a CA of the trust bundle, exporter.cnf), stops it and starts
      // it again — inside the container, so the pod stays Ready and in its Services (a container
      // restart would take it out of them, and back off). An exporter that exits by itself ends
      // the container, as it would without the shell.
      const std::string data = fmt::format("{}/..data", api::kCertsDir);
      const std::string script = fmt::format(
          "trap 'kill $pid 2>/dev/null; wait $pid; exit 0' TERM INT\n"
          "while :; do\n"
          "  gen=$(readlink {0})\n"
          "  mysqld_exporter \"$@\" & pid=$!\n"
          "  while [ \"$(readlink {0})\" = \"$gen\" ]; do\n"
          "    if ! kill -0 $pid 2>/dev/null; then wait $pid; exit $?; fi\n"
          "    sleep 1\n"
          "  done\n"
          "  echo 'TLS files renewed: restarting mysqld_exporter to load them'\n"
          "  kill $pid; wait $pid\n"
          "done\n",
          data);
      Json cmd = Json::array({"/bin/sh", "-c", script, "mysqld_exporter"});
      for (const auto& a : api::exporterArgs()) cmd.push_back(a);
      exporter["command"] = cmd;
      exporter["volumeMounts"] = Json::array({{{"name", std::string(api::kVolumeExporterTls)}, {"mountPath", std::string(api::kCertsDir)}}});
    } else {
      exporter["command"] = Json::array({"/bin/sh", "-c",
                                         fmt::format("export DATA_SOURCE_NAME=\"${{MYSQL_ROOT_USERNAME}}:${{MYSQL_ROOT_PASSWORD}}@(127.0.0.1:{})/\"; "
                                                     "exec mysqld_exporter --web.listen-address=:{} --web.telemetry-path=/metrics",
                                                     api::kMySQLPort, api::kExporterPort)});
    }
    const Json et = containerTemplate(ts, api::kContainerExporter);
    for (const char* k : {"resources", "securityContext"}) {
      if (et.contains(k)) exporter[k] = et[k];
    }
    containers.push_back(exporter);
  }

  // --- volumes
  Json volumes = Json::array({{{"name", std::string(api::kVolumeTmp)}, {"emptyDir", Json::object()}}});
  if (my.storageType == "Ephemeral") volumes.push_back({{"name", std::string(api::kVolumeData)}, {"emptyDir", Json::object()}});
  if (tls) {
    volumes.push_back({{"name", std::string(api::kVolumeTls)},
                       {"projected", {{"sources", Json::array({
                           {{"secret", {{"name", api::trustBundleSecretName(my.name)},
                                        {"items", Json::array({keyPath("ca.crt", "ca.crt")})}}}},
                           {{"secret", {{"name", my.certSecretName(std::string(api::kAliasServer))},
                                        {"items", Json::array({keyPath("tls.crt", "server.crt"), keyPath("tls.key", "server.key")})}}}},
                           {{"secret", {{"name", my.certSecretName(std::string(api::kAliasClient))},
                                        {"items", Json::array({keyPath("tls.crt", "client.crt"), keyPath("tls.key", "client.key")})}}}}})}}}});
    volumes.push_back({{"name", std::string(api::kVolumeExporterTls)},
                       {"projected", {{"sources", Json::array({
                           {{"secret", {{"name", api::trustBundleSecretName(my.name)},
                                        {"items", Json::array({keyPath("ca.crt", "ca.crt")})}}}},
                           {{"secret", {{"name", my.certSecretName(std::string(api::kAliasExporter))},
                                        {"items", Json::array({keyPath("tls.crt", "exporter.crt"), keyPath("tls.key", "exporter.key")})}}}},
                           {{"secret", {{"name", api::exporterConfigSecretName(my.name)},
                                        {"items", Json::array({keyPath("exporter.cnf", "exporter.cnf")})}}}}})}}}});
  }
  if (!my.configSecretName.empty()) {
    volumes.push_back({{"name", "custom-config"}, {"secret", {{"secretName", my.configSecretName}}}});
  }
  if (my.initScript && !my.initScript->configMap.empty()) {
    volumes.push_back({{"name", "initial-script"}, {"configMap", {{"name", my.initScript->configMap}}}});
  } else if (my.initScript) {
    volumes.push_back({{"name", "initial-script"}, {"secret", {{"secretName", my.initScript->secret}}}});
  }

  Json podSpec = {{"serviceAccountName", api::serviceAccountName(my.name)},
                  {"containers", containers},
                  {"volumes", volumes},
                  {"terminationGracePeriodSeconds", 30}};
  for (const char* k : {"nodeSelector", "tolerations", "affinity", "securityContext", "serviceAccountName"}) {
    if (ts.contains(k)) podSpec[k] = ts[k];
  }
  Json podMeta = {{"labels", podLabels}};
  if (tm.contains("annotations") && tm["annotations"].is_object() && !tm["annotations"].empty()) {
    podMeta["annotations"] = tm["annotations"];
  }

  Json sts = {{"apiVersion", "apps/v1"},
              {"kind", "StatefulSet"},
              {"metadata", api::objectMeta(my, api::statefulSetName(my.name))},
              {"spec", {{"replicas", my.replicas},
                        {"serviceName", api::governingServiceName(my.name)},
                        {"selector", {{"matchLabels", selector}}},
                        // A group's members start together: the operator, not the order, decides who bootstraps.
                        {"podManagementPolicy", my.isGroup() ? "Parallel" : "OrderedReady"},
                        // KubeDB's: a template change (requireSSL, TLS, images) is staged, and reaches
                        // the pods when a MySQLOpsRequest restarts them one at a time (issue 19) — never
                        // all databases at once. null drops the rollingUpdate an older operator set.
                        {"updateStrategy", {{"type", "OnDelete"}, {"rollingUpdate", nullptr}}},
                        {"template", {{"metadata", podMeta}, {"spec", podSpec}}}}}};
  if (my.storageType == "Durable") {
    Json storage = my.storage;
    if (!storage.contains("accessModes")) storage["accessModes"] = Json::array({"ReadWriteOnce"});
    sts["spec"]["volumeClaimTemplates"] = Json::array({{{"metadata", {{"name", std::string(api::kVolumeData)}}}, {"spec", storage}}});
  }
  return sts;
}

}  // namespace mysqlop::community
