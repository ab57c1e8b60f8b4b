// Benchmark: sandbox-apiserver holding W concurrent watches while N objects are written
// (issue "Sandbox apiserver": at least 50 watches and 10,000 objects without degrading).
// Prints one JSON line: write throughput, time until every watch saw every object, list
// latency at full size, and the process's peak RSS.
//
//   apiserver_fanout_bench [--watches 50] [--objects 10000] [--writers 4]
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/client/rest_client.h"
#include "e2e/sandbox/apiserver/api_server.h"

using namespace mysqlop;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int watches = 50, objects = 10000, writers = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::stoi(argv[i + 1]);
    if (a == "--watches") watches = v;
    else if (a == "--objects") objects = v;
    else if (a == "--writers") writers = v;
  }
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "apiserver-bench-XXXXXX").string();
  fs::path dir = mkdtemp(tmpl.data());
  sandbox::ApiServer server({.dataDir = dir.string(), .threads = static_cast<size_t>(watches + 64)});
  if (!server.start()) return 1;
  client::RestConfig cfg{.server = server.url(), .caPem = server.caCertPem(), .token = server.adminToken()};
  auto mk = [&] { return std::move(*client::RestClient::create(cfg)); };
  auto admin = mk();
  auto startList = admin->list(kube::kConfigMaps, "default");
  std::string rv = (*startList)["metadata"]["resourceVersion"];

  std::vector<std::atomic<int>> seen(static_cast<size_t>(watches));
  std::vector<std::thread> watchers;
  std::stop_source stop;
  for (int w = 0; w < watches; ++w) {
    watchers.emplace_back([&, w] {
      auto cli = mk();
      (void)cli->watch(kube::kConfigMaps, "default", {.resourceVersion = rv, .timeoutSeconds = 600},
                       [&](kube::WatchEvent&& e) {
                         if (e.type == kube::WatchEventType::kAdded) ++seen[static_cast<size_t>(w)];
                         return seen[static_cast<size_t>(w)] < objects;
                       },
                       stop.get_token());
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  auto t0 = Clock::now();
  std::vector<std::thread> ws;
  std::atomic<int> failures{0};
  for (int t = 0; t < writers; ++t) {
    ws.emplace_back([&, t] {
      auto cli = mk();
      for (int i = t; i < objects; i += writers) {
        nlohmann::json cm = {{"metadata", {{"name", "cm-" + std::to_string(i)}, {"labels", {{"bench", "yes"}}}}},
                             {"data", {{"payload", std::string(200, 'x')}}}};
        if (!cli->create(kube::kConfigMaps, "default", cm)) ++failures;
      }
    });
  }
  for (auto& t : ws) t.join();
  auto written = Clock::now();
  bool all = false;
  while (!all && Clock::now() - written < std::chrono::seconds(120)) {
    all = true;
    for (auto& s : seen) all = all && s.load() >= objects;
    if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto delivered = Clock::now();
  auto l0 = Clock::now();
  auto full = admin->list(kube::kConfigMaps, "default");
  auto l1 = Clock::now();
  if (!full) std::fprintf(stderr, "list failed: %s\n", full.error().toString().c_str());
  stop.request_stop();
  for (auto& t : watchers) t.join();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  nlohmann::json out = {
      {"watches", watches},
      {"objects", objects},
      {"writers", writers},
      {"writeFailures", failures.load()},
      {"writeSeconds", ms(written - t0) / 1000.0},
      {"writesPerSecond", objects * 1000.0 / std::max<int64_t>(1, ms(written - t0))},
      {"allWatchesComplete", all},
      {"deliveryLagAfterLastWriteMs", ms(delivered - written)},
      {"listItems", full ? (*full)["items"].size() : 0},
      {"listMs", ms(l1 - l0)},
      {"peakRssMiB", ru.ru_maxrss / 1024.0}};
  std::printf("%s\n", out.dump().c_str());
  admin.reset();
  server.stop();
  fs::remove_all(dir);
  return all && failures == 0 ? 0 : 1;
}
