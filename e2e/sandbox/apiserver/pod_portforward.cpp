// /api/v1/namespaces/{ns}/pods/{name}/portforward — `kubectl port-forward`. A real API server
// hands the connection to the pod's kubelet; here, as for exec (pod_exec.cpp), the server finds
// the pod's processes under --pod-logs-dir and connects to the asked port from inside the pod's
// network namespace (127.0.0.1:<port> there, as the container runtimes do).
//
// Protocols: SPDY/3.1 with `portforward.k8s.io` (POST, kubectl before 1.31 and the fallback of
// later ones), or the same SPDY tunnelled in WebSocket binary messages
// (`SPDY/3.1+portforward.k8s.io`, GET, what kubectl 1.31 and later try first). RBAC: create on
// pods/portforward.
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "e2e/sandbox/apiserver/portforward_session.h"
#include "e2e/sandbox/apiserver/server_impl.h"
#include "e2e/sandbox/apiserver/upgrade.h"
#include "e2e/sandbox/apiserver/websocket.h"

namespace mysqlop::sandbox {

ApiResult<Reply> ApiServer::Impl::podPortForward(Call& c) {
  const std::string& name = c.info.name;
  auto found = namedPod(c);
  if (!found) return found.error();
  const ObjPtr& pod = *found;
  if (opts.podLogsDir.empty()) {
    return errors::badRequest("port-forward is not available: the sandbox API server runs without --pod-logs-dir");
  }
  // Any of the pod's running containers: they share its network namespace.
  const std::string uid = pod->at("metadata").value("uid", "");
  pid_t pid = 0;
  for (const auto& ct : pod->value("spec", Json::object()).value("containers", Json::array())) {
    if ((pid = runningPid(uid, ct.value("name", ""))) != 0) break;
  }
  if (pid <= 0) return errors::badRequest(fmt::format("unable to upgrade connection: pod {} has no running container", name));

  const bool upgrade = headerHas(c.req, "Connection", "upgrade");
  const bool spdyUpgrade = upgrade && headerHas(c.req, "Upgrade", "spdy/3.1");
  const bool websocketUpgrade = upgrade && headerHas(c.req, "Upgrade", "websocket");
  if (!spdyUpgrade && !websocketUpgrade) return errors::badRequest("Upgrade request required");
  std::string head;
  if (spdyUpgrade) {
    bool offered = false;
    for (size_t i = 0; i < c.req.get_header_value_count("X-Stream-Protocol-Version"); ++i) {
      offered = offered || c.req.get_header_value("X-Stream-Protocol-Version", i) == "portforward.k8s.io";
    }
    if (!offered) return errors::badRequest("no supported stream protocol: the sandbox speaks portforward.k8s.io");
    head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n"
           "X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n";
  } else {
    const std::string protocol =
        websocket::chooseProtocol(c.req.get_header_value("Sec-WebSocket-Protocol"), {"SPDY/3.1+portforward.k8s.io"});
    // Another WebSocket protocol (v4.channel.k8s.io's port-forward) is not spoken: kubectl then
    // falls back to SPDY.
    if (protocol.empty()) return errors::badRequest("no supported WebSocket subprotocol: the sandbox speaks SPDY/3.1+portforward.k8s.io");
    const std::string key = c.req.get_header_value("Sec-WebSocket-Key");
    if (key.empty()) return errors::badRequest("a WebSocket upgrade needs Sec-WebSocket-Key");
    head = fmt::format("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {}\r\n\r\n",
                       websocket::acceptKey(key), protocol);
  }
  SSL* ssl = const_cast<SSL*>(c.req.ssl);
  if (!ssl) return errors::badRequest("port-forward needs the API server's HTTPS port");

  Transport t = tlsTransport(ssl);
  c.streamed = true;
  if (t.writeAll(head)) {
    auto connect = [pid](int port) { return connectInNetns(pid, port); };
    if (spdyUpgrade) {
      runPortForwardSession(t, connect);
    } else {
      Transport tunnel = websocketTunnel(t);
      runPortForwardSession(tunnel, connect);
      t.writeAll(websocket::encodeFrame(websocket::Opcode::kClose, websocket::closePayload(1000, "")));
    }
  }
  SSL_shutdown(ssl);
  ::shutdown(t.fd, SHUT_RDWR);
  return Reply{};
}

}  // namespace mysqlop::sandbox
