#pragma once
// Decoding of Kubernetes protobuf request bodies ("k8s\0" + runtime.Unknown envelope) for the
// kinds kubectl ≥ 1.32 sends that way: Secret, ConfigMap and Namespace
// (kube-api-emulator-spec §1.10). Answers are always JSON. Pure; any thread.

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::sandbox {

// The object as JSON (data bytes base64-encoded as the JSON form has them). Invalid for a
// malformed body or a kind other than Secret, ConfigMap and Namespace.
core::Result<nlohmann::json> decodeProtobufObject(std::string_view body, const std::string& expectedKind);

}  // namespace mysqlop::sandbox
