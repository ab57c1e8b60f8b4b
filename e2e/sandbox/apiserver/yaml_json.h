#pragma once
// YAML documents as JSON values: plain scalars are typed as YAML 1.1 core would type them
// (true/false, null/~, integers, floats), quoted scalars stay strings. Used for
// application/apply-patch+yaml bodies, application/yaml and the /__sandbox/load hook.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::sandbox {

// Every document of a (possibly multi-document) YAML stream; empty documents are skipped.
core::Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text);
// One document (JSON is tried first: it is valid YAML and much faster to parse).
core::Result<nlohmann::json> parseYamlOrJson(std::string_view text);

}  // namespace mysqlop::sandbox
