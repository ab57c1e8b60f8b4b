#pragma once
// The runtime's Prometheus metrics, under controller-runtime's names, in one registry that the
// manager serves at /metrics (text format via prometheus-cpp):
//   controller_runtime_reconcile_total{controller,result}, controller_runtime_reconcile_errors_total,
//   controller_runtime_reconcile_time_seconds, workqueue_depth, workqueue_adds_total,
//   workqueue_retries_total, workqueue_queue_duration_seconds, rest_client_requests_total{code,method},
//   leader_election_master_status.
// Programs add their own metrics to `registry()`. Thread-safe (prometheus-cpp's metrics are).

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace mysqlop::runtime {

class Metrics {
 public:
  Metrics();

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> registryPtr() { return registry_; }
  // The whole registry in Prometheus text exposition format.
  std::string serialize() const;

  // controller: result ∈ success, error, requeue, requeue_after.
  void reconciled(const std::string& controller, const std::string& result, double seconds);
  void queueAdd(const std::string& queue);
  void queueRetry(const std::string& queue);
  void queueDepth(const std::string& queue, double depth);
  void queueLatency(const std::string& queue, double seconds);
  void restRequest(const std::string& code, const std::string& method);
  void leader(const std::string& name, bool isLeader);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcileTotal_;
  prometheus::Family<prometheus::Counter>& reconcileErrors_;
  prometheus::Family<prometheus::Histogram>& reconcileTime_;
  prometheus::Family<prometheus::Gauge>& depth_;
  prometheus::Family<prometheus::Counter>& adds_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Histogram>& queueDuration_;
  prometheus::Family<prometheus::Counter>& restRequests_;
  prometheus::Family<prometheus::Gauge>& leader_;
};

}  // namespace mysqlop::runtime
