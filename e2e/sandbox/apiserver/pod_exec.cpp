// GET /api/v1/namespaces/{ns}/pods/{name}/exec — `kubectl exec` and `kubectl cp`. A real API
// server hands the upgraded connection to the pod's kubelet; the sandbox's pods run on this
// machine and the kubelet writes each container's pid to <node-dir>/pods/<uid>/<container>.pid
// (the --pod-logs-dir that `kubectl logs` uses), so the server enters the container itself:
// nsenter into its mount, UTS and network namespaces, its working directory, user and group,
// with exactly its environment — what `sandbox exec` does.
//
// Protocol: WebSocket with `v5.channel.k8s.io` or `v4.channel.k8s.io` (kubectl ≥ 1.30 by
// default), or SPDY/3.1 with v4…v2 (older kubectl; exec_session.h). The connection is taken over
// from httplib through the request's TLS session: the 101 answer and everything after it are
// written here, and the connection is shut when the command ends.
#include <fcntl.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <sstream>

#include "common/core/file.h"
#include "e2e/sandbox/apiserver/exec_session.h"
#include "e2e/sandbox/apiserver/server_impl.h"
#include "e2e/sandbox/apiserver/upgrade.h"
#include "e2e/sandbox/apiserver/websocket.h"

namespace mysqlop::sandbox {

namespace fs = std::filesystem;

namespace {

// "Uid:\t0\t0\t0\t0" → the effective id.
std::string idFromStatus(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream f(line.substr(key.size() + 1));
    std::string real, effective;
    f >> real >> effective;
    return effective;
  }
  return "";
}

}  // namespace

ApiResult<Reply> ApiServer::Impl::podExec(Call& c) {
  auto target = podContainer(c);
  if (!target) return target.error();
  const std::string& container = target->container;
  std::vector<std::string> command;
  for (size_t i = 0; i < c.req.get_param_value_count("command"); ++i) command.push_back(c.req.get_param_value("command", i));
  if (command.empty()) return errors::badRequest("you must specify at least 1 command");
  ExecOptions o{.command = command, .stdin = c.flag("stdin"), .stdout = c.flag("stdout"), .stderr = c.flag("stderr"), .tty = c.flag("tty")};
  if (o.tty && o.stderr) return errors::badRequest("tty and stderr cannot both be true");
  if (!o.stdin && !o.stdout && !o.stderr) return errors::badRequest("you must specify at least 1 of stdin, stdout, stderr");

  if (opts.podLogsDir.empty()) {
    return errors::badRequest("exec is not available: the sandbox API server runs without --pod-logs-dir");
  }
  const pid_t pid = runningPid(target->uid, container);
  if (pid == 0) {
    return errors::badRequest(fmt::format("unable to upgrade connection: container not found (\"{}\")", container));
  }

  // The protocol: WebSocket (kubectl ≥ 1.30) or SPDY/3.1 (older kubectl, and newer ones when
  // WebSocket is off), each with the channel protocol version both sides speak.
  const bool spdyUpgrade = headerHas(c.req, "Upgrade", "spdy/3.1") && headerHas(c.req, "Connection", "upgrade");
  const bool websocketUpgrade = headerHas(c.req, "Upgrade", "websocket") && headerHas(c.req, "Connection", "upgrade");
  if (!websocketUpgrade && !spdyUpgrade) return errors::badRequest("Upgrade request required");
  std::string protocol, key;
  if (websocketUpgrade) {
    protocol = websocket::chooseProtocol(c.req.get_header_value("Sec-WebSocket-Protocol"), {"v5.channel.k8s.io", "v4.channel.k8s.io"});
    if (protocol.empty()) {
      return errors::badRequest("no supported WebSocket subprotocol: the sandbox speaks v5.channel.k8s.io and v4.channel.k8s.io");
    }
    key = c.req.get_header_value("Sec-WebSocket-Key");
    if (key.empty() || c.req.get_header_value("Sec-WebSocket-Version") != "13") {
      return errors::badRequest("a WebSocket upgrade needs Sec-WebSocket-Key and Sec-WebSocket-Version 13");
    }
  } else {
    std::string offered;
    for (size_t i = 0; i < c.req.get_header_value_count("X-Stream-Protocol-Version"); ++i) {
      if (!offered.empty()) offered += ',';
      offered += c.req.get_header_value("X-Stream-Protocol-Version", i);
    }
    protocol = websocket::chooseProtocol(offered, {"v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io"});
    if (protocol.empty()) {
      return errors::badRequest("no supported stream protocol: the sandbox speaks v4, v3 and v2.channel.k8s.io over SPDY");
    }
  }
  o.version = protocol[1] - '0';
  SSL* ssl = const_cast<SSL*>(c.req.ssl);
  if (!ssl) return errors::badRequest("exec needs the API server's HTTPS port");

  // Into the container: its namespaces, directory, user and group, and environment.
  const fs::path proc = fs::path("/proc") / std::to_string(pid);
  const std::string status = core::readFile((proc / "status").string()).valueOr("");
  o.argv = {"/usr/bin/nsenter", "--target", std::to_string(pid), "--mount", "--uts", "--net", "--wd"};
  const std::string userId = idFromStatus(status, "Uid"), groupId = idFromStatus(status, "Gid");
  if (!userId.empty() && userId != "0") {
    o.argv.insert(o.argv.end(), {"--setgid", groupId, "--setuid", userId});
  }
  o.argv.insert(o.argv.end(), {"--", "/usr/bin/env", "-i"});
  const std::string environ = core::readFile((proc / "environ").string()).valueOr("");
  for (size_t at = 0; at < environ.size();) {
    size_t end = environ.find('\0', at);
    if (end == std::string::npos) end = environ.size();
    if (end > at) o.argv.push_back(environ.substr(at, end - at));
    at = end + 1;
  }
  o.argv.insert(o.argv.end(), command.begin(), command.end());

  Transport t = tlsTransport(ssl);
  const std::string head =
      websocketUpgrade ? fmt::format("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {}\r\n\r\n",
                                     websocket::acceptKey(key), protocol)
                       : fmt::format("HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n"
                                     "X-Stream-Protocol-Version: {}\r\n\r\n",
                                     protocol);
  c.streamed = true;
  if (t.writeAll(head)) {
    if (websocketUpgrade) {
      runExecSession(t, o);
    } else {
      runSpdyExecSession(t, o);
    }
  }
  // The connection was ours: end it, so that httplib's own answer goes nowhere.
  SSL_shutdown(ssl);
  ::shutdown(t.fd, SHUT_RDWR);
  return Reply{};
}

}  // namespace mysqlop::sandbox
