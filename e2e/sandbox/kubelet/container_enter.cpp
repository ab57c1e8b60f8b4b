// sandbox-enter: the last step of starting a container on the sandbox node, what a runtime's
// init does once the mounts are made (container_runner.cpp prepares them in the container's
// mount namespace): make the image's root filesystem the root (pivot_root, the machine's root
// detached), apply the security context — read-only root, the user (a name is looked up in the
// image's /etc/passwd), no supplementary groups, capabilities dropped, no_new_privs — go to the
// working directory (made if missing) and exec the program with exactly this process's
// environment, looked up on its PATH inside the image.
//
//   env -i PATH=… VAR=… sandbox-enter --root DIR [--wd DIR] [--uid N] [--gid N] [--user NAME[:GROUP]]
//                                      [--ro-root] [--drop-caps] [--no-new-privs] -- PROGRAM ARGS…
//
// Errors are worded as runc's (the kubelet shows them as the container's log) and exit 127 for a
// program that is not there, 126 for one that cannot run, 1 for the rest.
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what, int code = 1) {
  std::fprintf(stderr, "sandbox-enter: %s\n", what.c_str());
  std::exit(code);
}

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// "name:x:uid:gid:…" in the image's /etc/passwd.
std::optional<std::pair<long, long>> lookupUser(const std::string& name) {
  std::ifstream in("/etc/passwd");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, ':')) f.push_back(part);
    if (f.size() >= 4 && f[0] == name) return std::make_pair(std::atol(f[2].c_str()), std::atol(f[3].c_str()));
  }
  return std::nullopt;
}

std::optional<long> lookupGroup(const std::string& name) {
  std::ifstream in("/etc/group");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (line.substr(0, colon) != name) continue;
    std::stringstream ss(line);
    std::string part;
    std::vector<std::string> f;
    while (std::getline(ss, part, ':')) f.push_back(part);
    if (f.size() >= 3) return std::atol(f[2].c_str());
  }
  return std::nullopt;
}

void makeDirs(const std::string& path) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) fail(errnoText("cannot make the working directory " + path));
  }
}

void dropCapabilities() {
  long last = 40;
  if (std::ifstream in("/proc/sys/kernel/cap_last_cap"); in) in >> last;
  for (long cap = 0; cap <= last; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail(errnoText("cannot drop a capability"));
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) fail(errnoText("capget"));
  data[0].inheritable = data[1].inheritable = 0;
  if (syscall(SYS_capset, &header, data) != 0) fail(errnoText("capset"));
}

}  // namespace

int main(int argc, char** argv) {
  std::string root, wd = "/", user;
  std::optional<long> uid, gid;
  bool roRoot = false, dropCaps = false, noNewPrivs = false;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--root") root = value();
    else if (a == "--wd") wd = value();
    else if (a == "--uid") uid = std::atol(value().c_str());
    else if (a == "--gid") gid = std::atol(value().c_str());
    else if (a == "--user") user = value();
    else if (a == "--ro-root") roRoot = true;
    else if (a == "--drop-caps") dropCaps = true;
    else if (a == "--no-new-privs") noNewPrivs = true;
    else fail("unknown argument " + a);
  }
  if (root.empty() || i >= argc) fail("usage: sandbox-enter --root DIR [options] -- PROGRAM ARGS...");
  if (wd.empty()) wd = "/";

  // The image's root becomes "/", the machine's is detached (pivot_root(".", "."), then the old
  // root, stacked on top, is unmounted lazily).
  if (chdir(root.c_str()) != 0) fail(errnoText("cannot enter the root filesystem " + root));
  if (syscall(SYS_pivot_root, ".", ".") != 0) fail(errnoText("pivot_root"));
  if (umount2(".", MNT_DETACH) != 0) fail(errnoText("cannot detach the machine's root"));
  if (chdir("/") != 0) fail(errnoText("chdir /"));
  if (roRoot && mount("", "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
    fail(errnoText("cannot make the root filesystem read-only"));
  }

  // The image's "user[:group]" by name, looked up in the image (numeric ones come as --uid/--gid).
  if (!user.empty()) {
    const auto colon = user.find(':');
    const std::string name = user.substr(0, colon);
    if (!uid) {
      auto found = lookupUser(name);
      if (!found) fail("unable to find user " + name + ": no matching entries in passwd file");
      uid = found->first;
      if (!gid) gid = found->second;
    }
    if (colon != std::string::npos && !gid) {
      const std::string group = user.substr(colon + 1);
      gid = group.find_first_not_of("0123456789") == std::string::npos && !group.empty() ? std::optional<long>(std::atol(group.c_str()))
                                                                                         : lookupGroup(group);
      if (!gid) fail("unable to find group " + group + ": no matching entries in group file");
    }
  }

  makeDirs(wd);
  if (chdir(wd.c_str()) != 0) fail(errnoText("chdir to cwd (\"" + wd + "\") set in config.json failed"));
  if (setgroups(0, nullptr) != 0) fail(errnoText("setgroups"));
  if (dropCaps) dropCapabilities();
  if (gid && setgid(static_cast<gid_t>(*gid)) != 0) fail(errnoText("setgid"));
  if (uid && setuid(static_cast<uid_t>(*uid)) != 0) fail(errnoText("setuid"));
  if (noNewPrivs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(errnoText("no_new_privs"));

  execvp(argv[i], argv + i);
  const int err = errno;
  if (err == ENOENT) {
    fail(std::string("exec: \"") + argv[i] + "\": " +
             (std::strchr(argv[i], '/') ? "stat " + std::string(argv[i]) + ": no such file or directory"
                                        : "executable file not found in $PATH"),
         127);
  }
  fail(std::string("exec ") + argv[i] + ": " + std::strerror(err), 126);
}
