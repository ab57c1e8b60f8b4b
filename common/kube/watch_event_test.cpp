#include "common/kube/watch_event.h"

#include <catch2/catch.hpp>
#include <random>

namespace mysqlop::kube {
namespace {

std::string stream() {
  return R"({"type":"ADDED","object":{"kind":"Secret","metadata":{"name":"a","resourceVersion":"1"},"data":{"k":"dmFsdWU="}}})"
         "\n"
         R"({"type":"MODIFIED","object":{"kind":"Secret","metadata":{"name":"é-ü","resourceVersion":"2"}}})"
         "\r\n\n"
         R"({"type":"BOOKMARK","object":{"kind":"Secret","metadata":{"resourceVersion":"3"}}})"
         "\n"
         R"({"type":"DELETED","object":{"kind":"Secret","metadata":{"name":"a","resourceVersion":"4"}}})"
         "\n"
         R"j({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,"message":"too old resource version: 1 (5)"}})j"
         "\n";
}

std::vector<std::pair<WatchEventType, std::string>> decodeInChunks(const std::string& s,
                                                                   const std::vector<size_t>& cuts) {
  WatchDecoder d;
  std::vector<std::pair<WatchEventType, std::string>> out;
  auto sink = [&](WatchEvent&& e) {
    const auto& o = e.object;
    out.emplace_back(e.type, o.contains("metadata") ? o["metadata"].value("resourceVersion", "")
                                                    : o.value("reason", ""));
    return true;
  };
  size_t pos = 0;
  for (size_t c : cuts) {
    REQUIRE(d.feed(std::string_view(s).substr(pos, c - pos), sink));
    pos = c;
  }
  REQUIRE(d.feed(std::string_view(s).substr(pos), sink));
  REQUIRE(d.finish(sink));
  return out;
}

TEST_CASE("watch stream decodes the same at any byte boundary", "[kube][watch]") {
  const std::string s = stream();
  auto whole = decodeInChunks(s, {});
  REQUIRE(whole.size() == 5);
  CHECK(whole[0] == std::pair{WatchEventType::kAdded, std::string("1")});
  CHECK(whole[2] == std::pair{WatchEventType::kBookmark, std::string("3")});
  CHECK(whole[4] == std::pair{WatchEventType::kError, std::string("Expired")});

  std::vector<size_t> everyByte;
  for (size_t i = 1; i < s.size(); ++i) everyByte.push_back(i);
  CHECK(decodeInChunks(s, everyByte) == whole);

  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    std::vector<size_t> cuts;
    size_t pos = 0;
    while (true) {
      pos += 1 + rng() % 40;
      if (pos >= s.size()) break;
      cuts.push_back(pos);
    }
    CHECK(decodeInChunks(s, cuts) == whole);
  }
}

TEST_CASE("a final line without newline is decoded at finish", "[kube][watch]") {
  WatchDecoder d;
  int n = 0;
  auto sink = [&](WatchEvent&&) { ++n; return true; };
  REQUIRE(d.feed(R"({"type":"ADDED","object":{}})", sink));
  CHECK(n == 0);
  CHECK(d.buffered() > 0);
  REQUIRE(d.finish(sink));
  CHECK(n == 1);
}

TEST_CASE("malformed watch events are Invalid", "[kube][watch]") {
  for (const char* line : {"not json", R"({"object":{}})", R"({"type":"RENAMED","object":{}})",
                           R"({"type":"ADDED"})", R"([1,2])", R"({"type":"ADDED","object":"x"})"}) {
    INFO(line);
    auto ev = decodeWatchEvent(line);
    REQUIRE_FALSE(ev);
    CHECK(ev.error().code == core::ErrorCode::kInvalid);
  }
  WatchDecoder d;
  auto st = d.feed("{\"type\":\"ADDED\",\"object\":{}}\ngarbage\n", [](WatchEvent&&) { return true; });
  REQUIRE_FALSE(st);
}

TEST_CASE("the sink can stop decoding", "[kube][watch]") {
  WatchDecoder d;
  int n = 0;
  REQUIRE(d.feed(stream(), [&](WatchEvent&&) { return ++n < 2; }));
  CHECK(n == 2);
}

}  // namespace
}  // namespace mysqlop::kube
