#pragma once
// Strategic merge patch for built-in kinds (kube-api-emulator-spec §2.6), the documented
// simplification: maps merge as in a JSON merge patch; lists with a known merge key merge
// element-wise (containers, initContainers, env, volumes, imagePullSecrets by `name`;
// volumeMounts by `mountPath`; container ports by `containerPort`; Service ports by `port`;
// ownerReferences by `uid`; conditions by `type`); `finalizers` merge as a set; other lists are
// replaced. The directives `$patch` (replace, delete, merge), `$setElementOrder/<field>`,
// `$deleteFromPrimitiveList/<field>` and `$retainKeys` are understood and never stored.
// Pure; any thread.

#include <string>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::sandbox {

using Json = nlohmann::json;

// `kind` picks the meaning of ambiguous fields (Service `ports` vs container `ports`).
core::Result<Json> applyStrategicMerge(const Json& original, const Json& patch,
                                       const std::string& kind);

// The merge key of the built-in list `field` under the dotted `parentPath` (".spec"), "" for
// an atomic list. Server-side apply uses the same table.
std::string strategicMergeKey(const std::string& kind, const std::string& parentPath,
                              const std::string& field);

}  // namespace mysqlop::sandbox
