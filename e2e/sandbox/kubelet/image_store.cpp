#include "e2e/sandbox/kubelet/image_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mysqlop::sandbox::kubelet {
namespace {

namespace fs = std::filesystem;

bool validChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '/' || c == ':' || c == '@';
}

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& s : *it) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

core::Result<nlohmann::json> readJson(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return core::notFound(fmt::format("{} cannot be read", p.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return core::invalid(fmt::format("{} is not JSON", p.string()));
  return j;
}

}  // namespace

core::Result<std::string> normalizeImageRef(const std::string& ref) {
  const auto invalid = [&] { return core::invalid(fmt::format("Failed to apply default image tag {:?}: couldn't parse image name {:?}: invalid reference format", ref, ref)); };
  if (ref.empty() || ref.size() > 512 || !std::all_of(ref.begin(), ref.end(), validChar)) return invalid();
  std::string name = ref, suffix;
  if (auto at = name.find('@'); at != std::string::npos) {
    suffix = name.substr(at);
    name = name.substr(0, at);
  }
  const auto slash = name.find('/');
  // A first component with a '.' or ':' (or "localhost") is a registry host.
  const std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  const bool hasHost = !first.empty() && (first.find_first_of(".:") != std::string::npos || first == "localhost");
  if (!hasHost) name = (slash == std::string::npos ? "docker.io/library/" : "docker.io/") + name;
  const auto lastSlash = name.rfind('/');
  const auto colon = name.rfind(':');
  const bool hasTag = colon != std::string::npos && colon > lastSlash;
  if (hasTag && colon + 1 == name.size()) return invalid();
  if (name.back() == '/' || name.find("//") != std::string::npos) return invalid();
  if (!hasTag && suffix.empty()) name += ":latest";
  return name + suffix;
}

core::Result<Image> parseImageConfig(const nlohmann::json& config) {
  if (!config.is_object()) return core::invalid("the image configuration is not an object");
  const nlohmann::json* c = nullptr;
  for (const char* key : {"config", "Config"}) {
    if (auto it = config.find(key); it != config.end() && it->is_object()) c = &*it;
  }
  Image img;
  if (!c) return img;  // an image without configuration: no entrypoint, root, "/"
  img.entrypoint = strings(*c, "Entrypoint");
  img.cmd = strings(*c, "Cmd");
  for (const auto& e : strings(*c, "Env")) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) return core::invalid(fmt::format("image Env entry {:?} is not NAME=VALUE", e));
    img.env.emplace_back(e.substr(0, eq), e.substr(eq + 1));
  }
  if (auto u = c->find("User"); u != c->end() && u->is_string()) img.user = u->get<std::string>();
  if (auto w = c->find("WorkingDir"); w != c->end() && w->is_string()) img.workingDir = w->get<std::string>();
  return img;
}

core::Result<Image> ImageStore::find(const std::string& ref) const {
  auto name = normalizeImageRef(ref);
  if (!name) return name.error();
  auto index = readJson(fs::path(dir_) / "index.json");
  std::string id;
  if (index && index->is_object()) {
    if (auto it = index->find(*name); it != index->end() && it->is_string()) id = it->get<std::string>();
  }
  if (id.empty() || id.find('/') != std::string::npos) {
    return core::notFound(fmt::format("rpc error: code = NotFound desc = failed to pull and unpack image {:?}: failed to resolve "
                                      "reference {:?}: {}: not found (the sandbox reaches no registry; its image store {} "
                                      "holds only what e2e/sandbox/images/build put there)",
                                      *name, *name, *name, dir_));
  }
  const fs::path dir = fs::path(dir_) / id;
  auto config = readJson(dir / "config.json");
  if (!config) return core::Error(core::ErrorCode::kUnavailable, fmt::format("image {:?} ({}): {}", *name, id, config.error().message));
  auto img = parseImageConfig(*config);
  if (!img) return core::invalid(fmt::format("image {:?} ({}): {}", *name, id, img.error().message));
  std::error_code ec;
  if (!fs::is_directory(dir / "rootfs", ec)) return core::unavailable(fmt::format("image {:?} ({}) has no rootfs directory", *name, id));
  img->ref = *name;
  img->id = id;
  img->rootfs = (dir / "rootfs").string();
  return img;
}

std::vector<std::string> ImageStore::names() const {
  std::vector<std::string> out;
  auto index = readJson(fs::path(dir_) / "index.json");
  if (index && index->is_object()) {
    for (const auto& [k, _] : index->items()) out.push_back(k);
  }
  return out;
}

}  // namespace mysqlop::sandbox::kubelet
