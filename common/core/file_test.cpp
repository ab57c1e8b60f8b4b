#include "common/core/file.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace mysqlop::core {

TEST_CASE("readFile: a whole file, or why not", "[core][file]") {
  const auto path = std::filesystem::temp_directory_path() / ("read-file-" + std::to_string(::getpid()));
  std::ofstream(path, std::ios::binary) << std::string("a\0b\nc", 5);
  CHECK(*readFile(path.string()) == std::string("a\0b\nc", 5));
  std::filesystem::remove(path);
  auto missing = readFile(path.string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "cannot read " + path.string() + ": No such file or directory");
}

}  // namespace mysqlop::core
