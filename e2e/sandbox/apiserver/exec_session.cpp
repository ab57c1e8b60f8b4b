#include "e2e/sandbox/apiserver/exec_session.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <map>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "e2e/sandbox/apiserver/spdy.h"
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

namespace {

// The command's side while it runs: its input, output and terminal.
struct Process {
  Child c;
  void writeStdin(std::string_view data) {
    while (c.in >= 0 && !data.empty()) {
      const ssize_t w = ::write(c.in, data.data(), data.size());
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        closeFd(c.in);  // the command closed its stdin
        break;
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
  }
  void closeStdin() {
    if (c.tty && c.in >= 0) {
      const char eot = 4;  // a terminal's end of input
      [[maybe_unused]] auto w = ::write(c.in, &eot, 1);
    }
    closeFd(c.in);
  }
  // A terminal size as kubectl sends it: {"Width":…,"Height":…}.
  void resize(std::string_view json) {
    if (!c.tty || c.out < 0) return;
    auto size = nlohmann::json::parse(json, nullptr, false);
    if (!size.is_object()) return;
    struct winsize ws{};
    ws.ws_col = static_cast<unsigned short>(size.value("Width", 80));
    ws.ws_row = static_cast<unsigned short>(size.value("Height", 24));
    ::ioctl(c.out, TIOCSWINSZ, &ws);
  }
};

struct PumpResult {
  int exitCode = -1;
  bool clientGone = false;
};

// Moves bytes until the command exited and its output is drained (or left with a descendant for
// 1 s), or the client is gone: the client's bytes go to `onClient` (false: the client is done),
// the command's output to `output(1|2, bytes)` (false: the client is gone).
PumpResult pump(Transport& t, Process& p, const std::function<bool(std::string_view)>& onClient,
                const std::function<bool(char, std::string_view)>& output) {
  Child& c = p.c;
  bool clientGone = false, exited = false;
  int status = 0;
  std::optional<Clock::time_point> exitedAt;
  char buf[32 * 1024];
  while (!clientGone) {
    if (!exited && ::waitpid(c.pid, &status, WNOHANG) == c.pid) {
      exited = true;
      exitedAt = Clock::now();
    }
    if (exited && ((c.out < 0 && c.err < 0) || Clock::now() - *exitedAt > std::chrono::seconds(1))) break;
    pollfd fds[3];
    int n = 0;
    fds[n++] = {t.fd, POLLIN, 0};
    const int outAt = c.out >= 0 ? n : -1;
    if (c.out >= 0) fds[n++] = {c.out, POLLIN, 0};
    const int errAt = c.err >= 0 ? n : -1;
    if (c.err >= 0) fds[n++] = {c.err, POLLIN, 0};
    if (::poll(fds, static_cast<nfds_t>(n), t.pending() > 0 ? 0 : 100) < 0 && errno != EINTR) break;
    if (t.pending() > 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t got = t.read(buf, sizeof buf);
      if (got > 0) {
        clientGone = !onClient(std::string_view(buf, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        clientGone = true;
      }
    }
    for (auto [at, fd, channel] : {std::tuple{outAt, &c.out, kStdout}, std::tuple{errAt, &c.err, kStderr}}) {
      if (clientGone || at < 0 || !(fds[at].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = ::read(*fd, buf, sizeof buf);
      if (got > 0) {
        if (!output(channel, std::string_view(buf, static_cast<size_t>(got)))) clientGone = true;
      } else if (got == 0 || errno != EINTR) {
        // EOF (a terminal's master reads EIO once the last writer is gone).
        if (c.tty) {
          closeFd(c.in);
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
  return {exitCodeOf(status), clientGone};
}

// After the last word: reads what the client still sends, for up to 2 s, until it leaves or
// `done(bytes)` says it has said goodbye.
void linger(Transport& t, const std::function<bool(std::string_view)>& done) {
  char buf[4096];
  const auto until = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < until) {
    pollfd pf{t.fd, POLLIN, 0};
    if (t.pending() == 0 && ::poll(&pf, 1, 100) <= 0) continue;
    const ssize_t got = t.read(buf, sizeof buf);
    if (got <= 0 || done(std::string_view(buf, static_cast<size_t>(got)))) break;
  }
}

std::string failureStatus(const std::string& message) {
  return nlohmann::json{{"metadata", nlohmann::json::object()}, {"status", "Failure"}, {"message", message},
                        {"reason", "InternalError"}}
      .dump();
}

}  // namespace

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
    send(kError, failureStatus(child.error().message));
    closeWith(1011, "exec failed");
    return -1;
  }
  Process p{*child};
  websocket::FrameReader reader;
  auto onClient = [&](std::string_view bytes) {
    reader.feed(bytes);
    while (auto m = reader.next()) {
      if (m->opcode == Opcode::kClose) {
        closeWith(1000, "");
        return false;
      }
      if (m->opcode == Opcode::kPing) {
        t.writeAll(websocket::encodeFrame(Opcode::kPong, m->payload));
        continue;
      }
      if (m->opcode == Opcode::kPong || m->payload.empty()) continue;
      const auto channel = static_cast<unsigned char>(m->payload[0]);
      std::string_view data(m->payload);
      data.remove_prefix(1);
      if (channel == kStdin) {
        p.writeStdin(data);
      } else if (channel == kResize) {
        p.resize(data);
      } else if (channel == kClose && o.version >= 5 && !data.empty() && data[0] == kStdin) {
        p.closeStdin();
      }
    }
    if (reader.failed()) {
      closeWith(1002, *reader.failed());
      return false;
    }
    return true;
  };
  const PumpResult r = pump(t, p, onClient, send);
  if (!r.clientGone) {
    send(kError, exitStatus(o.command.empty() ? o.argv : o.command, r.exitCode));
    closeWith(1000, "");
    // The client answers with its own close frame; wait for it a moment (kubectl reads the
    // Status before the connection ends).
    linger(t, [&](std::string_view bytes) {
      reader.feed(bytes);
      bool closed = false;
      while (auto m = reader.next()) closed = closed || m->opcode == Opcode::kClose;
      return closed || reader.failed();
    });
  }
  return r.exitCode;
}

int runSpdyExecSession(Transport& t, const ExecOptions& o) {
  spdy::Framer framer;
  std::map<std::string, uint32_t> streams;  // streamtype → the client's stream id
  bool failed = false;
  // A frame the session always answers the same way; false when the client is gone or broke the protocol.
  auto common = [&](const spdy::Frame& f) {
    if (f.type == spdy::Type::kPing) return t.writeAll(spdy::Framer::ping(f.value));
    if (f.type == spdy::Type::kGoAway) return false;
    return true;
  };
  // Every stream the options call for, each accepted as it comes.
  std::vector<std::string> wanted = {"error"};
  if (o.stdin) wanted.push_back("stdin");
  if (o.stdout) wanted.push_back("stdout");
  if (o.stderr) wanted.push_back("stderr");
  if (o.tty) wanted.push_back("resize");
  auto haveAll = [&] {
    return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& w) { return streams.count(w) > 0; });
  };
  std::vector<spdy::Frame> early;  // data that came with the streams, before the command started
  char buf[32 * 1024];
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (!haveAll() && !failed) {
    if (Clock::now() > deadline) return -1;
    pollfd pf{t.fd, POLLIN, 0};
    if (t.pending() == 0 && ::poll(&pf, 1, 100) <= 0) continue;
    const ssize_t got = t.read(buf, sizeof buf);
    if (got <= 0) {
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      return -1;
    }
    framer.feed(std::string_view(buf, static_cast<size_t>(got)));
    while (auto f = framer.next()) {
      if (f->type == spdy::Type::kSynStream) {
        const auto type = f->headers.count("streamtype") ? f->headers.at("streamtype") : std::string();
        streams[type] = f->streamId;
        if (!t.writeAll(framer.synReply(f->streamId))) return -1;
      } else if (f->type == spdy::Type::kData) {
        early.push_back(std::move(*f));
      } else if (!common(*f)) {
        return -1;
      }
    }
    failed = framer.failed().has_value();
  }
  if (failed) return -1;
  auto id = [&](const char* type) { return streams.count(type) ? streams.at(type) : 0u; };
  auto writeStatus = [&](const std::string& json) {
    const bool v4 = o.version >= 4;
    nlohmann::json st = nlohmann::json::parse(json, nullptr, false);
    // Before v4 only a failure is written, as its message.
    const std::string body = v4 ? json : (st.value("status", "") == "Success" ? "" : st.value("message", json));
    t.writeAll(spdy::Framer::data(id("error"), body, true));
  };
  auto child = spawn(o);
  if (!child) {
    writeStatus(failureStatus(child.error().message));
    t.writeAll(spdy::Framer::goAway(0));
    return -1;
  }
  Process p{*child};
  std::string resizeLine;
  auto onFrame = [&](const spdy::Frame& f) {
    if (f.type == spdy::Type::kData) {
      if (f.streamId == id("stdin")) {
        p.writeStdin(f.data);
        if (f.fin()) p.closeStdin();
      } else if (f.streamId == id("resize")) {
        resizeLine += f.data;
        for (size_t nl; (nl = resizeLine.find('\n')) != std::string::npos; resizeLine.erase(0, nl + 1)) {
          p.resize(std::string_view(resizeLine).substr(0, nl));
        }
      }
      return true;
    }
    if (f.type == spdy::Type::kRstStream && f.streamId == id("error")) return false;
    return common(f);
  };
  for (const auto& f : early) onFrame(f);
  auto onClient = [&](std::string_view bytes) {
    framer.feed(bytes);
    while (auto f = framer.next()) {
      if (!onFrame(*f)) return false;
    }
    return !framer.failed();
  };
  auto output = [&](char channel, std::string_view data) {
    const uint32_t sid = channel == kStdout ? id("stdout") : id("stderr");
    return sid == 0 || t.writeAll(spdy::Framer::data(sid, data, false));
  };
  const PumpResult r = pump(t, p, onClient, output);
  if (!r.clientGone) {
    for (const char* s : {"stdout", "stderr"}) {
      if (id(s) != 0) t.writeAll(spdy::Framer::data(id(s), "", true));
    }
    writeStatus(exitStatus(o.command.empty() ? o.argv : o.command, r.exitCode));
    // The client reads the error stream to its end, then closes the connection; give it a moment.
    linger(t, [](std::string_view) { return false; });
  }
  return r.exitCode;
}

}  // namespace mysqlop::sandbox
