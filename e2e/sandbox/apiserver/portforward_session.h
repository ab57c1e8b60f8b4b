#pragma once
// `kubectl port-forward` on an upgraded connection: SPDY/3.1 with `portforward.k8s.io` (over
// TLS directly, or tunnelled in WebSocket binary messages as kubectl ≥ 1.31 does it first). For
// each local connection kubectl opens two streams with the same `requestid` and `port`
// headers — `streamtype: error` and `streamtype: data`; the server connects to that port in the
// pod and copies bytes both ways on the data stream (a FIN half-closes, the pod's end of stream is
// a FIN back); a connection that fails is reported as text on the error stream. Many connections
// share the session; it ends when the client leaves.
//
//   runPortForwardSession(t, [&](int port) { return connectInPod(pid, port); });

#include <functional>

#include "common/core/result.h"
#include "e2e/sandbox/apiserver/exec_session.h"

namespace mysqlop::sandbox {

// Opens a connected TCP socket to the pod's port (owned by the caller of the session afterwards).
using PortConnector = std::function<core::Result<int>(int port)>;

void runPortForwardSession(Transport& t, const PortConnector& connect);

// A connected socket to 127.0.0.1:port in the network namespace of process `pid` (the pod's):
// this thread enters that namespace for the socket() and connect(), then returns to its own.
core::Result<int> connectInNetns(pid_t pid, int port);

}  // namespace mysqlop::sandbox
