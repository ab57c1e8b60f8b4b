#include "e2e/sandbox/apiserver/api_error.h"

#include <fmt/format.h>

namespace mysqlop::sandbox {

Json ApiError::toStatus() const {
  Json s = {{"kind", "Status"},   {"apiVersion", "v1"}, {"metadata", Json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details.is_null() && !details.empty()) s["details"] = details;
  if (retryAfterSeconds) s["details"]["retryAfterSeconds"] = *retryAfterSeconds;
  return s;
}

namespace errors {
namespace {

Json detailsFor(const ResourceInfo& r, const std::string& name) {
  Json d = {{"kind", r.plural}};
  if (!name.empty()) d["name"] = name;
  if (!r.group.empty()) d["group"] = r.group;
  return d;
}

std::string quoteValue(const Json& v) {
  if (v.is_string()) return fmt::format("{:?}", v.get<std::string>());
  return v.dump();
}

}  // namespace

ApiError notFound(const ResourceInfo& r, const std::string& name) {
  return {404, "NotFound", fmt::format("{} \"{}\" not found", r.qualified(), name),
          detailsFor(r, name), std::nullopt};
}

ApiError pathNotFound() {
  return {404, "NotFound", "the server could not find the requested resource", nullptr,
          std::nullopt};
}

ApiError alreadyExists(const ResourceInfo& r, const std::string& name) {
  return {409, "AlreadyExists", fmt::format("{} \"{}\" already exists", r.qualified(), name),
          detailsFor(r, name), std::nullopt};
}

ApiError conflict(const ResourceInfo& r, const std::string& name) {
  return {409, "Conflict",
          fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has been modified; "
                      "please apply your changes to the latest version and try again",
                      r.qualified(), name),
          detailsFor(r, name), std::nullopt};
}

ApiError invalid(const std::string& kind, const std::string& group, const std::string& name,
                 std::vector<Cause> causes) {
  std::vector<std::string> parts;
  Json jc = Json::array();
  for (const auto& c : causes) {
    parts.push_back(c.field.empty() ? c.message : c.field + ": " + c.message);
    jc.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  std::string what = parts.size() == 1 ? parts[0] : fmt::format("[{}]", fmt::join(parts, ", "));
  std::string qualifiedKind = group.empty() ? kind : kind + "." + group;
  Json d = {{"name", name}, {"kind", kind}, {"causes", jc}};
  if (!group.empty()) d["group"] = group;
  return {422, "Invalid", fmt::format("{} \"{}\" is invalid: {}", qualifiedKind, name, what), d,
          std::nullopt};
}

ApiError badRequest(const std::string& message) {
  return {400, "BadRequest", message, nullptr, std::nullopt};
}

ApiError forbidden(const std::string& message, const std::string& name, const std::string& group,
                   const std::string& kind) {
  Json d;
  if (!kind.empty()) {
    d = {{"kind", kind}};
    if (!name.empty()) d["name"] = name;
    if (!group.empty()) d["group"] = group;
  }
  return {403, "Forbidden", message, d, std::nullopt};
}

ApiError unauthorized() { return {401, "Unauthorized", "Unauthorized", nullptr, std::nullopt}; }

ApiError methodNotSupported(const std::string& verb, const ResourceInfo& r) {
  return {405, "MethodNotAllowed",
          fmt::format("{} is not supported on resources of kind \"{}\"", verb, r.qualified()),
          detailsFor(r, ""), std::nullopt};
}

ApiError unsupportedMediaType(const std::string& contentType,
                              const std::vector<std::string>& supported) {
  std::vector<std::string> quoted;
  for (const auto& s : supported) quoted.push_back("\"" + s + "\"");
  return {415, "UnsupportedMediaType",
          fmt::format("the body of the request was in an unknown format - accepted media types "
                      "include: {} (got {:?})",
                      fmt::join(supported, ", "), contentType),
          nullptr, std::nullopt};
}

ApiError notAcceptable() {
  return {406, "NotAcceptable",
          "only the following media types are accepted: application/json, application/yaml, "
          "application/vnd.kubernetes.protobuf",
          nullptr, std::nullopt};
}

ApiError expired(const std::string& message) {
  return {410, "Expired", message, nullptr, std::nullopt};
}

ApiError timeout(const std::string& message) {
  return {504, "Timeout", message, nullptr, std::nullopt};
}

ApiError internal(const std::string& message) {
  return {500, "InternalError", "Internal error occurred: " + message, nullptr, std::nullopt};
}

ApiError fromCode(int code, const std::string& message) {
  std::string reason = "InternalError";
  switch (code) {
    case 400: reason = "BadRequest"; break;
    case 401: reason = "Unauthorized"; break;
    case 403: reason = "Forbidden"; break;
    case 404: reason = "NotFound"; break;
    case 405: reason = "MethodNotAllowed"; break;
    case 409: reason = "Conflict"; break;
    case 410: reason = "Expired"; break;
    case 415: reason = "UnsupportedMediaType"; break;
    case 422: reason = "Invalid"; break;
    case 429: reason = "TooManyRequests"; break;
    case 503: reason = "ServiceUnavailable"; break;
    case 504: reason = "Timeout"; break;
    default: break;
  }
  return {code, reason, message, nullptr, std::nullopt};
}

Cause required(const std::string& field) { return {"FieldValueRequired", "Required value", field}; }

Cause invalidValue(const std::string& field, const Json& value, const std::string& detail) {
  return {"FieldValueInvalid", fmt::format("Invalid value: {}: {}", quoteValue(value), detail), field};
}

Cause notSupported(const std::string& field, const Json& value,
                   const std::vector<std::string>& allowed) {
  std::vector<std::string> q;
  for (const auto& a : allowed) q.push_back(fmt::format("{:?}", a));
  return {"FieldValueNotSupported",
          fmt::format("Unsupported value: {}: supported values: {}", quoteValue(value),
                      fmt::join(q, ", ")),
          field};
}

Cause forbiddenField(const std::string& field, const std::string& detail) {
  return {"FieldValueForbidden", "Forbidden: " + detail, field};
}

}  // namespace errors
}  // namespace mysqlop::sandbox
