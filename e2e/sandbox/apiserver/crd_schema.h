#pragma once
// Structural-schema handling for custom resources, as apiextensions-apiserver does it on every
// write: prune fields the schema does not declare (unless x-kubernetes-preserve-unknown-fields),
// apply `default`s, then validate types, required, enum, bounds, lengths, patterns and item
// counts into 422 causes. CEL rules (x-kubernetes-validations) are not evaluated (documented in
// e2e/sandbox/README.md). Pure functions; any thread.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e/sandbox/apiserver/api_error.h"

namespace mysqlop::sandbox {

// Prunes and defaults `obj` (a whole custom resource) in place. The dotted paths of pruned
// fields (".spec.foo") are appended to `unknown`. apiVersion, kind and metadata are kept.
void pruneAndDefault(const Json& schema, Json& obj, std::vector<std::string>& unknown,
                     bool applyDefaults = true);

// Validates a pruned, defaulted object against the schema. Paths in causes have no leading dot.
std::vector<Cause> validateAgainstSchema(const Json& schema, const Json& obj);

}  // namespace mysqlop::sandbox
