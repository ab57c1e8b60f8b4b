// Benchmark: one round of the community operator's health checks over N databases (issue 18:
// "a full round of checks at 1,000 databases within its interval"). The checker runs as the
// operator runs it (its work queue and workers, the real clock), over in-memory caches; each
// probe takes `--probe-ms` (what a healthy server on the cluster network costs: connect, TLS
// handshake, login, a query), and with `--hung N` that many databases never answer within the
// probe timeout. Prints one JSON line: the time until every database has a verdict.
//
//   health_round_bench [--databases 1000] [--workers 8] [--probe-ms 10] [--hung 0] [--timeout-ms 5000]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/kube/base64.h"
#include "community-operator/controller/health_checker.h"

using namespace mysqlop;
using Clock = std::chrono::steady_clock;
using runtime::Json;

int main(int argc, char** argv) {
  int databases = 1000, workers = 8, probeMs = 10, hung = 0, timeoutMs = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (a == "--databases") databases = v;
    else if (a == "--workers") workers = v;
    else if (a == "--probe-ms") probeMs = v;
    else if (a == "--hung") hung = v;
    else if (a == "--timeout-ms") timeoutMs = v;
  }
  runtime::ObjectCache mysqls, secrets, sts;
  for (int i = 0; i < databases; ++i) {
    const std::string n = "db" + std::to_string(i);
    mysqls.upsert(std::make_shared<const Json>(Json{
        {"apiVersion", "kubedb.com/v1"},
        {"kind", "MySQL"},
        {"metadata", {{"name", n}, {"namespace", "demo"}, {"uid", "u" + n}}},
        {"spec", {{"version", "8.4.3"}, {"storageType", "Ephemeral"}}}}));
    secrets.upsert(std::make_shared<const Json>(
        Json{{"metadata", {{"name", n + "-auth"}, {"namespace", "demo"}}},
             {"data", {{"username", kube::base64Encode("root")}, {"password", kube::base64Encode("pw")}}}}));
    sts.upsert(std::make_shared<const Json>(
        Json{{"metadata", {{"name", n}, {"namespace", "demo"}}}, {"status", {{"readyReplicas", 1}}}}));
  }
  std::atomic<int> verdicts{0};
  community::HealthChecker checker(
      mysqls, secrets, sts, [&](const std::string&) { ++verdicts; },
      {.interval = std::chrono::seconds(10),
       .workers = workers,
       .probe =
           [&](const community::ProbeTarget& t) -> core::Result<community::ProbeResult> {
             const int i = std::stoi(t.host.substr(2, t.host.find('.') - 2));
             if (i < hung) {
               std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs));
               return core::unavailable("timed out");
             }
             std::this_thread::sleep_for(std::chrono::milliseconds(probeMs));
             return community::ProbeResult{"8.4.3", "", ""};
           }},
      core::systemClock(), core::Logger(core::stderrSink(), core::LogLevel::kWarn));
  const auto t0 = Clock::now();
  checker.start();
  for (int i = 0; i < databases; ++i) checker.trigger("demo/db" + std::to_string(i));
  while (verdicts.load() < databases) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double round = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto s0 = Clock::now();
  const bool ended = checker.stop(std::chrono::seconds(2));
  const double stop = std::chrono::duration<double>(Clock::now() - s0).count();
  std::printf("%s\n", Json{{"databases", databases}, {"workers", workers}, {"probeMs", probeMs}, {"hung", hung},
                           {"roundSeconds", round}, {"intervalSeconds", 10}, {"stopSeconds", stop}}
                          .dump()
                          .c_str());
  std::fflush(stdout);
  if (!ended) std::_Exit(0);  // a hung probe still in flight: as the operator does
  return 0;
}
