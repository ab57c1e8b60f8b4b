#pragma once
// Taking over an upgraded connection (exec, port-forward): httplib hands a handler the request
// and, on its HTTPS port, the connection's TLS session; after the 101 answer the handler speaks
// the streaming protocol on that session itself (exec_session.h, portforward_session.h).
//
//   if (headerHas(req, "Upgrade", "websocket")) …
//   Transport t = tlsTransport(const_cast<SSL*>(req.ssl));
//   Transport tunnel = websocketTunnel(t);   // SPDY inside WebSocket binary messages (kubectl ≥ 1.31 port-forward)

#include <httplib.h>
#include <openssl/ssl.h>

#include <memory>

#include "e2e/sandbox/apiserver/exec_session.h"

namespace mysqlop::sandbox {

// Whether a header's value holds `token` (lower-case; values compared case-insensitively).
bool headerHas(const httplib::Request& req, const char* name, const char* token);

// The connection through its TLS session, the socket made blocking and without httplib's
// timeouts (an interactive shell or an idle port-forward may sit quiet for long).
Transport tlsTransport(SSL* ssl);

// A byte stream carried in WebSocket binary messages over `inner` (which must outlive it): what
// is read is the messages' payloads, one after another; each write is one message. Pings are
// answered; a close frame ends the stream (read returns 0) after answering it.
Transport websocketTunnel(Transport& inner);

}  // namespace mysqlop::sandbox
