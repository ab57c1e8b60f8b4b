#pragma once
// Standard base64 (RFC 4648 §4, padded), as Secret `data` and kubeconfig `*-data` fields use it.
// Decoding ignores line breaks and rejects anything else that is not base64. Built on
// OpenSSL's EVP encoder; pure functions, any thread.

#include <string>
#include <string_view>

#include "common/core/result.h"

namespace mysqlop::kube {

std::string base64Encode(std::string_view bytes);
core::Result<std::string> base64Decode(std::string_view text);

}  // namespace mysqlop::kube
