#include "common/kube/conditions.h"

#include "common/core/text.h"

#include "common/core/time_format.h"

namespace mysqlop::kube {

Json Condition::toJson() const {
  Json j = {{"type", type}, {"status", status}};
  if (!reason.empty()) j["reason"] = reason;
  if (!message.empty()) j["message"] = message;
  if (observedGeneration > 0) j["observedGeneration"] = observedGeneration;
  if (!lastTransitionTime.empty()) j["lastTransitionTime"] = lastTransitionTime;
  return j;
}

core::Result<Condition> Condition::fromJson(const Json& j) {
  if (!j.is_object()) return core::invalid("condition is not an object");
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Condition c{str("type"), str("status"), str("reason"), str("message"), 0,
              str("lastTransitionTime")};
  if (c.type.empty()) return core::invalid("condition.type: Required value");
  auto g = j.find("observedGeneration");
  if (g != j.end() && g->is_number_integer()) c.observedGeneration = g->get<int64_t>();
  return c;
}

std::optional<Condition> findCondition(const Json& conditions, std::string_view type) {
  if (!conditions.is_array()) return std::nullopt;
  for (const auto& j : conditions) {
    if (j.is_object() && j.value("type", "") == type) {
      if (auto c = Condition::fromJson(j)) return *c;
    }
  }
  return std::nullopt;
}

bool isConditionTrue(const Json& conditions, std::string_view type) {
  auto c = findCondition(conditions, type);
  return c && c->status == kConditionTrue;
}

bool setCondition(Json& conditions, Condition c, core::WallTime now) {
  if (!conditions.is_array()) conditions = Json::array();
  c.message = core::truncateUtf8(c.message, kMaxConditionMessage);
  for (auto& j : conditions) {
    if (!j.is_object() || j.value("type", "") != c.type) continue;
    auto old = Condition::fromJson(j);
    bool flipped = !old || old->status != c.status || old->lastTransitionTime.empty();
    c.lastTransitionTime = flipped ? core::formatTime(now) : old->lastTransitionTime;
    Json want = c.toJson();
    if (j == want) return false;
    j = std::move(want);
    return true;
  }
  c.lastTransitionTime = core::formatTime(now);
  conditions.push_back(c.toJson());
  return true;
}

bool removeCondition(Json& conditions, std::string_view type) {
  if (!conditions.is_array()) return false;
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    if (it->is_object() && it->value("type", "") == type) {
      conditions.erase(it);
      return true;
    }
  }
  return false;
}

std::optional<Condition> findStatusCondition(const Json& obj, std::string_view type) {
  if (!obj.is_object()) return std::nullopt;
  auto s = obj.find("status");
  if (s == obj.end() || !s->is_object()) return std::nullopt;
  auto cs = s->find("conditions");
  if (cs == s->end()) return std::nullopt;
  return findCondition(*cs, type);
}

bool setStatusCondition(Json& obj, Condition c, core::WallTime now) {
  Json& status = obj["status"];
  if (!status.is_object()) status = Json::object();
  return setCondition(status["conditions"], std::move(c), now);
}

}  // namespace mysqlop::kube
