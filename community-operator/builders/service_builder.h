#pragma once
// The Services of a MySQL (docs/design.md §4): primary `<db>` (port primary 3306 → db; a group's
// selects the member labelled kubedb.com/role: primary), a group's `<db>-standby`, governing
// `<db>-pods` (headless, publishNotReadyAddresses, port db 3306) and, with `monitor`, stats
// `<db>-stats` (port metrics 56790). `spec.serviceTemplates` entries with alias primary or stats
// add their annotations and labels and may set the Service type. Pure.

#include <optional>

#include "common/api/meta.h"

namespace mysqlop::community {

using Json = nlohmann::json;

Json buildPrimaryService(const api::MySQL& my);
Json buildGoverningService(const api::MySQL& my);
// A group's secondaries: <db>-standby (port standby 3306 → db), selecting kubedb.com/role: standby.
Json buildStandbyService(const api::MySQL& my);
Json buildStatsService(const api::MySQL& my);
// With spec.monitor.agent prometheus.io/operator: a ServiceMonitor <db>-stats (KubeDB's) for the
// stats Service — its labels plus monitor.prometheus.serviceMonitor.labels, the metrics port
// every monitor.prometheus.serviceMonitor.interval (10s by default). nullopt without that agent.
std::optional<Json> buildServiceMonitor(const api::MySQL& my);

}  // namespace mysqlop::community
