#include "e2e/sandbox/apiserver/exec_session.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "e2e/sandbox/apiserver/websocket.h"

namespace mysqlop::sandbox {
namespace {

using websocket::Opcode;
using Clock = std::chrono::steady_clock;

constexpr char kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4;
constexpr unsigned char kClose = 255;

struct Child {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;  // ours: write to `in`, read `out` and `err` (a TTY: all the master)
  bool tty = false;
};

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// fork + exec with the pipes or the pseudo-terminal in place. Everything the child does between
// fork and exec is async-signal-safe (this process has threads).
core::Result<Child> spawn(const ExecOptions& o) {
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  Child c;
  c.tty = o.tty;
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int master = -1, slave = -1;
  if (o.tty) {
    struct winsize ws{};
    ws.ws_row = 24;
    ws.ws_col = 80;
    if (openpty(&master, &slave, nullptr, nullptr, &ws) != 0) return core::internal(std::string("openpty: ") + std::strerror(errno));
  } else if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) if (fd >= 0) ::close(fd);
    return core::internal(std::string("pipe: ") + std::strerror(errno));
  }
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid < 0) return core::internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    ::setsid();
    if (o.tty) {
      ::ioctl(slave, TIOCSCTTY, 0);
      ::dup2(o.stdin ? slave : devnull, 0);
      ::dup2(slave, 1);
      ::dup2(slave, 2);
    } else {
      ::dup2(o.stdin ? in[0] : devnull, 0);
      ::dup2(o.stdout ? out[1] : devnull, 1);
      ::dup2(o.stderr ? err[1] : devnull, 2);
    }
    ::execv(argv[0], argv.data());
    static const char msg[] = "exec: cannot run the command\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  if (devnull >= 0) ::close(devnull);
  c.pid = pid;
  if (o.tty) {
    ::close(slave);
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    c.out = master;
    c.in = o.stdin ? ::dup(master) : -1;
  } else {
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    c.in = in[1];
    c.out = out[0];
    c.err = err[0];
    if (!o.stdin) closeFd(c.in);
    if (!o.stdout) closeFd(c.out);
    if (!o.stderr) closeFd(c.err);
  }
  return c;
}

