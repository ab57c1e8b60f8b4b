#include "common/kube/duration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace mysqlop::kube {
namespace {

constexpr const char* kNotADuration = "not a duration (e.g. 2160h, 1h30m)";

// Nanoseconds per unit; 0 for an unknown unit.
double unitScale(const std::string& unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  return 0;
}

bool isNumberChar(char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }

}  // namespace

core::Result<int64_t> parseGoDuration(const std::string& s) {
  if (s.empty()) return core::invalid("empty duration");
  size_t i = 0;
  bool negative = false;
  if (s[i] == '-' || s[i] == '+') negative = s[i++] == '-';
  if (s.substr(i) == "0") return int64_t{0};
  if (i >= s.size()) return core::invalid(kNotADuration);
  double total = 0;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && isNumberChar(s[i])) ++i;
    const std::string number = s.substr(start, i - start);
    // Digits with at most one point and a digit on one side of it, as Go reads them ("1.2.3h"
    // and "." are not numbers).
    const auto dots = std::count(number.begin(), number.end(), '.');
    if (i == start || dots > 1 || number == ".") return core::invalid(kNotADuration);
    double value = 0;
    try {
      size_t used = 0;
      value = std::stod(number, &used);
      if (used != number.size() && !(used + 1 == number.size() && number.back() == '.')) return core::invalid(kNotADuration);
    } catch (...) {
      return core::invalid(kNotADuration);
    }
    const size_t u = i;
    while (i < s.size() && !isNumberChar(s[i])) ++i;
    const std::string unit = s.substr(u, i - u);
    const double scale = unitScale(unit);
    if (scale == 0) {
      return core::invalid(unit.empty() ? "missing unit (ns, us, ms, s, m, h)" : fmt::format("unknown unit {:?}", unit));
    }
    total += value * scale;
  }
  if (total > 9.2e18) return core::invalid("duration out of range");
  return static_cast<int64_t>(std::llround(negative ? -total : total));
}

std::string formatGoDuration(std::chrono::seconds d) {
  const int64_t s = d.count();
  const int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h > 0) return fmt::format("{}h{}m{}s", h, m, sec);
  if (m > 0) return fmt::format("{}m{}s", m, sec);
  return fmt::format("{}s", sec);
}

}  // namespace mysqlop::kube
