#include "community-operator/builders/service_builder.h"

#include "common/api/catalog.h"
#include "common/api/naming.h"

namespace mysqlop::community {
namespace {

Json selector(const api::MySQL& my) {
  Json s = Json::object();
  for (const auto& [k, v] : api::selectorLabels(my.name)) s[k] = v;
  return s;
}

// A group's Services route by the members' roles (the label the operator keeps on each pod).
Json selector(const api::MySQL& my, std::string_view role) {
  Json s = selector(my);
  if (my.isGroup()) s[std::string(api::kLabelRole)] = std::string(role);
  return s;
}

// Applies the user's serviceTemplates[alias] to a Service.
void applyTemplate(const api::MySQL& my, const std::string& alias, Json& svc) {
  if (!my.serviceTemplates.is_array()) return;
  for (const auto& t : my.serviceTemplates) {
    if (!t.is_object() || t.value("alias", "") != alias) continue;
    const Json md = t.value("metadata", Json::object());
    for (const char* m : {"annotations", "labels"}) {
      if (md.contains(m) && md[m].is_object()) {
        for (auto it = md[m].begin(); it != md[m].end(); ++it) svc["metadata"][m][it.key()] = it.value();
      }
    }
    const Json spec = t.value("spec", Json::object());
    if (spec.contains("type") && spec["type"].is_string()) svc["spec"]["type"] = spec["type"];
    for (const char* k : {"externalTrafficPolicy", "loadBalancerSourceRanges", "loadBalancerClass"}) {
      if (spec.contains(k)) svc["spec"][k] = spec[k];
    }
    // A port of the template changes the Service's port of that name: its number, its nodePort.
    for (const auto& p : spec.value("ports", Json::array())) {
      if (!p.is_object()) continue;
      for (auto& port : svc["spec"]["ports"]) {
        if (port.value("name", "") != p.value("name", "")) continue;
        for (const char* k : {"port", "nodePort"}) {
          if (p.contains(k) && p[k].is_number_integer()) port[k] = p[k];
        }
      }
    }
  }
}

}  // namespace

Json buildPrimaryService(const api::MySQL& my) {
  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", api::objectMeta(my, api::primaryServiceName(my.name))},
              {"spec", {{"type", "ClusterIP"},
                        {"selector", selector(my, api::kRolePrimary)},
                        {"ports", Json::array({{{"name", std::string(api::kPortNamePrimary)},
                                                {"port", api::kMySQLPort},
                                                {"protocol", "TCP"},
                                                {"targetPort", std::string(api::kPortNameDb)}}})}}}};
  applyTemplate(my, "primary", svc);
  return svc;
}

Json buildStandbyService(const api::MySQL& my) {
  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", api::objectMeta(my, api::standbyServiceName(my.name))},
              {"spec", {{"type", "ClusterIP"},
                        {"selector", selector(my, api::kRoleStandby)},
                        {"ports", Json::array({{{"name", std::string(api::kPortNameStandby)},
                                                {"port", api::kMySQLPort},
                                                {"protocol", "TCP"},
                                                {"targetPort", std::string(api::kPortNameDb)}}})}}}};
  applyTemplate(my, "standby", svc);
  return svc;
}

Json buildGoverningService(const api::MySQL& my) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", api::objectMeta(my, api::governingServiceName(my.name))},
          {"spec", {{"type", "ClusterIP"},
                    {"clusterIP", "None"},
                    {"publishNotReadyAddresses", true},
                    {"selector", selector(my)},
                    {"ports", Json::array({{{"name", std::string(api::kPortNameDb)},
                                            {"port", api::kMySQLPort},
                                            {"protocol", "TCP"},
                                            {"targetPort", std::string(api::kPortNameDb)}}})}}}};
}

Json buildStatsService(const api::MySQL& my) {
  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", api::objectMeta(my, api::statsServiceName(my.name))},
              {"spec", {{"type", "ClusterIP"},
                        {"selector", selector(my)},
                        {"ports", Json::array({{{"name", std::string(api::kPortNameMetrics)},
                                                {"port", api::kExporterPort},
                                                {"protocol", "TCP"},
                                                {"targetPort", std::string(api::kPortNameMetrics)}}})}}}};
  svc["metadata"]["labels"]["kubedb.com/role"] = "stats";
  applyTemplate(my, "stats", svc);
  return svc;
}

std::optional<Json> buildServiceMonitor(const api::MySQL& my) {
  if (!my.monitor || !my.monitor->is_object() || my.monitor->value("agent", "") != api::kAgentPrometheusOperator) return std::nullopt;
  const Json sm = my.monitor->value("prometheus", Json::object()).value("serviceMonitor", Json::object());
  Json meta = api::objectMeta(my, api::statsServiceName(my.name));
  const Json labels = sm.value("labels", Json::object());
  for (const auto& [k, v] : labels.items()) {
    if (!meta["labels"].contains(k)) meta["labels"][k] = v;
  }
  Json match = selector(my);
  match["kubedb.com/role"] = "stats";
  return Json{{"apiVersion", "monitoring.coreos.com/v1"},
              {"kind", "ServiceMonitor"},
              {"metadata", meta},
              {"spec", {{"selector", {{"matchLabels", match}}},
                        {"namespaceSelector", {{"matchNames", Json::array({my.namespace_})}}},
                        {"endpoints", Json::array({{{"port", std::string(api::kPortNameMetrics)},
                                                    {"path", "/metrics"},
                                                    {"interval", sm.value("interval", std::string("10s"))},
                                                    {"honorLabels", true}}})}}}};
}

}  // namespace mysqlop::community
