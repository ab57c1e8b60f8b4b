// The kubelet's atomic writer on a temporary directory: the layout, no write when nothing
// changed, names coming and going, and a concurrent reader that never sees a mix of versions.
#include "e2e/sandbox/kubelet/atomic_writer.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace mysqlop::sandbox::kubelet {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "atomic-writer-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// nullopt when the file cannot be opened (a version removed meanwhile).
std::optional<std::string> tryRead(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("atomic writer: files behind ..data, links per name, no write when unchanged", "[kubelet][volumes]") {
  TempDir d;
  REQUIRE(*writeAtomically(d.path, {{"tls.crt", "cert v1", 0644}, {"tls.key", "key v1", 0600}, {"sub/x", "x", 0644}}));
  auto names = entries(d.path);
  REQUIRE(names.size() == 5);  // ..<version>, ..data, sub, tls.crt, tls.key
  CHECK(names[0].rfind("..2", 0) == 0);
  CHECK(names[1] == "..data");
  CHECK(fs::read_symlink(d.path / "..data") == names[0]);
  CHECK(fs::read_symlink(d.path / "tls.crt") == "..data/tls.crt");
  CHECK(read(d.path / "tls.key") == "key v1");
  CHECK(read(d.path / "sub" / "x") == "x");
  CHECK((fs::status(d.path / "tls.key").permissions() & fs::perms::all) == fs::perms(0600));

  CHECK_FALSE(*writeAtomically(d.path, {{"tls.crt", "cert v1", 0644}, {"tls.key", "key v1", 0600}, {"sub/x", "x", 0644}}));
  CHECK(fs::read_symlink(d.path / "..data") == names[0]);  // nothing rewritten

  // A new version: a changed file, a mode change, a name gone, a name added.
  REQUIRE(*writeAtomically(d.path, {{"tls.crt", "cert v2", 0644}, {"tls.key", "key v1", 0640}, {"ca.crt", "ca", 0644}}));
  CHECK(read(d.path / "tls.crt") == "cert v2");
  CHECK(read(d.path / "ca.crt") == "ca");
  CHECK_FALSE(fs::exists(d.path / "sub"));
  CHECK_FALSE(fs::exists(d.path / names[0]));  // the old version is gone
  CHECK(entries(d.path).size() == 5);
  CHECK(*writeAtomically(d.path, {{"tls.crt", "cert v2", 0644}, {"tls.key", "key v1", 0600}, {"ca.crt", "ca", 0644}}));

  CHECK_FALSE(writeAtomically(d.path, {{"../escape", "x", 0644}}));
  CHECK_FALSE(writeAtomically(d.path, {{"/abs", "x", 0644}}));
}

TEST_CASE("atomic writer: a reader never sees a mix of versions or a partial file", "[kubelet][volumes]") {
  TempDir d;
  auto payload = [](int v) {
    const std::string body(64 * 1024, static_cast<char>('a' + v % 26));
    return std::vector<File>{{"tls.crt", std::to_string(v) + body, 0644}, {"tls.key", std::to_string(v) + body, 0600}};
  };
  REQUIRE(*writeAtomically(d.path, payload(0)));
  std::atomic<bool> done{false};
  std::atomic<int> consistent{0}, mixed{0}, partial{0};
  std::thread reader([&] {
    while (!done) {
      // As a program that reloads a key pair does: resolve the version once, read both files.
      std::error_code ec;
      const fs::path version = d.path / fs::read_symlink(d.path / "..data", ec);
      if (ec) continue;
      const auto crt = tryRead(version / "tls.crt");
      const auto key = tryRead(version / "tls.key");
      if (!crt || !key) continue;  // that version was removed meanwhile: read again
      if (crt->size() != 64 * 1024 + std::to_string(std::stoi(crt->substr(0, crt->find_first_not_of("0123456789")))).size() ||
          key->size() != crt->size()) {
        ++partial;
      }
      if (*crt != *key) ++mixed; else ++consistent;
      // Through the user-visible names each file is always whole.
      if (read(d.path / "tls.crt").size() % (64 * 1024) > 8) ++partial;
    }
  });
  for (int v = 1; v <= 200; ++v) REQUIRE(*writeAtomically(d.path, payload(v)));
  done = true;
  reader.join();
  CHECK(mixed.load() == 0);
  CHECK(partial.load() == 0);
  CHECK(consistent.load() > 0);
  CHECK(read(d.path / "tls.crt") == payload(200)[0].content);
}

}  // namespace mysqlop::sandbox::kubelet
