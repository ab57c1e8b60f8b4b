#pragma once
// RFC 3339 timestamps as the Kubernetes API writes them: `Time` with whole seconds
// ("2026-11-28T12:00:00Z") and `MicroTime` with exactly six fractional digits
// ("2026-11-28T12:00:00.123456Z"). Parsing accepts any fraction and a `Z` or ±hh:mm offset.
// Pure functions; any thread.

#include <string>
#include <string_view>

#include "common/core/clock.h"
#include "common/core/result.h"

namespace mysqlop::core {

std::string formatTime(WallTime t);       // seconds precision, UTC, "Z"
std::string formatMicroTime(WallTime t);  // microseconds precision, UTC, "Z"
Result<WallTime> parseTime(std::string_view s);

}  // namespace mysqlop::core
