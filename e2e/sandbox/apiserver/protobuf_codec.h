#pragma once
// Decoding of Kubernetes protobuf request bodies ("k8s\0" + runtime.Unknown envelope). Since
// client-go 1.32 kubectl's typed generators send them (kube-api-emulator-spec §1.10): create
// secret|configmap|namespace|serviceaccount|role|rolebinding|clusterrole|clusterrolebinding,
// auth can-i (SelfSubjectAccessReview), create token (TokenRequest), and the DeleteOptions that
// typed clients such as helm's release storage send with DELETE. Those kinds are
// decoded from field tables taken from the upstream .proto files; answers are always JSON.
// Pure; any thread.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::sandbox {

// The object as JSON (bytes fields base64-encoded as the JSON form has them). Invalid for a
// malformed body or a kind without a field table.
core::Result<nlohmann::json> decodeProtobufObject(std::string_view body, const std::string& expectedKind);

}  // namespace mysqlop::sandbox
