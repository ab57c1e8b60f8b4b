#include "common/runtime/metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace mysqlop::runtime {
namespace {

const prometheus::Histogram::BucketBoundaries& latencyBuckets() {
  // controller-runtime's reconcile buckets (seconds).
  static const prometheus::Histogram::BucketBoundaries b = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7,
      0.8,   0.9,  1.0,   1.25, 1.5, 1.75, 2.0, 2.5,  3.0, 4.0,  5.0, 6.0,  7.0, 8.0, 9.0,
      10.0,  15.0, 20.0,  25.0, 30.0, 40.0, 50.0, 60.0};
  return b;
}

const prometheus::Histogram::BucketBoundaries& queueBuckets() {
  // workqueue's exponential buckets: 1e-8 … 10 s.
  static const prometheus::Histogram::BucketBoundaries b = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4,
                                                            1e-3, 1e-2, 1e-1, 1.0,  10.0};
  return b;
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcileTotal_(prometheus::BuildCounter()
                          .Name("controller_runtime_reconcile_total")
                          .Help("Total number of reconciliations per controller")
                          .Register(*registry_)),
      reconcileErrors_(prometheus::BuildCounter()
                           .Name("controller_runtime_reconcile_errors_total")
                           .Help("Total number of reconciliation errors per controller")
                           .Register(*registry_)),
      reconcileTime_(prometheus::BuildHistogram()
                         .Name("controller_runtime_reconcile_time_seconds")
                         .Help("Length of time per reconciliation per controller")
                         .Register(*registry_)),
      depth_(prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(*registry_)),
      adds_(prometheus::BuildCounter()
                .Name("workqueue_adds_total")
                .Help("Total number of adds handled by workqueue")
                .Register(*registry_)),
      retries_(prometheus::BuildCounter()
                   .Name("workqueue_retries_total")
                   .Help("Total number of retries handled by workqueue")
                   .Register(*registry_)),
      queueDuration_(prometheus::BuildHistogram()
                         .Name("workqueue_queue_duration_seconds")
                         .Help("How long in seconds an item stays in workqueue before being requested")
                         .Register(*registry_)),
      restRequests_(prometheus::BuildCounter()
                        .Name("rest_client_requests_total")
                        .Help("Number of HTTP requests, partitioned by status code, method, and host.")
                        .Register(*registry_)),
      leader_(prometheus::BuildGauge()
                  .Name("leader_election_master_status")
                  .Help("Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.")
                  .Register(*registry_)) {}

std::string Metrics::serialize() const {
  prometheus::TextSerializer s;
  std::ostringstream out;
  s.Serialize(out, registry_->Collect());
  return out.str();
}

void Metrics::reconciled(const std::string& controller, const std::string& result, double seconds) {
  reconcileTotal_.Add({{"controller", controller}, {"result", result}}).Increment();
  if (result == "error") reconcileErrors_.Add({{"controller", controller}}).Increment();
  reconcileTime_.Add({{"controller", controller}}, latencyBuckets()).Observe(seconds);
}

void Metrics::queueAdd(const std::string& queue) { adds_.Add({{"name", queue}}).Increment(); }
void Metrics::queueRetry(const std::string& queue) { retries_.Add({{"name", queue}}).Increment(); }
void Metrics::queueDepth(const std::string& queue, double depth) { depth_.Add({{"name", queue}}).Set(depth); }
void Metrics::queueLatency(const std::string& queue, double seconds) {
  queueDuration_.Add({{"name", queue}}, queueBuckets()).Observe(seconds);
}
void Metrics::restRequest(const std::string& code, const std::string& method) {
  restRequests_.Add({{"code", code}, {"method", method}}).Increment();
}
void Metrics::leader(const std::string& name, bool isLeader) {
  leader_.Add({{"name", name}}).Set(isLeader ? 1.0 : 0.0);
}

}  // namespace mysqlop::runtime
