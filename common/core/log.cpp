#include "common/core/log.h"

#include <cstdio>
#include <mutex>

#include "common/core/time_format.h"

namespace mysqlop::core {

struct Logger::Shared {
  std::shared_ptr<LogSink> sink;
  LogLevel level;
  const Clock* clock;
};

namespace {

class StderrSink final : public LogSink {
 public:
  void write(std::string_view line) override {
    std::lock_guard lock(mu_);
    std::string buf(line);
    buf += '\n';
    std::fwrite(buf.data(), 1, buf.size(), stderr);
    std::fflush(stderr);
  }

 private:
  std::mutex mu_;
};

bool holdsPrivateKey(std::string_view s) {
  auto begin = s.find("-----BEGIN");
  return begin != std::string_view::npos && s.find("PRIVATE KEY", begin) != std::string_view::npos;
}

// Replaces, recursively, every string that holds a PEM private key.
void redact(nlohmann::ordered_json& v) {
  if (v.is_string()) {
    if (holdsPrivateKey(v.get_ref<const std::string&>())) v = "[REDACTED]";
  } else if (v.is_structured()) {
    for (auto& child : v) redact(child);
  }
}

std::mutex gRootMu;  // guards rootShared()

}  // namespace

std::string_view logLevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

Result<LogLevel> parseLogLevel(std::string_view s) {
  for (auto l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (s == logLevelName(l)) return l;
  }
  if (s == "warning") return LogLevel::kWarn;
  return invalid("unknown log level \"" + std::string(s) + "\" (want debug, info, warn or error)");
}

std::shared_ptr<LogSink> stderrSink() {
  static auto sink = std::make_shared<StderrSink>();
  return sink;
}

std::shared_ptr<const Logger::Shared>& Logger::rootShared() {
  static std::shared_ptr<const Logger::Shared> shared =
      std::make_shared<const Logger::Shared>(Logger::Shared{stderrSink(), LogLevel::kInfo,
                                                            &systemClock()});
  return shared;
}

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel level, const Clock& clock)
    : shared_(std::make_shared<const Shared>(Shared{std::move(sink), level, &clock})) {}

Logger::Logger(std::shared_ptr<const Shared> shared, LogFields context)
    : shared_(std::move(shared)), context_(std::move(context)) {}

Logger Logger::root() {
  std::lock_guard lock(gRootMu);
  return Logger(rootShared(), {});
}

void Logger::configureRoot(std::shared_ptr<LogSink> sink, LogLevel level) {
  std::lock_guard lock(gRootMu);
  rootShared() = std::make_shared<const Shared>(Shared{std::move(sink), level, &systemClock()});
}

Logger Logger::with(std::string key, nlohmann::json value) const {
  LogFields ctx = context_;
  for (auto& [k, v] : ctx) {
    if (k == key) {
      v = std::move(value);
      return Logger(shared_, std::move(ctx));
    }
  }
  ctx.emplace_back(std::move(key), std::move(value));
  return Logger(shared_, std::move(ctx));
}

bool Logger::enabled(LogLevel l) const { return l >= shared_->level; }

void Logger::log(LogLevel l, std::string_view message, const LogFields& fields) const {
  if (!enabled(l)) return;
  nlohmann::ordered_json line;
  line["level"] = logLevelName(l);
  line["time"] = formatMicroTime(shared_->clock->now());
  line["message"] = std::string(message);
  for (const auto& [k, v] : context_) line[k] = v;
  for (const auto& [k, v] : fields) {
    if (k == "level" || k == "time" || k == "message") continue;  // never shadow the envelope
    line[k] = v;
  }
  redact(line);
  // `replace` keeps a line valid JSON even when a field carries broken UTF-8.
  shared_->sink->write(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace mysqlop::core
