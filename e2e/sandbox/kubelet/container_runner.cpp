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

// sandbox-enter's arguments (container_enter.cpp): the root, the security context, the program.
std::vector<std::string> enterArgs(const std::string& program, const std::string& root, const ContainerPlan& c) {
  std::vector<std::string> out = {program, "--root", root};
  const Security& sec = c.security;
  if (!c.workingDir.empty()) out.insert(out.end(), {"--wd", c.workingDir});
  if (sec.runAsUser) out.insert(out.end(), {"--uid", std::to_string(*sec.runAsUser)});
  // Without runAsGroup the primary group is the image's, root's group when it names none.
  if (sec.runAsGroup) out.insert(out.end(), {"--gid", std::to_string(*sec.runAsGroup)});
  else if (sec.runAsUser) out.insert(out.end(), {"--gid", "0"});
  if (!sec.imageUser.empty()) out.insert(out.end(), {"--user", sec.imageUser});
  if (sec.readOnlyRootFilesystem) out.push_back("--ro-root");
  if (sec.dropAllCapabilities) out.push_back("--drop-caps");
  if (sec.noNewPrivileges) out.push_back("--no-new-privs");
  out.push_back("--");
  out.insert(out.end(), c.argv.begin(), c.argv.end());
  return out;
}

}  // namespace

std::string claimDir(const std::string& nodeDir, const std::string& ns, const std::string& claim, const std::string& uid) {
  return (fs::path(nodeDir) / "claims" / ns / (claim + "." + uid)).string();
}