int exitCodeOf(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

std::string exitStatus(const std::vector<std::string>& shownCommand, int exitCode) {
  if (exitCode == 0) return nlohmann::json{{"metadata", nlohmann::json::object()}, {"status", "Success"}}.dump();
  std::string cmd;
  for (const auto& a : shownCommand) cmd += (cmd.empty() ? "" : " ") + a;
  return nlohmann::json{{"metadata", nlohmann::json::object()},
                        {"status", "Failure"},
                        {"message", "command terminated with non-zero exit code: error executing command [" + cmd +
                                        "], exit code " + std::to_string(exitCode)},
                        {"reason", "NonZeroExitCode"},
                        {"details", {{"causes", nlohmann::json::array({{{"reason", "ExitCode"}, {"message", std::to_string(exitCode)}}})}}}}
      .dump();
}

int runExecSession(Transport& t, const ExecOptions& o) {
  auto send = [&](char channel, std::string_view data) {
    std::string payload(1, channel);
    payload.append(data);
    return t.writeAll(websocket::encodeFrame(Opcode::kBinary, payload));
  };
  auto closeWith = [&](uint16_t code, std::string_view why) {
    t.writeAll(websocket::encodeFrame(Opcode::kClose, websocket::closePayload(code, why)));
  };
  auto child = spawn(o);
  if (!child) {
    send(kError, nlohmann::json{{"metadata", nlohmann::json::object()}, {"status", "Failure"},
                                {"message", child.error().message}, {"reason", "InternalError"}}.dump());
    closeWith(1011, "exec failed");
    return -1;
  }
  Child& c = *child;
  websocket::FrameReader reader;
  bool clientGone = false, exited = false;
  int status = 0;
  std::optional<Clock::time_point> exitedAt;
  char buf[32 * 1024];

  while (true) {
    if (!exited) {
      const pid_t w = ::waitpid(c.pid, &status, WNOHANG);
      if (w == c.pid) {
        exited = true;
        exitedAt = Clock::now();
      }
    }
    // Done: the command exited and its output is drained (or left with a descendant for 1 s).
    const bool drained = c.out < 0 && c.err < 0;
    if (exited && (drained || Clock::now() - *exitedAt > std::chrono::seconds(1))) break;
    if (clientGone) break;

    pollfd fds[3];
    int n = 0;
    fds[n++] = {t.fd, POLLIN, 0};
    const int outAt = c.out >= 0 ? n : -1;
    if (c.out >= 0) fds[n++] = {c.out, POLLIN, 0};
    const int errAt = c.err >= 0 ? n : -1;
    if (c.err >= 0) fds[n++] = {c.err, POLLIN, 0};
    const int timeout = t.pending() > 0 ? 0 : 100;
    if (::poll(fds, static_cast<nfds_t>(n), timeout) < 0 && errno != EINTR) break;

    if (t.pending() > 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t got = t.read(buf, sizeof buf);
      if (got <= 0) {
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) clientGone = true;
      } else {
        reader.feed(std::string_view(buf, static_cast<size_t>(got)));
      }
      while (auto m = reader.next()) {
        if (m->opcode == Opcode::kClose) {
          closeWith(1000, "");
          clientGone = true;
          break;
        }
        if (m->opcode == Opcode::kPing) {
          t.writeAll(websocket::encodeFrame(Opcode::kPong, m->payload));
          continue;
        }
        if (m->opcode == Opcode::kPong || m->payload.empty()) continue;
        const auto channel = static_cast<unsigned char>(m->payload[0]);
        std::string_view data(m->payload);
        data.remove_prefix(1);
        if (channel == kStdin && c.in >= 0) {
          while (!data.empty()) {
            const ssize_t w = ::write(c.in, data.data(), data.size());
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
              closeFd(c.in);  // the command closed its stdin
              break;
            }
            data.remove_prefix(static_cast<size_t>(w));
          }
        } else if (channel == kResize && c.tty) {
          auto size = nlohmann::json::parse(data, nullptr, false);
          if (size.is_object()) {
            struct winsize ws{};
            ws.ws_col = static_cast<unsigned short>(size.value("Width", 80));
            ws.ws_row = static_cast<unsigned short>(size.value("Height", 24));
            ::ioctl(c.out, TIOCSWINSZ, &ws);
          }
        } else if (channel == kClose && o.version >= 5 && !data.empty() && data[0] == kStdin) {
          if (c.tty && c.in >= 0) {
            const char eot = 4;  // a terminal's end of input
            [[maybe_unused]] auto w = ::write(c.in, &eot, 1);
          }
          closeFd(c.in);
        }
      }
      if (reader.failed()) {
        closeWith(1002, *reader.failed());
        clientGone = true;
      }
    }
    for (auto [at, fd, channel] : {std::tuple{outAt, &c.out, kStdout}, std::tuple{errAt, &c.err, kStderr}}) {
      if (at < 0 || !(fds[at].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = ::read(*fd, buf, sizeof buf);
      if (got > 0) {
        if (!send(channel, std::string_view(buf, static_cast<size_t>(got)))) clientGone = true;
      } else if (got == 0 || errno != EINTR) {
        // EOF (a terminal's master reads EIO once the last writer is gone).
        if (c.tty && *fd == c.out) closeFd(c.in);
        if (c.tty) {
          closeFd(c.out);
        } else {
          closeFd(*fd);
        }
      }
    }
  }

  if (!exited) {
    // The client left first: the command and whatever it started go.
    ::kill(-c.pid, SIGKILL);
    ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, &status, 0);
  }
  for (int* fd : {&c.in, &c.out, &c.err}) closeFd(*fd);
  const int code = exitCodeOf(status);
  if (!clientGone) {
    send(kError, exitStatus(o.command.empty() ? o.argv : o.command, code));
    closeWith(1000, "");
    // The client answers with its own close frame; wait for it a moment (kubectl reads the
    // Status before the connection ends).
    const auto until = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < until) {
      pollfd p{t.fd, POLLIN, 0};
      if (t.pending() == 0 && ::poll(&p, 1, 100) <= 0) continue;
      const ssize_t got = t.read(buf, sizeof buf);
      if (got <= 0) break;
      reader.feed(std::string_view(buf, static_cast<size_t>(got)));
      bool closed = false;
      while (auto m = reader.next()) closed = closed || m->opcode == Opcode::kClose;
      if (closed || reader.failed()) break;
    }
  }
  return code;
}

}  // namespace mysqlop::sandbox
