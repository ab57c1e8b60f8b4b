#pragma once
// JSON merge patch (RFC 7386) and JSON patch (RFC 6902), applied and created.
// Application is all-or-nothing: on error the input is untouched and the Error (Invalid) says
// which operation failed and why — e.g. a failing `test`. Built on nlohmann::json's own RFC
// implementations; pure functions, any thread.
//
//   auto patched = applyJsonPatch(obj, Json::parse(R"([{"op":"test","path":"/a","value":1}])"));
//   Json mp = createMergePatch(current, desired);   // send as application/merge-patch+json

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::kube {

using Json = nlohmann::json;

// RFC 7386: objects merge recursively, `null` removes a member, anything else replaces.
Json applyMergePatch(const Json& target, const Json& patch);

// The merge patch that turns `from` into `to` (minimal: unchanged members are left out).
// Null members of `to` cannot be expressed (null means "remove"), as RFC 7386 §1 notes.
Json createMergePatch(const Json& from, const Json& to);

// RFC 6902: add, remove, replace, move, copy, test; "~0"/"~1" escapes in paths.
core::Result<Json> applyJsonPatch(const Json& target, const Json& patch);

// An RFC 6902 patch turning `from` into `to`.
Json createJsonPatch(const Json& from, const Json& to);

}  // namespace mysqlop::kube
