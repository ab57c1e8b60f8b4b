#include "e2e/sandbox/apiserver/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>

namespace mysqlop::sandbox {
namespace {

using Json = nlohmann::json;

Json scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return s;  // quoted
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "null" || s == "Null" || s == "NULL" || s == "~") return nullptr;
  int64_t i;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  bool numeric = !s.empty() && (isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.');
  if (numeric) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(d)) return d;
  }
  return s;
}

Json convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(n);
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& item : n) a.push_back(convert(item));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = convert(kv.second);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

core::Result<std::vector<Json>> parseYamlDocuments(std::string_view text) {
  try {
    std::vector<Json> out;
    for (const auto& doc : YAML::LoadAll(std::string(text))) {
      Json j = convert(doc);
      if (!j.is_null()) out.push_back(std::move(j));
    }
    return out;
  } catch (const YAML::Exception& e) {
    return core::invalid(std::string("invalid YAML: ") + e.what());
  }
}

core::Result<Json> parseYamlOrJson(std::string_view text) {
  auto j = Json::parse(text, nullptr, false);
  if (!j.is_discarded()) return j;
  auto docs = parseYamlDocuments(text);
  if (!docs) return docs.error();
  if (docs->size() != 1) return core::invalid("expected exactly one YAML document");
  return std::move((*docs)[0]);
}

}  // namespace mysqlop::sandbox
