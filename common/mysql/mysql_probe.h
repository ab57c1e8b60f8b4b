#pragma once
// Asks a MySQL (or MariaDB) server whether it accepts connections, speaking the real MySQL
// protocol through MariaDB Connector/C — the community operator's health check (issue 5) and the enterprise operator's check after an
// ops request:
// TLS with the server Secret's CA when the database has spec.tls, host-name verification when
// it requires TLS, a plain connection otherwise. The result says why a connection failed, in the
// server's or the TLS library's words. Blocking (bounded by the timeouts); any thread.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace mysqlop::dbclient {

struct ProbeTls {
  std::string caPem;          // the CA that signed the server certificate
  bool verifyHostname = false;  // check the certificate's names against `host`
};

struct ProbeTarget {
  std::string host;
  int port = 3306;
  std::string user;
  std::string password;
  std::optional<ProbeTls> tls;  // nullopt: plain connection
  std::chrono::seconds timeout{5};
};

struct ProbeResult {
  std::string serverVersion;
  std::string tlsVersion;  // "" when the connection is not encrypted
  std::string tlsCipher;
};

// Unavailable with the server's or the TLS library's message when the connection fails.
core::Result<ProbeResult> probeMySQL(const ProbeTarget& target);
// Runs one statement (FLUSH SSL, ...) as the target's user. Unavailable when the connection
// fails, Invalid with the server's words when it refuses the statement.
core::Status runStatement(const ProbeTarget& target, const std::string& sql);
// Statements run in order on one connection; the first refused one stops them (its words).
core::Status runStatements(const ProbeTarget& target, const std::vector<std::string>& statements);
// KubeDB's write check (spec.healthChecker without disableWriteCheck): a row of
// kubedb_system.kubedb_write_check written, the database and table made when missing.
const std::vector<std::string>& writeCheckStatements();
// The first column of the first row a query returns (nullopt for SQL NULL), e.g.
// "SELECT @@GLOBAL.require_secure_transport". Errors as runStatement's.
core::Result<std::optional<std::string>> queryValue(const ProbeTarget& target, const std::string& sql);
// Every row of each query (nullopt for SQL NULL), the queries run in order on one connection; a
// statement that returns no rows gives an empty table. Errors as runStatement's.
using Row = std::vector<std::optional<std::string>>;
using Rows = std::vector<Row>;
core::Result<std::vector<Rows>> queryRows(const ProbeTarget& target, const std::vector<std::string>& queries);

}  // namespace mysqlop::dbclient
