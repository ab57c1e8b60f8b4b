#include "e2e/sandbox/kubelet/atomic_writer.h"

#include "common/core/file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace mysqlop::sandbox::kubelet {
namespace {

namespace fs = std::filesystem;

constexpr const char* kData = "..data";
constexpr const char* kDataTmp = "..data_tmp";

std::string topLevel(const std::string& path) { return path.substr(0, path.find('/')); }

// Whether the version `..data` points to holds exactly `files`, with their modes.
bool current(const fs::path& dir, const std::vector<File>& files) {
  std::error_code ec;
  if (!fs::is_symlink(dir / kData, ec)) return false;
  const fs::path data = dir / fs::read_symlink(dir / kData, ec);
  if (ec) return false;
  size_t regular = 0;
  for (auto it = fs::recursive_directory_iterator(data, ec); !ec && it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) ++regular;
  }
  if (ec || regular != files.size()) return false;
  for (const auto& f : files) {
    struct stat st {};
    auto got = core::readFile((data / f.path).string());
    if (!got || *got != f.content || ::stat((data / f.path).c_str(), &st) != 0) return false;
    if (static_cast<int>(st.st_mode & 07777) != f.mode) return false;
  }
  for (const auto& f : files) {
    if (!fs::is_symlink(dir / topLevel(f.path), ec)) return false;
  }
  return true;
}

// "..2026_11_29_10_17_38.123456789", unique within the directory.
std::string versionName(const fs::path& dir) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() % 1000000000;
  std::string name = fmt::format("..{:04}_{:02}_{:02}_{:02}_{:02}_{:02}.{:09}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                 tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
  for (int i = 1; fs::exists(dir / name); ++i) name += fmt::format("-{}", i);
  return name;
}

core::Status writeVersion(const fs::path& version, const std::vector<File>& files) {
  std::error_code ec;
  fs::create_directories(version, ec);
  if (ec) return core::internal(fmt::format("cannot create {}: {}", version.string(), ec.message()));
  ::chmod(version.c_str(), 0755);
  for (const auto& f : files) {
    const fs::path p = version / f.path;
    fs::create_directories(p.parent_path(), ec);
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << f.content;
      if (!out) return core::internal("cannot write " + p.string());
    }
    ::chmod(p.c_str(), static_cast<mode_t>(f.mode));
  }
  return {};
}

}  // namespace

core::Result<bool> writeAtomically(const std::string& dirName, const std::vector<File>& files) {
  const fs::path dir(dirName);
  for (const auto& f : files) {
    if (f.path.empty() || f.path.front() == '/' || f.path.find("..") != std::string::npos) {
      return core::invalid(fmt::format("item path {:?} leaves the volume", f.path));
    }
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return core::internal(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  if (current(dir, files)) return false;

  const std::string version = versionName(dir);
  if (auto st = writeVersion(dir / version, files); !st) return st.error();
  // The swap: one rename(2) of a new link over ..data.
  fs::remove(dir / kDataTmp, ec);
  fs::create_symlink(version, dir / kDataTmp, ec);
  if (ec) return core::internal(fmt::format("cannot link {}: {}", (dir / kDataTmp).string(), ec.message()));
  fs::rename(dir / kDataTmp, dir / kData, ec);
  if (ec) return core::internal(fmt::format("cannot swap {}: {}", (dir / kData).string(), ec.message()));

  // The user-visible names: links for the new ones, none for the gone ones.
  std::set<std::string> names;
  for (const auto& f : files) names.insert(topLevel(f.path));
  for (const auto& n : names) {
    if (fs::is_symlink(dir / n, ec)) continue;
    fs::remove_all(dir / n, ec);  // a plain file of an older layout
    fs::create_symlink(fs::path(kData) / n, dir / n, ec);
    if (ec) return core::internal(fmt::format("cannot link {}: {}", (dir / n).string(), ec.message()));
  }
  // What no longer belongs: links of gone names, and older versions (also a crashed update's).
  std::vector<fs::path> gone;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string n = entry.path().filename().string();
    if (n == kData || n == version || names.count(n)) continue;
    gone.push_back(entry.path());
  }
  for (const auto& g : gone) fs::remove_all(g, ec);
  return true;
}

}  // namespace mysqlop::sandbox::kubelet
