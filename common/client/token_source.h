#pragma once
// The bearer token to send: a static token, or one read from a file and re-read at most every
// `refresh` (60 s by default, as client-go does for projected service-account tokens, which the
// kubelet rotates). When a re-read fails the last good token is kept.
// Thread-safe.

#include <chrono>
#include <mutex>
#include <string>

#include "common/core/clock.h"
#include "common/core/result.h"

namespace mysqlop::client {

class TokenSource {
 public:
  TokenSource(std::string staticToken, std::string tokenFile, const core::Clock& clock,
              std::chrono::seconds refresh = std::chrono::seconds{60});

  // "" when there is neither a token nor a file. An error only when the file was never readable.
  core::Result<std::string> token();
  bool empty() const { return static_.empty() && file_.empty(); }

 private:
  const std::string static_;
  const std::string file_;
  const core::Clock& clock_;
  const std::chrono::seconds refresh_;

  std::mutex mu_;
  std::string cached_;          // guarded by mu_
  core::MonoTime readAt_{};     // guarded by mu_
  bool haveCached_ = false;     // guarded by mu_
};

}  // namespace mysqlop::client
