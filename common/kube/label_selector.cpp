#include "common/kube/label_selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace mysqlop::kube {
namespace {

using Op = LabelSelector::Op;
using Requirement = LabelSelector::Requirement;

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters.
core::Status validateQualifiedPart(std::string_view s, std::string_view what) {
  if (s.empty()) return core::invalid(fmt::format("{} must be non-empty", what));
  if (s.size() > 63) return core::invalid(fmt::format("{} must be no more than 63 characters", what));
  if (!isAlnum(s.front()) || !isAlnum(s.back())) {
    return core::invalid(fmt::format("{} {:?} must begin and end with an alphanumeric character",
                                     what, std::string(s)));
  }
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') {
      return core::invalid(fmt::format("{} {:?} may contain only alphanumerics, '-', '_' or '.'",
                                       what, std::string(s)));
    }
  }
  return {};
}

core::Status validateDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return core::invalid("prefix must be 1-253 characters");
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    bool ok = !label.empty() && label.size() <= 63 && isAlnum(label.front()) && isAlnum(label.back());
    for (char c : label) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    if (!ok) {
      return core::invalid(fmt::format("prefix {:?} must be a lowercase DNS-1123 subdomain",
                                       std::string(s)));
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

enum class Tok { kIdent, kNot, kEq, kDoubleEq, kNotEq, kGt, kLt, kComma, kOpen, kClose, kEnd };

struct Token {
  Tok kind;
  std::string text;
  size_t pos;
};

bool isSpecial(char c) {
  return c == '!' || c == '=' || c == ',' || c == '(' || c == ')' || c == '<' || c == '>' ||
         c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  Token next() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r')) {
      ++pos_;
    }
    size_t at = pos_;
    if (pos_ >= s_.size()) return {Tok::kEnd, "", at};
    char c = s_[pos_];
    auto two = [&](char second) { return pos_ + 1 < s_.size() && s_[pos_ + 1] == second; };
    switch (c) {
      case '!':
        if (two('=')) { pos_ += 2; return {Tok::kNotEq, "!=", at}; }
        ++pos_; return {Tok::kNot, "!", at};
      case '=':
        if (two('=')) { pos_ += 2; return {Tok::kDoubleEq, "==", at}; }
        ++pos_; return {Tok::kEq, "=", at};
      case '>': ++pos_; return {Tok::kGt, ">", at};
      case '<': ++pos_; return {Tok::kLt, "<", at};
      case ',': ++pos_; return {Tok::kComma, ",", at};
      case '(': ++pos_; return {Tok::kOpen, "(", at};
      case ')': ++pos_; return {Tok::kClose, ")", at};
      default: break;
    }
    while (pos_ < s_.size() && !isSpecial(s_[pos_])) ++pos_;
    return {Tok::kIdent, std::string(s_.substr(at, pos_ - at)), at};
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view s) : src_(s), lex_(s) { advance(); }

  core::Result<std::vector<Requirement>> parse() {
    std::vector<Requirement> out;
    if (cur_.kind == Tok::kEnd) return out;
    while (true) {
      auto r = requirement();
      if (!r) return r.error();
      out.push_back(std::move(*r));
      if (cur_.kind == Tok::kEnd) return out;
      if (cur_.kind != Tok::kComma) return fail("',' or end of selector");
      advance();
    }
  }

 private:
  void advance() { cur_ = lex_.next(); }

  core::Error fail(std::string_view expected) const {
    std::string found = cur_.kind == Tok::kEnd ? "end of selector" : fmt::format("{:?}", cur_.text);
    return core::invalid(fmt::format("invalid label selector {:?}: at position {}: found {}, expected {}",
                                     std::string(src_), cur_.pos, found, expected));
  }

  core::Result<std::string> key() {
    if (cur_.kind != Tok::kIdent) return fail("a label key");
    std::string k = cur_.text;
    if (auto st = validateLabelKey(k); !st) {
      return core::invalid(fmt::format("invalid label selector {:?}: at position {}: {}",
                                       std::string(src_), cur_.pos, st.error().message));
    }
    advance();
    return k;
  }

  core::Result<std::string> value() {
    // An empty value is allowed: `k=` and `k in (a,)`.
    if (cur_.kind != Tok::kIdent) return std::string();
    std::string v = cur_.text;
    if (auto st = validateLabelValue(v); !st) {
      return core::invalid(fmt::format("invalid label selector {:?}: at position {}: {}",
                                       std::string(src_), cur_.pos, st.error().message));
    }
    advance();
    return v;
  }

  core::Result<Requirement> requirement() {
    if (cur_.kind == Tok::kNot) {
      advance();
      auto k = key();
      if (!k) return k.error();
      return Requirement{std::move(*k), Op::kDoesNotExist, {}};
    }
    auto k = key();
    if (!k) return k.error();
    Requirement r{std::move(*k), Op::kExists, {}};
    switch (cur_.kind) {
      case Tok::kEnd:
      case Tok::kComma:
        return r;
      case Tok::kEq:
      case Tok::kDoubleEq:
      case Tok::kNotEq: {
        r.op = cur_.kind == Tok::kNotEq ? Op::kNotEquals : Op::kEquals;
        advance();
        auto v = value();
        if (!v) return v.error();
        r.values = {std::move(*v)};
        return r;
      }
      case Tok::kGt:
      case Tok::kLt: {
        r.op = cur_.kind == Tok::kGt ? Op::kGreaterThan : Op::kLessThan;
        advance();
        int64_t n;
        if (cur_.kind != Tok::kIdent ||
            std::from_chars(cur_.text.data(), cur_.text.data() + cur_.text.size(), n).ptr !=
                cur_.text.data() + cur_.text.size()) {
          return fail("an integer");
        }
        r.values = {cur_.text};
        advance();
        return r;
      }
      case Tok::kIdent:
        if (cur_.text == "in" || cur_.text == "notin") {
          r.op = cur_.text == "in" ? Op::kIn : Op::kNotIn;
          advance();
          return valueSet(std::move(r));
        }
        return fail("'=', '==', '!=', 'in', 'notin', ',' or end of selector");
      default:
        return fail("'=', '==', '!=', 'in', 'notin', ',' or end of selector");
    }
  }

  core::Result<Requirement> valueSet(Requirement r) {
    if (cur_.kind != Tok::kOpen) return fail("'('");
    size_t openPos = cur_.pos;
    advance();
    while (true) {
      auto v = value();
      if (!v) return v.error();
      r.values.push_back(std::move(*v));
      if (cur_.kind == Tok::kClose) break;
      if (cur_.kind != Tok::kComma) return fail("',' or ')'");
      advance();
    }
    advance();
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
    if (r.values.size() == 1 && r.values[0].empty()) {
      return core::invalid(fmt::format(
          "invalid label selector {:?}: at position {}: for 'in' and 'notin' the set of values "
          "must not be empty",
          std::string(src_), openPos));
    }
    return r;
  }

  std::string_view src_;
  Lexer lex_;
  Token cur_{Tok::kEnd, "", 0};
};

