#include "common/kube/field_selector.h"

#include <fmt/format.h>

namespace mysqlop::kube {
namespace {

std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

core::Result<FieldSelector> FieldSelector::parse(std::string_view s) {
  FieldSelector sel;
  auto bad = [&](size_t pos, std::string_view why) {
    return core::invalid(fmt::format("invalid field selector {:?}: at position {}: {}",
                                     std::string(s), pos, why));
  };
  size_t i = 0;
  if (s.empty()) return sel;
  while (true) {
    size_t termStart = i;
    // field: up to the operator; fields never contain escapes
    size_t opPos = std::string_view::npos;
    for (size_t j = i; j < s.size() && s[j] != ','; ++j) {
      if (s[j] == '=' || (s[j] == '!' && j + 1 < s.size() && s[j + 1] == '=')) {
        opPos = j;
        break;
      }
    }
    if (opPos == std::string_view::npos) return bad(termStart, "expected 'field=value', 'field==value' or 'field!=value'");
    Term t;
    t.field = std::string(s.substr(i, opPos - i));
    if (t.field.empty()) return bad(termStart, "field name must not be empty");
    for (size_t k = 0; k < t.field.size(); ++k) {
      char c = t.field[k];
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-' || c == '/';
      if (!ok) return bad(termStart + k, fmt::format("invalid character {:?} in field name", c));
    }
    if (s[opPos] == '!') {
      t.negated = true;
      i = opPos + 2;
    } else if (opPos + 1 < s.size() && s[opPos + 1] == '=') {
      i = opPos + 2;
    } else {
      i = opPos + 1;
    }
    // value: up to an unescaped ','
    while (i < s.size() && s[i] != ',') {
      char c = s[i];
      if (c == '\\') {
        if (i + 1 >= s.size()) return bad(i, "unterminated escape sequence");
        char n = s[i + 1];
        if (n != '\\' && n != ',' && n != '=') return bad(i, fmt::format("invalid escape sequence \\{}", n));
        t.value += n;
        i += 2;
        continue;
      }
      if (c == '=') return bad(i, "unescaped '=' in value");
      t.value += c;
      ++i;
    }
    sel.terms_.push_back(std::move(t));
    if (i >= s.size()) break;
    ++i;  // ','
    if (i >= s.size()) return bad(i, "expected a term after ','");
  }
  return sel;
}

std::string fieldValue(const nlohmann::json& obj, std::string_view dottedPath) {
  const nlohmann::json* cur = &obj;
  size_t start = 0;
  while (true) {
    size_t dot = dottedPath.find('.', start);
    std::string seg(dottedPath.substr(start, dot == std::string_view::npos ? dottedPath.npos : dot - start));
    if (!cur->is_object()) return "";
    auto it = cur->find(seg);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

bool FieldSelector::matches(const nlohmann::json& obj) const {
  for (const auto& t : terms_) {
    bool eq = fieldValue(obj, t.field) == t.value;
    if (eq == t.negated) return false;
  }
  return true;
}

std::string FieldSelector::toString() const {
  std::string out;
  for (const auto& t : terms_) {
    if (!out.empty()) out += ',';
    out += t.field;
    out += t.negated ? "!=" : "=";
    out += escape(t.value);
  }
  return out;
}

}  // namespace mysqlop::kube
