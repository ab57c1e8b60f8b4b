#pragma once
// Status conditions as the API conventions define them: {type, status, reason, message,
// observedGeneration, lastTransitionTime}. `setCondition` is the only writer: it moves
// `lastTransitionTime` only when `status` flips, and reports "no change" when nothing a reader
// could see changed — which is what lets a converged reconcile write nothing.
// Pure functions over the `conditions` array (or the object holding `status.conditions`).

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/core/clock.h"
#include "common/core/result.h"

namespace mysqlop::kube {

using Json = nlohmann::json;

inline constexpr std::string_view kConditionTrue = "True";
inline constexpr std::string_view kConditionFalse = "False";
inline constexpr std::string_view kConditionUnknown = "Unknown";

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  int64_t observedGeneration = 0;  // 0 = not recorded
  std::string lastTransitionTime;  // RFC 3339; filled in by setCondition

  Json toJson() const;
  static core::Result<Condition> fromJson(const Json& j);
  bool operator==(const Condition&) const = default;
};

// Finds the condition of `type` in a conditions array (null or absent → nullopt).
std::optional<Condition> findCondition(const Json& conditions, std::string_view type);
bool isConditionTrue(const Json& conditions, std::string_view type);

// Sets `c` in `conditions` (made an array if it is not). lastTransitionTime = `now` for a new
// condition or a status flip, otherwise kept. Returns true when the array changed.
// A condition's message is at most this long (metav1.Condition's maxLength); longer ones are cut
// on a character boundary.
inline constexpr size_t kMaxConditionMessage = 32768;
bool setCondition(Json& conditions, Condition c, core::WallTime now);
bool removeCondition(Json& conditions, std::string_view type);

// The same, on `obj.status.conditions`.
std::optional<Condition> findStatusCondition(const Json& obj, std::string_view type);
bool setStatusCondition(Json& obj, Condition c, core::WallTime now);

}  // namespace mysqlop::kube
