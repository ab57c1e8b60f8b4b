#pragma once
// What running a Pod means on the sandbox, decided before anything runs (pure): the files each
// volume holds, and for each container its image (root filesystem, ID), argv (the image's
// entrypoint and cmd as the container's command and args override them), environment (the
// image's, then the container's), user and mounts. The pod runner only executes such a plan.
//
//   PodPlan plan = planPod(pod, lookups);   // or an error naming the field at fault
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
#include "e2e/sandbox/kubelet/image_store.h"

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
  std::string claimUid;     // kClaim: the PVC's uid (its volume is this claim's, not a namesake's)
};

struct Mount {
  std::string volume;
  std::string mountPath;
  bool readOnly = false;
};

// The container's effective security context (the pod's, overridden by the container's).
struct Security {
  // The user and group the process runs as: the securityContext's, else the image's (numeric or
  // resolved by the runner in the image's /etc/passwd); unset: root.
  std::optional<int64_t> runAsUser, runAsGroup;
  std::string imageUser;  // the image's User when runAsUser is unset and it is not numeric
  bool readOnlyRootFilesystem = false;
  bool noNewPrivileges = false;  // allowPrivilegeEscalation: false
  bool dropAllCapabilities = false;
};

struct ContainerPlan {
  std::string name;
  std::string image;    // as the pod names it
  std::string imageRef; // normalised (docker.io/library/mysql:9.7.4)
  std::string imageId;  // "sha256:<hex>", empty while the image is not pulled
  std::string rootfs;   // the image's root filesystem in the store
  // Why the image could not be had (not in the store: ErrImagePull): the container waits.
  std::string pullError;
  std::string imageUser;  // the image's User ("65534:65534", "mysql", "" = root)
  std::vector<std::string> argv;  // looked up on the image's PATH when not absolute
  std::string workingDir;         // made if missing, as a runtime does; empty: "/"
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<Mount> mounts;
  Json readinessProbe, livenessProbe;  // as in the spec (null when absent)
  Json ports;                          // the container's ports (named probe ports)
  Security security;
};

struct PodPlan {
  std::string ns, name, uid, hostname, subdomain;
  std::vector<Volume> volumes;
  std::vector<ContainerPlan> containers;
  int64_t terminationGracePeriodSeconds = 30;
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
  // The uid of a PersistentVolumeClaim that exists and is not being deleted; nullopt otherwise.
  std::function<std::optional<std::string>(const std::string& ns, const std::string& name)> claim;
  // The image a reference names (ImageStore::find); NotFound when it is not there.
  std::function<core::Result<Image>(const std::string& ref)> image;
};

core::Result<PodPlan> planPod(const Json& pod, const Lookups& lookups);


// "$(A)" → value of A (unknown names stay as written; "$$(A)" escapes), as Kubernetes expands.
std::string expandVars(const std::string& s, const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace mysqlop::sandbox::kubelet
