#pragma once
// Go's time.Duration text, as Kubernetes and cert-manager fields carry it ("2160h", "1h30m",
// "90s", "1.5h", "300ms"): parsing to nanoseconds and formatting whole seconds the way Go's
// Duration.String() prints them ("2160h0m0s", "1m30s"), so a message quotes a value in the
// user's own terms. Pure; any thread.
//
//   auto ns = parseGoDuration("1h30m");           // 5400e9
//   formatGoDuration(std::chrono::seconds(90));   // "1m30s"

#include <chrono>
#include <cstdint>
#include <string>

#include "common/core/result.h"

namespace mysqlop::kube {

// [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ with the units ns, us (µs), ms, s, m, h; "0" alone is 0.
core::Result<int64_t> parseGoDuration(const std::string& s);
std::string formatGoDuration(std::chrono::seconds d);

}  // namespace mysqlop::kube
