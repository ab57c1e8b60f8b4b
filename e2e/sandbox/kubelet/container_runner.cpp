#include "e2e/sandbox/kubelet/container_runner.h"

#include "e2e/sandbox/kubelet/atomic_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace mysqlop::sandbox::kubelet {
namespace {

namespace fs = std::filesystem;

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// The machine's mount points, from /proc/self/mounts (octal escapes such as \040 decoded).
std::vector<std::string> mountPoints() {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mounts");
  std::string dev, dir, rest;
  while (in >> dev >> dir && std::getline(in, rest)) {
    std::string decoded;
    for (size_t k = 0; k < dir.size(); ++k) {
      if (dir[k] == '\\' && k + 3 < dir.size()) {
        decoded.push_back(static_cast<char>(std::stoi(dir.substr(k + 1, 3), nullptr, 8)));
        k += 3;
      } else {
        decoded.push_back(dir[k]);
      }
    }
    out.push_back(decoded);
  }
  return out;
}

// Where a mount target that does not exist on the machine gets its directory without writing
// to the machine's filesystem: its deepest existing ancestor, to be covered in the container by
// an overlay whose upper layer is on the container's /run. Empty when the target exists, lies on
// the container's own /run, or the ancestor is / or holds other mounts (an overlay would hide
// them): then the directory is made on the machine, as before.
std::string overlayAnchor(const std::string& target, const std::vector<std::string>& mounts) {
  std::error_code ec;
  fs::path t = fs::path(target).lexically_normal();
  if (fs::exists(t, ec)) return "";
  fs::path a = t.parent_path();
  while (!a.empty() && a != a.root_path() && !fs::exists(a, ec)) a = a.parent_path();
  if (a.empty() || a == a.root_path() || !fs::is_directory(a, ec)) return "";
  const fs::path resolved = fs::canonical(a, ec);
  if (ec || resolved == "/run" || resolved.string().rfind("/run/", 0) == 0) return "";
  const std::string prefix = resolved.string() + "/";
  for (const auto& m : mounts) {
    if (m == resolved.string() || m.rfind(prefix, 0) == 0) return "";
  }
  return resolved.string();
}

}  // namespace

