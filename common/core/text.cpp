#include "common/core/text.h"

#include <cctype>

namespace mysqlop::core {

std::string truncateUtf8(std::string_view s, size_t maxBytes) {
  if (s.size() <= maxBytes) return std::string(s);
  constexpr std::string_view kEllipsis = "\u2026";
  const bool mark = maxBytes >= kEllipsis.size() + 1;
  size_t cut = mark ? maxBytes - kEllipsis.size() : maxBytes;
  // Back off the continuation bytes (10xxxxxx) of a character cut in two.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  std::string out(s.substr(0, cut));
  if (mark) out += kEllipsis;
  return out;
}

bool isUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace mysqlop::core
