#include "common/core/file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mysqlop::core {

Result<std::string> readFile(std::string_view path) {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) return invalid(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mysqlop::core
