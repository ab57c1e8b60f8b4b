#include "common/mysql/mysql_probe.h"

#include <mysql.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace mysqlop::dbclient {
namespace {

// Connector/C reads the CA from a file. It gets an anonymous in-memory one (memfd), opened by
// its /proc/self/fd path: nothing is written to disk, which a read-only root filesystem (the
// charts' securityContext) would refuse, and nothing is left behind.
class MemoryCaFile {
 public:
  explicit MemoryCaFile(const std::string& pem) {
    fd_ = ::memfd_create("mysqlop-probe-ca", MFD_CLOEXEC);
    if (fd_ < 0) return;
    size_t off = 0;
    while (off < pem.size()) {
      ssize_t n = ::write(fd_, pem.data() + off, pem.size() - off);
      if (n <= 0) {
        ::close(fd_);
        fd_ = -1;
        return;
      }
      off += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryCaFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemoryCaFile(const MemoryCaFile&) = delete;
  MemoryCaFile& operator=(const MemoryCaFile&) = delete;
  const std::string& path() const { return path_; }  // empty when it could not be made

 private:
  int fd_ = -1;
  std::string path_;
};

using Connection = std::unique_ptr<MYSQL, decltype(&mysql_close)>;

// The authentication plugins a connection without TLS may use: none sends the password itself.
constexpr const char* kPlainAuthPlugins = "mysql_native_password,caching_sha2_password,client_ed25519";

// A connection as the target says (TLS with its CA and host-name check, or plain), or why not.
core::Result<Connection> connect(const ProbeTarget& t) {
  Connection conn(mysql_init(nullptr), mysql_close);
  if (!conn) return core::internal("mysql_init failed");
  unsigned int timeout = static_cast<unsigned int>(t.timeout.count());
  mysql_optionsv(conn.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(conn.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_optionsv(conn.get(), MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  unsigned int protocol = MYSQL_PROTOCOL_TCP;  // never a local socket, even for "localhost"
  mysql_optionsv(conn.get(), MYSQL_OPT_PROTOCOL, &protocol);
  std::unique_ptr<MemoryCaFile> ca;
  if (t.tls) {
    ca = std::make_unique<MemoryCaFile>(t.tls->caPem);
    if (ca->path().empty()) return core::internal(fmt::format("cannot hold the CA for the TLS client: {}", strerror(errno)));
    my_bool enforce = 1;
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_ENFORCE, &enforce);
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_CA, ca->path().c_str());
    my_bool verify = t.tls->verifyHostname ? 1 : 0;
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  } else {
    // A plain connection: do not let the client upgrade to TLS on its own, and let no server
    // (whoever answers at that address) have the password in clear: only the challenge-response
    // plugins, never mysql_clear_password or dialog.
    my_bool off = 0;
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_ENFORCE, &off);
    mysql_optionsv(conn.get(), MARIADB_OPT_RESTRICTED_AUTH, kPlainAuthPlugins);
  }
  if (!mysql_real_connect(conn.get(), t.host.c_str(), t.user.c_str(), t.password.c_str(), nullptr,
                          static_cast<unsigned int>(t.port), nullptr, 0)) {
    return core::unavailable(fmt::format("cannot connect to {}:{}: ERROR {}: {}", t.host, t.port,
                                         mysql_errno(conn.get()), mysql_error(conn.get())));
  }
  return conn;
}

}  // namespace

core::Status runStatements(const ProbeTarget& t, const std::vector<std::string>& statements) {
  auto conn = connect(t);
  if (!conn) return conn.error();
  for (const auto& sql : statements) {
    if (mysql_query(conn->get(), sql.c_str()) != 0) {
      return core::Error(core::ErrorCode::kInvalid, fmt::format("{}:{} refused {:?}: ERROR {}: {}", t.host, t.port, sql,
                                                                mysql_errno(conn->get()), mysql_error(conn->get())));
    }
    if (MYSQL_RES* res = mysql_store_result(conn->get())) mysql_free_result(res);
  }
  return {};
}

core::Status runStatement(const ProbeTarget& t, const std::string& sql) { return runStatements(t, {sql}); }

const std::vector<std::string>& writeCheckStatements() {
  static const std::vector<std::string> kStatements = {
      "CREATE DATABASE IF NOT EXISTS kubedb_system",
      "CREATE TABLE IF NOT EXISTS kubedb_system.kubedb_write_check (id INT NOT NULL PRIMARY KEY, checked_at DATETIME(6) NOT NULL)",
      "INSERT INTO kubedb_system.kubedb_write_check (id, checked_at) VALUES (1, NOW(6)) ON DUPLICATE KEY UPDATE checked_at = NOW(6)"};
  return kStatements;
}

core::Result<std::optional<std::string>> queryValue(const ProbeTarget& t, const std::string& sql) {
  auto conn = connect(t);
  if (!conn) return conn.error();
  if (mysql_query(conn->get(), sql.c_str()) != 0) {
    return core::Error(core::ErrorCode::kInvalid, fmt::format("{}:{} refused {:?}: ERROR {}: {}", t.host, t.port, sql,
                                                              mysql_errno(conn->get()), mysql_error(conn->get())));
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(mysql_store_result(conn->get()), mysql_free_result);
  if (!res) return core::unavailable(fmt::format("{}:{} returned no result for {:?}", t.host, t.port, sql));
  MYSQL_ROW row = mysql_fetch_row(res.get());
  if (!row || mysql_num_fields(res.get()) < 1) return core::unavailable(fmt::format("{}:{} returned no row for {:?}", t.host, t.port, sql));
  if (!row[0]) return std::optional<std::string>{};
  unsigned long* lengths = mysql_fetch_lengths(res.get());
  return std::optional<std::string>{std::string(row[0], lengths ? lengths[0] : std::strlen(row[0]))};
}

core::Result<std::vector<Rows>> queryRows(const ProbeTarget& t, const std::vector<std::string>& queries) {
  auto conn = connect(t);
  if (!conn) return conn.error();
  std::vector<Rows> out;
  for (const auto& sql : queries) {
    if (mysql_query(conn->get(), sql.c_str()) != 0) {
      return core::Error(core::ErrorCode::kInvalid, fmt::format("{}:{} refused {:?}: ERROR {}: {}", t.host, t.port, sql,
                                                                mysql_errno(conn->get()), mysql_error(conn->get())));
    }
    Rows rows;
    std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(mysql_store_result(conn->get()), mysql_free_result);
    if (res) {
      const unsigned fields = mysql_num_fields(res.get());
      while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
        unsigned long* lengths = mysql_fetch_lengths(res.get());
        Row r;
        for (unsigned i = 0; i < fields; ++i) {
          if (row[i]) r.emplace_back(std::string(row[i], lengths ? lengths[i] : std::strlen(row[i])));
          else r.emplace_back(std::nullopt);
        }
        rows.push_back(std::move(r));
      }
    }
    out.push_back(std::move(rows));
  }
  return out;
}

core::Result<ProbeResult> probeMySQL(const ProbeTarget& t) {
  auto connected = connect(t);
  if (!connected) return connected.error();
  Connection conn = std::move(*connected);
  if (mysql_query(conn.get(), "SELECT 1") != 0) {
    return core::unavailable(fmt::format("{}:{} did not answer a query: {}", t.host, t.port, mysql_error(conn.get())));
  }
  if (MYSQL_RES* res = mysql_store_result(conn.get())) mysql_free_result(res);
  ProbeResult r;
  r.serverVersion = mysql_get_server_info(conn.get());
  if (const char* cipher = mysql_get_ssl_cipher(conn.get())) {
    r.tlsCipher = cipher;
    const char* version = nullptr;
    if (mariadb_get_infov(conn.get(), MARIADB_CONNECTION_TLS_VERSION, &version) == 0 && version) r.tlsVersion = version;
  }
  return r;
}

}  // namespace mysqlop::dbclient