core::Result<VolumeDirs> materialise(const PodPlan& plan, const std::string& nodeDir) {
  VolumeDirs dirs;
  const fs::path podDir = fs::path(nodeDir) / "pods" / plan.uid / "volumes";
  std::error_code ec;
  for (const auto& v : plan.volumes) {
    fs::path dir = v.kind == Volume::kClaim ? fs::path(nodeDir) / "claims" / plan.ns / v.claim : podDir / v.name;
    fs::create_directories(dir, ec);
    if (ec) return core::internal(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    // An emptyDir is world-writable, as a kubelet makes it, so a container's non-root user can
    // use it.
    if (v.kind == Volume::kEmptyDir) fs::permissions(dir, fs::perms::all, ec);
    if (v.kind == Volume::kFiles) {
      if (auto w = writeAtomically(dir.string(), v.files); !w) {
        return core::Error(w.error().code, fmt::format("volume {:?}: {}", v.name, w.error().message));
      }
    }
    dirs[v.name] = dir.string();
  }
  return dirs;
}

std::string containerPath(const ContainerPlan& c) {
  const std::string machine = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return c.pathCommands.empty() ? "PATH=" + machine : fmt::format("PATH={}:{}", kImageBin, machine);
}

core::Result<pid_t> startContainer(const PodPlan& plan, const ContainerPlan& c, const VolumeDirs& dirs,
                                   const ContainerEnv& env) {
  // The mount namespace's set-up, then exec of the program with exactly its environment.
  // Every source is first bound into a staging directory on the fresh /run, because a mount
  // target (say /tmp) may hide a source below it (a node directory under /tmp); the staging
  // mounts are dropped once the targets are in place.
  std::string script = "set -e\nmount -t tmpfs container-run /run\nmkdir -p /run/.stage\n";
  std::string targets, unstage;
  int n = 0;
  // Mount targets missing on the machine are made inside overlays (see overlayAnchor).
  const std::vector<std::string> mounts = mountPoints();
  std::vector<std::string> overlays;
  std::string overlayScript;  // after the sources are staged, before the targets are made
  for (const auto& m : c.mounts) {
    const std::string anchor = overlayAnchor(m.mountPath, mounts);
    if (anchor.empty() || std::find(overlays.begin(), overlays.end(), anchor) != overlays.end()) continue;
    // An anchor inside another one is covered by the outer overlay.
    if (std::any_of(overlays.begin(), overlays.end(), [&](const std::string& o) { return anchor.rfind(o + "/", 0) == 0; })) continue;
    const std::string layer = fmt::format("/run/.sandbox-overlay/{}", overlays.size());
    overlayScript += fmt::format("mkdir -p {0}/upper {0}/work\nmount -t overlay sandbox-overlay -o lowerdir={1},upperdir={0}/upper,workdir={0}/work {1}\n",
                          layer, shellQuote(anchor));
    overlays.push_back(anchor);
  }
  for (const auto& m : c.mounts) {
    auto it = dirs.find(m.volume);
    if (it == dirs.end()) return core::invalid(fmt::format("container {:?}: volume {:?} was not materialised", c.name, m.volume));
    const std::string stage = fmt::format("/run/.stage/{}", n++);
    script += fmt::format("mkdir -p {0}\nmount --bind {1} {0}\n", stage, shellQuote(it->second));
    targets += fmt::format("mkdir -p {0}\nmount --bind {1} {0}\n", shellQuote(m.mountPath), stage);
    if (m.readOnly) targets += fmt::format("mount -o remount,bind,ro {}\n", shellQuote(m.mountPath));
    unstage += fmt::format("umount {}\n", stage);
  }
  if (!env.hostsFile.empty()) {
    script += fmt::format("touch /run/.stage/hosts\nmount --bind {} /run/.stage/hosts\n", shellQuote(env.hostsFile));
    targets += "mount --bind /run/.stage/hosts /etc/hosts\n";
    unstage += "umount /run/.stage/hosts\n";
  }
  // The program too may live below a mount target (a build tree under /tmp): it is bound onto
  // a file of the fresh /run first and run from there.
  std::vector<std::string> argv0 = c.argv;
  if (!argv0.empty() && !argv0[0].empty() && argv0[0][0] == '/') {
    script += fmt::format("touch /run/.stage/program\nmount --bind {} /run/.stage/program\n", shellQuote(argv0[0]));
    targets += "touch /run/.sandbox-program\nmount --bind /run/.stage/program /run/.sandbox-program\n";
    unstage += "umount /run/.stage/program\n";
    argv0[0] = "/run/.sandbox-program";
  }
  // The image's commands, in a directory of the fresh /run put first on PATH (kImageBin).
  int cmdIndex = 0;
  for (const auto& [name, program] : c.pathCommands) {
    const std::string stage = fmt::format("/run/.stage/command-{}", cmdIndex++);
    const std::string target = fmt::format("{}/{}", kImageBin, name);
    script += fmt::format("touch {0}\nmount --bind {1} {0}\n", stage, shellQuote(program));
    targets += fmt::format("mkdir -p {0}\ntouch {1}\nmount --bind {2} {1}\n", kImageBin, shellQuote(target), stage);
    unstage += fmt::format("umount {}\n", stage);
  }
  script += overlayScript + targets + unstage + "rm -rf /run/.stage\n";
  script += fmt::format("hostname {}\n", shellQuote(plan.hostname));
  script += c.workingDir.empty() ? "cd /\n" : fmt::format("mkdir -p {0}\ncd {0}\n", shellQuote(c.workingDir));
  // The security context: a read-only root (the volumes, /run and /etc/hosts are mounts of their
  // own and keep their modes), then util-linux's setpriv for the user, group, capabilities and
  // no_new_privs before the program starts.
  const Security& sec = c.security;
  if (sec.readOnlyRootFilesystem) {
    script += "mount -o remount,bind,ro /\n";
    for (const auto& o : overlays) script += fmt::format("mount -o remount,bind,ro {}\n", shellQuote(o));
  }
  std::string setpriv;
  if (sec.runAsUser) setpriv += fmt::format(" --reuid={}", *sec.runAsUser);
  // Without runAsGroup the primary group is the image's, root's group here (as a runtime does).
  if (sec.runAsGroup || sec.runAsUser) setpriv += fmt::format(" --regid={} --clear-groups", sec.runAsGroup.value_or(0));
  if (sec.dropAllCapabilities) setpriv += " --inh-caps=-all --bounding-set=-all";
  if (sec.noNewPrivileges) setpriv += " --no-new-privs";
  script += setpriv.empty() ? "exec env -i \"$@\"\n" : "exec setpriv" + setpriv + " env -i \"$@\"\n";

  std::vector<std::string> args = {"ip", "netns", "exec", env.netns, "unshare", "--mount", "--uts", "--propagation", "private",
                                    "--", "/bin/sh", "-c", script, "container-setup",
                                    containerPath(c),
                                    "HOSTNAME=" + plan.hostname};
  for (const auto& [k, v] : c.env) args.push_back(k + "=" + v);
  for (const auto& a : argv0) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!env.logFile.empty()) {
    posix_spawn_file_actions_addopen(&fa, 1, env.logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group (the final SIGKILL reaches every process of the container), and the
  // default signal state: the kubelet blocks SIGTERM for its own orderly shutdown, and a
  // container must not inherit that.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT}) sigaddset(&defaults, sig);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "ip", &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return core::unavailable(fmt::format("cannot start container {:?}: {}", c.name, strerror(rc)));
  return pid;
}

void reapGroup(pid_t pid) {
  // Whatever the container's main process left behind goes with it, as a container's other
  // processes do when its init exits.
  ::kill(-pid, SIGKILL);
}

int stopContainer(pid_t pid, std::chrono::milliseconds grace) {
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    reapGroup(pid);
    return status;
  }
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      reapGroup(pid);
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  reapGroup(pid);
  ::kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace mysqlop::sandbox::kubelet
