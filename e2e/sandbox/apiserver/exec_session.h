#pragma once
// One `kubectl exec` (or `kubectl cp`, which is exec of tar) over an upgraded connection.
// WebSocket, the Kubernetes channel protocol v4/v5 (`v5.channel.k8s.io`): every message is
// binary, its first byte the channel — 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 a
// terminal resize ({"Width":…,"Height":…}), and in v5 255 [channel] to close one (stdin's end);
// or SPDY/3.1 with one stream per part (runSpdyExecSession). The command runs as a child
// process; with a TTY on a pseudo-terminal (stdout and stderr are one stream then, as with
// kubelet's), otherwise with three pipes. When it exits, the Status carries its exit code the way
// kubectl reads it (reason NonZeroExitCode, cause ExitCode), then the connection ends. A client
// that goes away ends the command (SIGKILL to its process group).
//
//   Transport t = …;    // the upgraded connection, after the 101 response
//   int code = runExecSession(t, {.argv = {...}, .stdin = true, .stdout = true, .tty = false, .version = 5});

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace mysqlop::sandbox {

// The connection the session speaks on: a file descriptor to poll, and reads and writes that
// may go through TLS (pending: bytes already decrypted and waiting, which poll cannot see).
struct Transport {
  int fd = -1;
  std::function<ssize_t(char*, size_t)> read;         // >0 bytes, 0 end of stream, <0 error
  std::function<bool(std::string_view)> writeAll;     // false when the peer is gone
  std::function<size_t()> pending = [] { return size_t{0}; };
};

struct ExecOptions {
  std::vector<std::string> argv;  // argv[0] a path; the environment is argv's business (env -i …)
  std::vector<std::string> command;  // what the user asked to run, for the Status's message
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
  bool tty = false;
  int version = 5;  // 4 or 5: v5 adds the close channel
};

// Runs the command and the protocol until the command exits (or the client leaves, or the
// command cannot start: then the Status says why). Returns the exit code (−1 when it never ran).
int runExecSession(Transport& t, const ExecOptions& o);

// The same over SPDY/3.1 (kubectl before 1.30; spdy.h): the client first opens one stream per
// part — `streamtype` error, and stdin, stdout, stderr, resize as asked — each accepted with a
// SYN_REPLY; stdin's FIN is its end; resize carries JSON sizes one per line; the Status is
// written on the error stream, which then ends (FIN). `version` is the X-Stream-Protocol-Version
// agreed (4: the Status as JSON; below that only a failure's message is written).
int runSpdyExecSession(Transport& t, const ExecOptions& o);

// The Status kubectl expects on channel 3 for an exit code (0: Success).
std::string exitStatus(const std::vector<std::string>& shownCommand, int exitCode);

}  // namespace mysqlop::sandbox
