#pragma once
// Typed reads of a Kubernetes object's fields with an error per malformed field, in the words
// of the API server's field validation ("spec.tls.certificates[1].alias: Invalid value: 8: must
// be a string"). A missing or null field reads as empty and is no error: required fields are the
// caller's rule. Shared by every parser of user input (MySQL, MySQLVersion, cert-manager types).
//
//   FieldErrors errors;
//   FieldReader r(errors);
//   std::string v = r.str(spec, "version", "spec");   // spec.version
//   if (const Json* tls = r.object(spec, "tls", "spec")) { ... }

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mysqlop::kube {

using Json = nlohmann::json;

struct FieldError {
  std::string field;    // "spec.tls.certificates[1].alias"
  std::string message;  // "Unsupported value: \"router\": supported values: ..."
  std::string toString() const { return field.empty() ? message : field + ": " + message; }
  bool operator==(const FieldError&) const = default;
};
using FieldErrors = std::vector<FieldError>;

class FieldReader {
 public:
  explicit FieldReader(FieldErrors& errors) : errors_(errors) {}

  // o[key] at `path` (the field is path.key, or key when path is empty).
  std::string str(const Json& o, const char* key, const std::string& path);
  bool boolean(const Json& o, const char* key, const std::string& path);
  int64_t integer(const Json& o, const char* key, const std::string& path);
  std::vector<std::string> strings(const Json& o, const char* key, const std::string& path);
  std::map<std::string, std::string> stringMap(const Json& o, const char* key, const std::string& path);
  const Json* object(const Json& o, const char* key, const std::string& path);  // nullptr when absent or bad

  // Records "<field>: Invalid value: <value>: <why>" (long values shortened).
  void bad(const std::string& field, const Json& value, const std::string& why);

 private:
  FieldErrors& errors_;
};

}  // namespace mysqlop::kube
