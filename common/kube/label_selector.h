#pragma once
// Label selectors with the full string syntax of the API (`k=v`, `k==v`, `k!=v`,
// `k in (a,b)`, `k notin (a)`, `k`, `!k`, `k>1`, `k<1`; a comma means AND; blanks between tokens
// are ignored) and the structured metav1.LabelSelector form (matchLabels/matchExpressions).
// Malformed input is an Invalid error naming the position. Immutable value; any thread.
//
//   auto sel = LabelSelector::parse("app.kubernetes.io/instance=my,tier notin (cache)");
//   if (sel && sel->matches(labels(obj))) ...

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::kube {

class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted, unique
    bool matches(const std::map<std::string, std::string>& labels) const;
    bool operator==(const Requirement&) const = default;
  };

  // The selector that matches everything (also what "" parses to).
  LabelSelector() = default;

  static core::Result<LabelSelector> parse(std::string_view s);
  // From a metav1.LabelSelector object; null/absent fields mean "no constraint".
  static core::Result<LabelSelector> fromJson(const nlohmann::json& j);
  // Equality requirements for each pair (a Service's or a StatefulSet's selector map).
  static LabelSelector fromMap(const std::map<std::string, std::string>& m);

  bool empty() const { return reqs_.empty(); }
  bool matches(const std::map<std::string, std::string>& labels) const;
  const std::vector<Requirement>& requirements() const { return reqs_; }
  // Canonical string form, requirements sorted by key (what goes into ?labelSelector=).
  std::string toString() const;

 private:
  std::vector<Requirement> reqs_;
};

// Validation of label keys and values as the API server does it; the error names the problem.
core::Status validateLabelKey(std::string_view key);
core::Status validateLabelValue(std::string_view value);

}  // namespace mysqlop::kube
