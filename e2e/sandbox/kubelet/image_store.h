#pragma once
// The sandbox node's image store (docs/design.md §7): what a container runtime's image service holds
// after a pull, as plain directories. `e2e/sandbox/images/build` fills it from images built with
// podman (Debian packages, the operators' release archives); the kubelet only reads it.
//
//   <store>/index.json             {"docker.io/library/mysql:9.7.4": "<id>", …}  (written atomically)
//   <store>/<id>/config.json       the OCI image configuration ({"config": {Entrypoint, Cmd, Env,
//                                  User, WorkingDir}}, as `podman image inspect` and the OCI spec say)
//   <store>/<id>/rootfs/           the image's layers, applied
//
// <id> is the image ID: the sha256 of the configuration blob (`podman images --no-trunc`), which
// the kubelet reports as the container's imageID. Pure parsing is separate from reading files.
//
//   auto ref = normalizeImageRef("mysql:9.7.4");            // docker.io/library/mysql:9.7.4
//   auto img = ImageStore("/var/lib/mysqlop-sandbox/images").find("mysql:9.7.4");

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::sandbox::kubelet {

struct Image {
  std::string ref;   // as normalised
  std::string id;    // hex digest of the configuration, without "sha256:"
  std::string rootfs;
  std::vector<std::string> entrypoint, cmd;
  std::vector<std::pair<std::string, std::string>> env;  // the image's Env, in order
  std::string user;        // "", "65534", "65534:65534", "mysql", …
  std::string workingDir;  // "" = "/"
};

// A reference as containerd names it: a registry host (docker.io by default), "library/" for
// Docker Hub's official images, ":latest" when no tag or digest is given.
// "mysql:9.7.4" → "docker.io/library/mysql:9.7.4"; "prom/x" → "docker.io/prom/x:latest";
// "localhost:5000/a/b:1" stays. An empty or malformed reference is an error, worded as the
// kubelet's InvalidImageName.
core::Result<std::string> normalizeImageRef(const std::string& ref);

// The image parts of an OCI image configuration (podman's inspect output has them too, under
// "Config"); an error names what is malformed.
core::Result<Image> parseImageConfig(const nlohmann::json& config);

class ImageStore {
 public:
  explicit ImageStore(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  // The image a reference names, read afresh (the store may be filled while the kubelet runs);
  // NotFound when the store has no such image, worded as a failed pull.
  core::Result<Image> find(const std::string& ref) const;
  // The references the store holds, for messages.
  std::vector<std::string> names() const;

 private:
  std::string dir_;
};

}  // namespace mysqlop::sandbox::kubelet