std::string_view opString(Op op) {
  switch (op) {
    case Op::kEquals: return "=";
    case Op::kNotEquals: return "!=";
    case Op::kIn: return " in ";
    case Op::kNotIn: return " notin ";
    case Op::kGreaterThan: return ">";
    case Op::kLessThan: return "<";
    case Op::kExists:
    case Op::kDoesNotExist: return "";
  }
  return "";
}

}  // namespace

core::Status validateLabelKey(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return validateQualifiedPart(key, "label key name");
  if (key.find('/', slash + 1) != std::string_view::npos) {
    return core::invalid(fmt::format("label key {:?} may contain at most one '/'", std::string(key)));
  }
  if (auto st = validateDnsSubdomain(key.substr(0, slash)); !st) return st;
  return validateQualifiedPart(key.substr(slash + 1), "label key name");
}

core::Status validateLabelValue(std::string_view value) {
  if (value.empty()) return {};
  return validateQualifiedPart(value, "label value");
}

bool Requirement::matches(const std::map<std::string, std::string>& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  auto inSet = [&] { return has && std::binary_search(values.begin(), values.end(), it->second); };
  switch (op) {
    case Op::kExists: return has;
    case Op::kDoesNotExist: return !has;
    case Op::kEquals:
    case Op::kIn: return inSet();
    case Op::kNotEquals:
    case Op::kNotIn: return !inSet();
    case Op::kGreaterThan:
    case Op::kLessThan: {
      if (!has || values.size() != 1) return false;
      int64_t have, want;
      const auto& hs = it->second;
      if (std::from_chars(hs.data(), hs.data() + hs.size(), have).ptr != hs.data() + hs.size()) {
        return false;
      }
      std::from_chars(values[0].data(), values[0].data() + values[0].size(), want);
      return op == Op::kGreaterThan ? have > want : have < want;
    }
  }
  return false;
}

