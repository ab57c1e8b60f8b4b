#include "common/client/token_source.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace mysqlop::client {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

TEST_CASE("a token file is re-read every 60 s and the last good token survives", "[client][token]") {
  std::string tmpl = (fs::temp_directory_path() / "mysqlop-token-XXXXXX").string();
  fs::path dir = mkdtemp(tmpl.data());
  fs::path file = dir / "token";
  std::ofstream(file) << "first\n";

  core::FakeClock clock;
  TokenSource ts("", file.string(), clock);
  CHECK(*ts.token() == "first");

  std::ofstream(file, std::ios::trunc) << "second";
  clock.advance(seconds{59});
  CHECK(*ts.token() == "first");  // still cached
  clock.advance(seconds{2});
  CHECK(*ts.token() == "second");  // re-read after 60 s

  fs::remove(file);
  clock.advance(seconds{61});
  CHECK(*ts.token() == "second");  // unreadable now: keep the last good one

  TokenSource never("", (dir / "absent").string(), clock);
  auto err = never.token();
  REQUIRE_FALSE(err);
  CHECK(err.error().code == core::ErrorCode::kUnauthorized);

  TokenSource fixed("static", "", clock);
  CHECK(*fixed.token() == "static");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mysqlop::client
