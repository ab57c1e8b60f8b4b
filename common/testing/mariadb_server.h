#pragma once
// Test-only: a private MariaDB server (Debian's mariadbd) on 127.0.0.1 with TLS from in-memory
// PEMs, started per test in a temporary directory and stopped (SIGTERM, by pid) at the end.
// Needs root (mariadbd runs with --user=root) and the mariadb-server package.

#include <sys/types.h>

#include <string>

#include "common/testing/test_pki.h"

namespace mysqlop::testing {

class MariaDbServer {
 public:
  // `ca` signs the client side; `serving` is the server's certificate.
  MariaDbServer(const std::string& caPem, const KeyPair& serving, bool requireSecureTransport);
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  int port() const { return port_; }
  // Runs SQL as root over the unix socket; throws on failure.
  void sql(const std::string& statement) const;
  // Replaces the served certificate and reloads it (FLUSH SSL).
  void rotate(const KeyPair& serving);
  // Replaces the certificate and key files only, as a renewal does before anything reloads them.
  void writeServing(const std::string& certPem, const std::string& keyPem) const;

 private:
  std::string dir_;
  std::string socket_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mysqlop::testing