core::Result<LabelSelector> LabelSelector::parse(std::string_view s) {
  auto reqs = Parser(s).parse();
  if (!reqs) return reqs.error();
  LabelSelector sel;
  sel.reqs_ = std::move(*reqs);
  std::stable_sort(sel.reqs_.begin(), sel.reqs_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return sel;
}

core::Result<LabelSelector> LabelSelector::fromJson(const nlohmann::json& j) {
  LabelSelector sel;
  if (j.is_null()) return sel;
  if (!j.is_object()) return core::invalid("selector: must be an object");
  if (auto ml = j.find("matchLabels"); ml != j.end() && !ml->is_null()) {
    if (!ml->is_object()) return core::invalid("selector.matchLabels: must be an object");
    for (auto it = ml->begin(); it != ml->end(); ++it) {
      if (!it.value().is_string()) {
        return core::invalid(fmt::format("selector.matchLabels[{}]: must be a string", it.key()));
      }
      if (auto st = validateLabelKey(it.key()); !st) return st.error();
      if (auto st = validateLabelValue(it.value().get<std::string>()); !st) return st.error();
      sel.reqs_.push_back({it.key(), Op::kEquals, {it.value().get<std::string>()}});
    }
  }
  if (auto me = j.find("matchExpressions"); me != j.end() && !me->is_null()) {
    if (!me->is_array()) return core::invalid("selector.matchExpressions: must be an array");
    for (size_t i = 0; i < me->size(); ++i) {
      const auto& e = (*me)[i];
      std::string where = fmt::format("selector.matchExpressions[{}]", i);
      if (!e.is_object() || !e.contains("key") || !e["key"].is_string()) {
        return core::invalid(where + ".key: Required value");
      }
      Requirement r{e["key"].get<std::string>(), Op::kExists, {}};
      if (auto st = validateLabelKey(r.key); !st) return core::invalid(where + ".key: " + st.error().message);
      std::string op = e.value("operator", "");
      if (op == "In") r.op = Op::kIn;
      else if (op == "NotIn") r.op = Op::kNotIn;
      else if (op == "Exists") r.op = Op::kExists;
      else if (op == "DoesNotExist") r.op = Op::kDoesNotExist;
      else return core::invalid(fmt::format("{}.operator: Unsupported value: {:?}", where, op));
      if (auto vs = e.find("values"); vs != e.end() && vs->is_array()) {
        for (auto& v : *vs) {
          if (!v.is_string()) return core::invalid(where + ".values: must be strings");
          r.values.push_back(v.get<std::string>());
        }
      }
      bool needsValues = r.op == Op::kIn || r.op == Op::kNotIn;
      if (needsValues && r.values.empty()) {
        return core::invalid(where + ".values: must be specified when `operator` is 'In' or 'NotIn'");
      }
      if (!needsValues && !r.values.empty()) {
        return core::invalid(where + ".values: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
      std::sort(r.values.begin(), r.values.end());
      r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
      sel.reqs_.push_back(std::move(r));
    }
  }
  std::stable_sort(sel.reqs_.begin(), sel.reqs_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return sel;
}

LabelSelector LabelSelector::fromMap(const std::map<std::string, std::string>& m) {
  LabelSelector sel;
  for (const auto& [k, v] : m) sel.reqs_.push_back({k, Op::kEquals, {v}});
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  return std::all_of(reqs_.begin(), reqs_.end(), [&](const Requirement& r) { return r.matches(labels); });
}

std::string LabelSelector::toString() const {
  std::string out;
  for (const auto& r : reqs_) {
    if (!out.empty()) out += ',';
    if (r.op == Op::kDoesNotExist) out += '!';
    out += r.key;
    out += opString(r.op);
    if (r.op == Op::kIn || r.op == Op::kNotIn) {
      out += '(' + fmt::format("{}", fmt::join(r.values, ",")) + ')';
    } else if (!r.values.empty()) {
      out += r.values[0];
    }
  }
  return out;
}

}  // namespace mysqlop::kube
