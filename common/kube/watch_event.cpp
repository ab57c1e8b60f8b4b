#include "common/kube/watch_event.h"

#include <fmt/format.h>

namespace mysqlop::kube {

std::string_view watchEventTypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::kAdded: return "ADDED";
    case WatchEventType::kModified: return "MODIFIED";
    case WatchEventType::kDeleted: return "DELETED";
    case WatchEventType::kBookmark: return "BOOKMARK";
    case WatchEventType::kError: return "ERROR";
  }
  return "ERROR";
}

core::Result<WatchEvent> decodeWatchEvent(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return core::invalid(fmt::format("watch event is not valid JSON: {:.80}", std::string(line)));
  }
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return core::invalid("watch event has no \"type\"");
  }
  auto typeName = j["type"].get<std::string>();
  WatchEvent ev{WatchEventType::kError, nullptr};
  if (typeName == "ADDED") ev.type = WatchEventType::kAdded;
  else if (typeName == "MODIFIED") ev.type = WatchEventType::kModified;
  else if (typeName == "DELETED") ev.type = WatchEventType::kDeleted;
  else if (typeName == "BOOKMARK") ev.type = WatchEventType::kBookmark;
  else if (typeName == "ERROR") ev.type = WatchEventType::kError;
  else return core::invalid(fmt::format("watch event has unknown type {:?}", typeName));
  auto obj = j.find("object");
  if (obj == j.end() || !obj->is_object()) {
    return core::invalid(fmt::format("watch event {} has no object", typeName));
  }
  ev.object = std::move(*obj);
  return ev;
}

core::Status WatchDecoder::feed(std::string_view bytes, const Sink& sink) {
  if (stopped_) return {};
  size_t start = 0;
  while (start < bytes.size()) {
    size_t nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) {
      if (buf_.size() + (bytes.size() - start) > kMaxLine) {
        return core::invalid(fmt::format("watch event longer than {} bytes", kMaxLine));
      }
      buf_.append(bytes.substr(start));
      return {};
    }
    std::string_view line;
    if (buf_.empty()) {
      line = bytes.substr(start, nl - start);
    } else {
      buf_.append(bytes.substr(start, nl - start));
      line = buf_;
    }
    start = nl + 1;
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) {
      auto ev = decodeWatchEvent(line);
      buf_.clear();
      if (!ev) return ev.error();
      if (!sink(std::move(*ev))) {
        stopped_ = true;
        return {};
      }
    } else {
      buf_.clear();
    }
  }
  return {};
}

core::Status WatchDecoder::finish(const Sink& sink) {
  if (stopped_ || buf_.find_first_not_of(" \t\r") == std::string::npos) {
    buf_.clear();
    return {};
  }
  auto ev = decodeWatchEvent(buf_);
  buf_.clear();
  if (!ev) return ev.error();
  sink(std::move(*ev));
  return {};
}

}  // namespace mysqlop::kube
