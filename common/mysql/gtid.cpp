#include "common/mysql/gtid.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/core/text.h"

namespace mysqlop::dbclient {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A tag: a letter or '_' first, then letters, digits and '_', at most 32 characters.
bool isTag(std::string_view s) {
  if (s.empty() || s.size() > 32 || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::optional<int64_t> number(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

void normalise(std::vector<std::pair<int64_t, int64_t>>& iv) {
  std::sort(iv.begin(), iv.end());
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& [a, b] : iv) {
    if (!out.empty() && a <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, b);
    } else {
      out.emplace_back(a, b);
    }
  }
  iv = std::move(out);
}

}  // namespace

core::Result<GtidSet> GtidSet::parse(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact.push_back(c);
  }
  GtidSet out;
  if (compact.empty()) return out;
  for (std::string_view part : split(compact, ',')) {
    auto fields = split(part, ':');
    if (!core::isUuid(fields[0])) return core::invalid(fmt::format("GTID set: {:?} does not start with a UUID", part));
    std::string source = lower(fields[0]);
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::string_view f = fields[i];
      if (isTag(f)) {
        source = lower(fields[0]) + ":" + lower(f);
        continue;
      }
      const size_t dash = f.find('-');
      auto a = number(f.substr(0, dash));
      auto b = dash == std::string_view::npos ? a : number(f.substr(dash + 1));
      if (!a || !b || *b < *a) return core::invalid(fmt::format("GTID set: {:?} is not an interval", f));
      out.sets_[source].emplace_back(*a, *b);
    }
  }
  for (auto& [_, iv] : out.sets_) normalise(iv);
  return out;
}

bool GtidSet::contains(const GtidSet& other) const {
  for (const auto& [source, ivs] : other.sets_) {
    auto mine = sets_.find(source);
    for (const auto& [a, b] : ivs) {
      if (mine == sets_.end()) return false;
      const bool covered = std::any_of(mine->second.begin(), mine->second.end(),
                                       [&, a = a, b = b](const auto& m) { return m.first <= a && b <= m.second; });
      if (!covered) return false;
    }
  }
  return true;
}

int64_t GtidSet::count() const {
  int64_t n = 0;
  for (const auto& [_, ivs] : sets_) {
    for (const auto& [a, b] : ivs) n += b - a + 1;
  }
  return n;
}

bool GtidSet::hasSource(std::string_view uuid) const {
  const std::string u = lower(uuid);
  for (const auto& [source, _] : sets_) {
    if (source == u || source.rfind(u + ":", 0) == 0) return true;
  }
  return false;
}

std::string GtidSet::str() const {
  std::string out;
  for (const auto& [source, ivs] : sets_) {
    if (!out.empty()) out += ",";
    out += source;
    for (const auto& [a, b] : ivs) out += a == b ? fmt::format(":{}", a) : fmt::format(":{}-{}", a, b);
  }
  return out;
}

}  // namespace mysqlop::dbclient
