#include "common/client/token_source.h"

#include "common/core/file.h"

#include "common/client/config.h"

namespace mysqlop::client {

TokenSource::TokenSource(std::string staticToken, std::string tokenFile, const core::Clock& clock,
                         std::chrono::seconds refresh)
    : static_(std::move(staticToken)), file_(std::move(tokenFile)), clock_(clock), refresh_(refresh) {}

core::Result<std::string> TokenSource::token() {
  if (file_.empty()) return static_;
  std::lock_guard lock(mu_);
  auto now = clock_.monotonic();
  if (haveCached_ && now - readAt_ < refresh_) return cached_;
  auto text = core::readFile(file_);
  if (text) {
    std::string t = std::move(*text);
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    cached_ = std::move(t);
    haveCached_ = true;
    readAt_ = now;
    return cached_;
  }
  if (haveCached_) {
    readAt_ = now;  // keep the last good token; try again after another period
    return cached_;
  }
  if (!static_.empty()) return static_;
  return core::Error(core::ErrorCode::kUnauthorized, "bearer token: " + text.error().message);
}

}  // namespace mysqlop::client
