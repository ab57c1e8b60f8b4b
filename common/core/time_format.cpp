#include "common/core/time_format.h"

#include <fmt/format.h>

#include <charconv>

namespace mysqlop::core {
namespace {

using std::chrono::floor;

std::string formatWith(WallTime t, bool micros) {
  auto secs = floor<std::chrono::seconds>(t);
  auto days = floor<std::chrono::days>(secs);
  std::chrono::year_month_day ymd{days};
  std::chrono::hh_mm_ss hms{secs - days};
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", int(ymd.year()),
                                unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                                hms.minutes().count(), hms.seconds().count());
  if (micros) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
    out += fmt::format(".{:06}", us);
  }
  out += 'Z';
  return out;
}

bool readInt(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return true;
}

}  // namespace

std::string formatTime(WallTime t) { return formatWith(t, false); }
std::string formatMicroTime(WallTime t) { return formatWith(t, true); }

Result<WallTime> parseTime(std::string_view s) {
  auto bad = [&] { return invalid(fmt::format("invalid RFC 3339 time {:?}", std::string(s))); };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return bad();
  }
  if (!readInt(s, 0, 4, y) || !readInt(s, 5, 2, mo) || !readInt(s, 8, 2, d) ||
      !readInt(s, 11, 2, h) || !readInt(s, 14, 2, mi) || !readInt(s, 17, 2, se)) {
    return bad();
  }
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                                  std::chrono::day{unsigned(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
  size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t ns = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 9) ns = ns * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return bad();
    for (size_t digits = pos - start; digits < 9; ++digits) ns *= 10;
    frac = std::chrono::nanoseconds{ns};
  }
  std::chrono::minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (s.size() != pos + 6 || s[pos + 3] != ':' || !readInt(s, pos + 1, 2, oh) ||
        !readInt(s, pos + 4, 2, om)) {
      return bad();
    }
    offset = std::chrono::hours{oh} + std::chrono::minutes{om};
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  auto tp = std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
            std::chrono::seconds{se} + frac - offset;
  return WallTime{std::chrono::duration_cast<WallTime::duration>(tp.time_since_epoch())};
}

}  // namespace mysqlop::core