core::Result<VolumeDirs> materialise(const PodPlan& plan, const std::string& nodeDir) {
  VolumeDirs dirs;
  const fs::path podDir = fs::path(nodeDir) / "pods" / plan.uid / "volumes";
  std::error_code ec;
  for (const auto& v : plan.volumes) {
    fs::path dir = v.kind == Volume::kClaim ? fs::path(claimDir(nodeDir, plan.ns, v.claim, v.claimUid)) : podDir / v.name;
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

// A mount path as the container will see it, with the image's symbolic links followed inside
// the image (Debian's /var/run → /run, say), never out of it: an absolute link restarts from the
// image's root, ".." stops at it (as runc's securejoin). `image` is the image's root filesystem;
// the result is absolute and symlink-free as far as the image has the path.
core::Result<std::string> resolveInImage(const std::string& image, const std::string& path) {
  if (path.empty() || path[0] != '/') return core::invalid(fmt::format("mount path {:?} is not absolute", path));
  std::vector<std::string> todo, done;
  auto push = [&](const std::string& p) {
    std::vector<std::string> parts;
    for (const auto& part : fs::path(p)) {
      if (part != "/" && !part.empty()) parts.push_back(part.string());
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
  };
  push(path);
  int links = 0;
  while (!todo.empty()) {
    const std::string part = todo.front();
    todo.erase(todo.begin());
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string cur;
    for (const auto& d : done) cur += "/" + d;
    cur += "/" + part;
    std::error_code ec;
    const fs::path host = fs::path(image + cur);
    if (fs::is_symlink(host, ec)) {
      if (++links > 40) return core::invalid(fmt::format("mount path {:?}: too many levels of symbolic links in the image", path));
      const fs::path target = fs::read_symlink(host, ec);
      if (ec) return core::invalid(fmt::format("mount path {:?}: {}", path, ec.message()));
      if (target.is_absolute()) done.clear();
      push(target.string());
      continue;
    }
    done.push_back(part);
  }
  std::string out;
  for (const auto& d : done) out += "/" + d;
  return out.empty() ? std::string("/") : out;
}

std::string containerDir(const std::string& nodeDir, const std::string& uid, const std::string& container) {
  return (fs::path(nodeDir) / "pods" / uid / "containers" / container).string();
}

std::vector<std::string> containerEnv(const PodPlan& plan, const ContainerPlan& c) {
  std::vector<std::string> out;
  const bool hasPath = std::any_of(c.env.begin(), c.env.end(), [](const auto& kv) { return kv.first == "PATH"; });
  if (!hasPath) out.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  out.push_back("HOSTNAME=" + plan.hostname);
  for (const auto& [k, v] : c.env) out.push_back(k + "=" + v);
  return out;
}

core::Result<pid_t> startContainer(const PodPlan& plan, const ContainerPlan& c, const VolumeDirs& dirs,
                                   const ContainerEnv& env) {
  if (!c.pullError.empty() || c.rootfs.empty()) return core::unavailable(fmt::format("container {:?}: its image is not pulled", c.name));
  if (c.argv.empty()) return core::invalid(fmt::format("container {:?}: no command specified (the image has no entrypoint or cmd)", c.name));
  // The container's writable layer, new at every start as a runtime makes a new container: an
  // overlay of the image's root filesystem, mounted in the container's own mount namespace.
  const fs::path dir = env.containerDir;
  std::error_code ec;
  fs::remove_all(dir, ec);
  for (const char* d : {"upper", "work", "root"}) fs::create_directories(dir / d, ec);
  if (ec) return core::internal(fmt::format("cannot make {}: {}", dir.string(), ec.message()));
  const std::string root = (dir / "root").string();
  std::string script = "set -e\n";
  script += fmt::format("mount -t overlay container-root -o lowerdir={},upperdir={},workdir={} {}\n", shellQuote(c.rootfs),
                        shellQuote((dir / "upper").string()), shellQuote((dir / "work").string()), shellQuote(root));
  // What a runtime gives every container: /proc, a read-only /sys, a small /dev, a fresh /run.
  // /dev/pts is the node's: `kubectl exec -t` gets its terminal from the API server there.
  script += fmt::format(R"(R={}
mkdir -p "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/etc"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=755,nosuid container-dev "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount --bind /dev/pts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev container-shm "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=755,nosuid,nodev container-run "$R/run"
)", shellQuote(root));
  for (const auto& m : c.mounts) {
    auto it = dirs.find(m.volume);
    if (it == dirs.end()) return core::invalid(fmt::format("container {:?}: volume {:?} was not materialised", c.name, m.volume));
    auto inImage = resolveInImage(c.rootfs, m.mountPath);
    if (!inImage) return core::invalid(fmt::format("container {:?}: {}", c.name, inImage.error().message));
    const std::string target = root + *inImage;
    script += fmt::format("mkdir -p {0}\nmount --bind {1} {0}\n", shellQuote(target), shellQuote(it->second));
    if (m.readOnly) script += fmt::format("mount -o remount,bind,ro {}\n", shellQuote(target));
  }
  if (!env.hostsFile.empty()) script += fmt::format("touch \"$R/etc/hosts\"\nmount --bind {} \"$R/etc/hosts\"\n", shellQuote(env.hostsFile));
  if (!env.resolvFile.empty()) {
    script += fmt::format("rm -f \"$R/etc/resolv.conf\"\ntouch \"$R/etc/resolv.conf\"\nmount --bind {} \"$R/etc/resolv.conf\"\n",
                          shellQuote(env.resolvFile));
  }
  script += fmt::format("hostname {}\n", shellQuote(plan.hostname));
  // The rest is sandbox-enter's (container_enter.cpp): pivot_root into the image, the security
  // context, the working directory, then exec with exactly the container's environment:
  // env -i VAR=… sandbox-enter --root R [options] -- PROGRAM ARGS…
  script += "exec env -i \"$@\"\n";
  std::vector<std::string> args = {"ip", "netns", "exec", env.netns, "unshare", "--mount", "--uts", "--propagation", "private",
                                    "--", "/bin/sh", "-c", script, "container-setup"};
  for (auto& e : containerEnv(plan, c)) args.push_back(std::move(e));
  for (auto& a : enterArgs(env.enterProgram, root, c)) args.push_back(std::move(a));
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
