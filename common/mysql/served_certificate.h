#pragma once
// What a MySQL (or MariaDB) server presents to a TLS client right now: the certificate of a fresh
// handshake, read the way `openssl s_client -starttls mysql` reads it — the server's greeting,
// the protocol's SSLRequest, a TLS handshake, the peer certificate, then the connection is
// closed before any authentication. The community operator compares it with the certificate in
// the server's Secret to know whether a renewal has reached the running server (issue 15).
// Also what to ask a server to reload its TLS material with, by its version.
// Blocking (bounded by the timeout); any thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace mysqlop::dbclient {

// The leaf certificate the server at host:port presents, as PEM. Unavailable when it cannot be
// reached or does not speak TLS; the message says why in the OS's or the TLS library's words.
core::Result<std::string> fetchServedCertificate(const std::string& host, int port, std::chrono::seconds timeout);
// The same for a port that speaks TLS from its first byte, such as Group Replication's group
// communication port (33061), read the way `openssl s_client -connect host:33061` reads it: the
// server's certificate, whether or not it then asks for one of the client's.
core::Result<std::string> fetchTlsCertificate(const std::string& host, int port, std::chrono::seconds timeout);

// What a server's greeting (the payload of its first packet, protocol 10) says, read without
// trusting it: any bytes, any length, give a Greeting or an error that says why — never a throw,
// never a read past the end. `serverVersion` is kept as sent (not necessarily UTF-8), at most
// 255 bytes. A fuzz target (fuzz/mysql_greeting_fuzz.cpp) runs it on hostile input.
struct Greeting {
  std::string serverVersion;
  uint32_t capabilities = 0;
};
core::Result<Greeting> parseGreeting(std::string_view payload);

// The statement that makes a running server load its certificate, key and CA files again
// without a restart: "FLUSH SSL" for MariaDB ≥ 10.4, "ALTER INSTANCE RELOAD TLS" for MySQL
// ≥ 8.0.16; nullopt for older servers (only a restart brings a new certificate there).
// `serverVersion` is what the server reports ("10.11.6-MariaDB-0+deb12u1", "8.4.3").
std::optional<std::string> tlsReloadStatement(const std::string& serverVersion);

}  // namespace mysqlop::dbclient
