#pragma once
// What running a Pod means on the sandbox, decided before anything runs (pure): the files each
// volume holds, and for each container the program (its image mapped to a local one), argv,
// environment and mounts. The pod runner (next) only executes such a plan.
//
//   PodPlan plan = planPod(pod, lookups, images);   // or an error naming the field at fault
//
// Volumes: secret and configMap (all keys, or items key → path, with defaultMode), projected
// (secret/configMap sources), emptyDir, persistentVolumeClaim (a sandbox directory per claim),
// and the service-account volume a kubelet adds at /var/run/secrets/kubernetes.io/serviceaccount
// (token, ca.crt, namespace). Env: value, secretKeyRef, configMapKeyRef, fieldRef
// (metadata.name/namespace/uid, status.podIP, spec.nodeName, spec.serviceAccountName), with
// $(VAR) expanded in command and args as Kubernetes does.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace mysqlop::sandbox::kubelet {

using Json = nlohmann::json;

struct File {
  std::string path;     // relative to the volume's root
  std::string content;
  int mode = 0644;
};

struct Volume {
  enum Kind { kFiles, kEmptyDir, kClaim } kind = kEmptyDir;
  std::string name;
  std::vector<File> files;  // kFiles
  std::string claim;        // kClaim: the PVC's name
};

struct Mount {
  std::string volume;
  std::string mountPath;
  bool readOnly = false;
};

// The container's effective security context (the pod's, overridden by the container's).
struct Security {
  std::optional<int64_t> runAsUser, runAsGroup;  // unset: the image's user, root on the sandbox
  bool readOnlyRootFilesystem = false;
  bool noNewPrivileges = false;  // allowPrivilegeEscalation: false
  bool dropAllCapabilities = false;
};

struct ContainerPlan {
  std::string name;
  std::string image;
  std::vector<std::string> argv;  // argv[0] is the local program
  std::string workingDir;         // made if missing, as a runtime does; empty: the image's ("/")
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Mount> mounts;
  Json readinessProbe, livenessProbe;  // as in the spec (null when absent)
  Json ports;                          // the container's ports (named probe ports)
  Security security;
  // The image's commands (ImageRule::commands), found first on the container's PATH, so that a
  // shell the container runs finds them as the image's own PATH would.
  std::map<std::string, std::string> pathCommands;
};

struct PodPlan {
  std::string ns, name, uid, hostname, subdomain;
  std::vector<Volume> volumes;
  std::vector<ContainerPlan> containers;
  int64_t terminationGracePeriodSeconds = 30;
};

// An image → program rule: images whose name (before ':') equals or ends with `match` run
// `program`; the container's command replaces `defaultArgs`' role as upstream's entrypoint/cmd do.
struct ImageRule {
  std::string match;          // "mysql", "mysqld-exporter", "mysqlop/community-operator"
  std::string program;        // absolute path of the local program
  std::vector<std::string> defaultArgs;
  // Commands the image's PATH would find ("mysqld_exporter") → local programs.
  std::map<std::string, std::string> commands;
};

struct Lookups {
  // Secret or ConfigMap data (decoded) by namespace/name; nullopt when it does not exist.
  std::function<std::optional<std::map<std::string, std::string>>(const std::string& kind, const std::string& ns,
                                                                  const std::string& name)>
      data;
  std::string serviceAccountToken;  // for the service-account volume
  std::string caPem;                // the API server's CA
  std::string podIP;
  std::string nodeName = "sandbox";
};

core::Result<PodPlan> planPod(const Json& pod, const Lookups& lookups, const std::vector<ImageRule>& images);

// "$(A)" → value of A (unknown names stay as written; "$$(A)" escapes), as Kubernetes expands.
std::string expandVars(const std::string& s, const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace mysqlop::sandbox::kubelet
