#pragma once
// Errors as kube-apiserver words them: each becomes a `Status` body with code, reason,
// message and details (name, group, kind, causes). Constructors for every case the sandbox
// answers; the wording follows kube-api-emulator-spec §2.15.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"
#include "e2e/sandbox/apiserver/resource_registry.h"

namespace mysqlop::sandbox {

struct Cause {
  std::string reason;  // FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...
  std::string message;
  std::string field;
};

struct ApiError {
  int code = 500;
  std::string reason;
  std::string message;
  Json details;  // null or {name, group, kind, causes, retryAfterSeconds}
  std::optional<int> retryAfterSeconds;

  Json toStatus() const;
};

template <typename T>
using ApiResult = core::Result<T, ApiError>;
using ApiStatus = core::Result<void, ApiError>;

namespace errors {
ApiError notFound(const ResourceInfo& r, const std::string& name);
ApiError pathNotFound();
ApiError alreadyExists(const ResourceInfo& r, const std::string& name);
ApiError conflict(const ResourceInfo& r, const std::string& name);
// `<Kind>[.<group>] "<name>" is invalid: <field>: <message>[, ...]`
ApiError invalid(const std::string& kind, const std::string& group, const std::string& name,
                 std::vector<Cause> causes);
ApiError badRequest(const std::string& message);
ApiError forbidden(const std::string& message, const std::string& name = "",
                   const std::string& group = "", const std::string& kind = "");
ApiError unauthorized();
ApiError methodNotSupported(const std::string& verb, const ResourceInfo& r);
ApiError unsupportedMediaType(const std::string& contentType, const std::vector<std::string>& supported);
ApiError notAcceptable();
ApiError expired(const std::string& message);
ApiError timeout(const std::string& message);
ApiError internal(const std::string& message);
ApiError fromCode(int code, const std::string& message);  // fault injection

// Cause helpers with the apiserver's message shapes.
Cause required(const std::string& field);
Cause invalidValue(const std::string& field, const Json& value, const std::string& detail);
Cause notSupported(const std::string& field, const Json& value, const std::vector<std::string>& allowed);
Cause forbiddenField(const std::string& field, const std::string& detail);
}  // namespace errors

}  // namespace mysqlop::sandbox
