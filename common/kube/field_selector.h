#pragma once
// Field selectors: `metadata.name=x,status.phase!=Running` — terms joined by ',' (AND), each
// `path op value` with op `=`, `==` or `!=`. Values may escape `\,`, `\=` and `\\`. Matching
// reads the dotted path from the object (absent → ""; numbers and booleans by their JSON text).
// Immutable value; any thread.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::kube {

class FieldSelector {
 public:
  struct Term {
    std::string field;  // dotted path, e.g. "metadata.name"
    bool negated = false;
    std::string value;
    bool operator==(const Term&) const = default;
  };

  FieldSelector() = default;  // matches everything
  static core::Result<FieldSelector> parse(std::string_view s);

  bool empty() const { return terms_.empty(); }
  const std::vector<Term>& terms() const { return terms_; }
  bool matches(const nlohmann::json& obj) const;
  std::string toString() const;  // re-escaped

 private:
  std::vector<Term> terms_;
};

// The value at a dotted path rendered as a field-selector value ("" when absent).
std::string fieldValue(const nlohmann::json& obj, std::string_view dottedPath);

}  // namespace mysqlop::kube
