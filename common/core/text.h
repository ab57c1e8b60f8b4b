#pragma once
// Text: a message cut to fit the API's bounds without splitting a UTF-8 character; UUIDs as MySQL writes them.
//
//   truncateUtf8(message, 1024)   // at most 1024 bytes, ending in "…" when it was cut
#include <string>
#include <string_view>

namespace mysqlop::core {

// `s` when it fits in `maxBytes`; else its longest prefix that ends on a character boundary and
// leaves room for "…" (3 bytes), followed by "…". `maxBytes` below 4 gives a bare prefix.
std::string truncateUtf8(std::string_view s, size_t maxBytes);

// A UUID as MySQL writes one (a group's name, a server's id): 8-4-4-4-12 hexadecimal digits.
bool isUuid(std::string_view s);

}  // namespace mysqlop::core
