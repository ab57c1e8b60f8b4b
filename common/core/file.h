#pragma once
// Reading a whole file, as every part that takes a PEM, a token or a kubeconfig from disk does.
// Any thread.
//
//   auto pem = readFile("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
//   if (!pem) log.error(pem.error().message);   // "cannot read …: No such file or directory"

#include <string>
#include <string_view>

#include "common/core/result.h"

namespace mysqlop::core {

// The file's bytes; Invalid with the path and the OS's reason when it cannot be read.
Result<std::string> readFile(std::string_view path);

}  // namespace mysqlop::core
