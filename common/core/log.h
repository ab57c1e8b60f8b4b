#pragma once
// Structured logging as JSON lines: {"level","time","message", context fields, key-values}.
// Context fields (`controller`, `namespace`, `name`, `reconcileID`, …) are attached with
// `with()` and ride along on every line of the derived logger.
//
//   Logger log = Logger::root().with("controller", "mysql");
//   log.info("reconciled", {{"namespace", "demo"}, {"name", "my"}, {"durationSeconds", 0.02}});
//
// Any string that holds a PEM private key is replaced by "[REDACTED]" before it is written:
// private keys never reach a log. Loggers are cheap values; every method is thread-safe.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.h"
#include "common/core/result.h"

namespace mysqlop::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

std::string_view logLevelName(LogLevel l);
Result<LogLevel> parseLogLevel(std::string_view s);  // "debug", "info", "warn", "error"

using LogFields = std::vector<std::pair<std::string, nlohmann::json>>;

// Where lines go. `write` receives one complete line without the trailing newline.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view line) = 0;
};

// Writes to stderr, one line per write(2)-sized call under a mutex.
std::shared_ptr<LogSink> stderrSink();

class Logger {
 public:
  // A logger writing to `sink` at `level` and above, stamping times from `clock`.
  Logger(std::shared_ptr<LogSink> sink, LogLevel level, const Clock& clock = systemClock());

  // The process-wide logger (stderr, info) that main() configures with `configureRoot`.
  static Logger root();
  static void configureRoot(std::shared_ptr<LogSink> sink, LogLevel level);

  // A logger with one more context field (replacing a field of the same key).
  Logger with(std::string key, nlohmann::json value) const;

  bool enabled(LogLevel l) const;
  void log(LogLevel l, std::string_view message, const LogFields& fields = {}) const;
  void debug(std::string_view m, const LogFields& f = {}) const { log(LogLevel::kDebug, m, f); }
  void info(std::string_view m, const LogFields& f = {}) const { log(LogLevel::kInfo, m, f); }
  void warn(std::string_view m, const LogFields& f = {}) const { log(LogLevel::kWarn, m, f); }
  void error(std::string_view m, const LogFields& f = {}) const { log(LogLevel::kError, m, f); }

 private:
  struct Shared;
  static std::shared_ptr<const Shared>& rootShared();  // guarded by a mutex in log.cpp
  Logger(std::shared_ptr<const Shared> shared, LogFields context);

  std::shared_ptr<const Shared> shared_;
  LogFields context_;
};

}  // namespace mysqlop::core
