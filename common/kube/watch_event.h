#pragma once
// Watch streams: newline-delimited JSON events {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR,
// "object": …}. `WatchDecoder` takes the bytes as they arrive — split anywhere, even inside a
// multi-byte character — and yields whole events. An ERROR event's object is a Status; turning
// it into an Error is the client's job. One decoder per stream, one thread at a time.

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

std::string_view watchEventTypeName(WatchEventType t);

struct WatchEvent {
  WatchEventType type;
  nlohmann::json object;
};

// Decodes one line (without its newline). Malformed JSON, a missing or unknown type or a
// missing object is Invalid.
core::Result<WatchEvent> decodeWatchEvent(std::string_view line);

class WatchDecoder {
 public:
  // Called for each event in order; return false to stop decoding (feed returns at once).
  using Sink = std::function<bool(WatchEvent&&)>;

  // A line longer than this is an error rather than unbounded buffering.
  static constexpr size_t kMaxLine = 64 * 1024 * 1024;

  // Consumes bytes; emits each complete line's event. Blank lines are skipped.
  // Returns the first decoding error (the stream is then unusable) or ok.
  core::Status feed(std::string_view bytes, const Sink& sink);
  // At end of stream: decodes a last line that had no trailing newline.
  core::Status finish(const Sink& sink);
  size_t buffered() const { return buf_.size(); }

 private:
  std::string buf_;
  bool stopped_ = false;
};

}  // namespace mysqlop::kube
