#include "common/core/text.h"

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

}  // namespace mysqlop::core
