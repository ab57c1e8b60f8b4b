#include "common/runtime/work_queue.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace mysqlop::runtime {
namespace {

using namespace std::chrono;

TEST_CASE("work queue: a key is queued once and re-queued once if added while processing",
          "[runtime][workqueue]") {
  WorkQueue q;
  q.add("a");
  q.add("a");
  q.add("b");
  CHECK(q.len() == 2);
  auto a = q.get();
  REQUIRE(a == "a");
  q.add("a");  // while processing: not handed out again yet
  q.add("a");
  CHECK(q.len() == 1);
  CHECK(q.get() == "b");
  CHECK(q.len() == 0);
  q.done("a");  // now it comes back, once
  CHECK(q.len() == 1);
  CHECK(q.get() == "a");
  q.done("a");
  q.done("b");
  CHECK(q.len() == 0);
}

TEST_CASE("work queue: per-key backoff doubles from 5 ms to 1000 s and resets on forget",
          "[runtime][workqueue]") {
  WorkQueue q;
  std::vector<nanoseconds> seen;
  for (int i = 0; i < 20; ++i) {
    seen.push_back(q.nextBackoff("k"));
    q.addRateLimited("k");
  }
  CHECK(seen[0] == milliseconds{5});
  CHECK(seen[1] == milliseconds{10});
  CHECK(seen[2] == milliseconds{20});
  CHECK(seen[10] == milliseconds{5120});
  CHECK(seen[18] == seconds{1000});
  CHECK(seen[19] == seconds{1000});
  CHECK(q.failures("k") == 20);
  CHECK(q.nextBackoff("other") == milliseconds{5});
  q.forget("k");
  CHECK(q.failures("k") == 0);
  CHECK(q.nextBackoff("k") == milliseconds{5});
}

TEST_CASE("work queue: delayed adds arrive after their delay, earliest wins", "[runtime][workqueue]") {
  WorkQueue q;
  auto start = steady_clock::now();
  q.addAfter("late", milliseconds{300});
  q.addAfter("soon", milliseconds{30});
  q.addAfter("soon", milliseconds{500});  // a later time does not postpone it
  CHECK(q.len() == 0);
  CHECK(q.get() == "soon");
  CHECK(steady_clock::now() - start >= milliseconds{25});
  CHECK(q.get() == "late");
  CHECK(steady_clock::now() - start >= milliseconds{290});
}

TEST_CASE("work queue: delays are measured on the injected clock", "[runtime][workqueue]") {
  core::FakeClock clock;
  WorkQueue q({.name = "fake", .clock = &clock});
  q.addAfter("k", hours{1});
  std::optional<std::string> got;
  std::thread waiter([&] { got = q.get(); });
  clock.advance(minutes{59});
  CHECK(q.len() == 0);
  clock.advance(minutes{1});
  waiter.join();  // released by the clock, not by an hour of waiting
  CHECK(got == "k");
  q.done("k");
  q.shutDown();
}

TEST_CASE("work queue: retries of all keys together share a bucket (10 a second, 100 at once)", "[runtime][workqueue]") {
  core::FakeClock clock;
  WorkQueue q({.name = "storm", .clock = &clock});
  // 150 keys fail at the same moment: the first 100 come back after their own 5 ms, the other 50
  // one every 100 ms after that.
  for (int i = 0; i < 150; ++i) q.addRateLimited("k" + std::to_string(i));
  int got = 0;
  std::thread waiter([&] {
    while (got < 150) {
      auto k = q.get();
      if (!k) return;
      q.done(*k);
      ++got;
    }
  });
  clock.advance(milliseconds{10});
  std::this_thread::sleep_for(milliseconds{100});
  CHECK(got == 100);
  clock.advance(milliseconds{1000});  // ten more tokens
  std::this_thread::sleep_for(milliseconds{100});
  CHECK(got == 110);
  clock.advance(seconds{10});
  waiter.join();
  CHECK(got == 150);
  q.shutDown();
}

TEST_CASE("work queue: shutdown drains queued keys, then get returns nothing", "[runtime][workqueue]") {
  WorkQueue q;
  q.add("a");
  q.add("b");
  q.addAfter("delayed", hours{1});
  q.shutDown();
  q.add("c");  // refused
  CHECK(q.get() == "a");
  CHECK(q.get() == "b");
  CHECK_FALSE(q.get().has_value());
  std::thread blocked([&] { CHECK_FALSE(q.get().has_value()); });
  blocked.join();
}

TEST_CASE("work queue stress: many workers, many adds of few keys, never two at once",
          "[runtime][workqueue]") {
  WorkQueue q;
  constexpr int kKeys = 5, kWorkers = 8, kAdds = 20000;
  std::mutex mu;
  std::set<std::string> inFlight;
  std::atomic<bool> overlap{false};
  std::map<std::string, int> lastSeenGen;  // highest add generation seen processed, per key
  std::map<std::string, int> addedGen;
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto k = q.get()) {
        {
          std::lock_guard lock(mu);
          if (!inFlight.insert(*k).second) overlap = true;
          lastSeenGen[*k] = addedGen[*k];
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          inFlight.erase(*k);
        }
        ++processed;
        q.done(*k);
      }
    });
  }
  for (int i = 0; i < kAdds; ++i) {
    std::string k = "key-" + std::to_string(i % kKeys);
    {
      std::lock_guard lock(mu);
      ++addedGen[k];
    }
    q.add(k);
  }
  // Every add is eventually processed: each key's latest add is seen by a later processing.
  for (int i = 0; i < 500; ++i) {
    bool caughtUp = q.len() == 0;
    {
      std::lock_guard lock(mu);
      for (const auto& [k, gen] : addedGen) caughtUp = caughtUp && lastSeenGen[k] == gen && inFlight.empty();
    }
    if (caughtUp) break;
    std::this_thread::sleep_for(milliseconds{10});
  }
  q.shutDown();
  for (auto& t : workers) t.join();
  CHECK_FALSE(overlap.load());
  for (const auto& [k, gen] : addedGen) CHECK(lastSeenGen[k] == gen);
  CHECK(processed.load() >= kKeys);
  CHECK(processed.load() <= kAdds);  // deduplicated
}

}  // namespace
}  // namespace mysqlop::runtime
