#include "community-operator/health/mysql_probe.h"

#include <mysql.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace mysqlop::community {
namespace {

// Connector/C reads the CA from a file: a private temporary one, removed afterwards.
class TempCaFile {
 public:
  explicit TempCaFile(const std::string& pem) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mysqlop-probe-ca-XXXXXX").string();
    int fd = mkstemp(tmpl.data());
    if (fd < 0) return;
    path_ = tmpl;
    size_t off = 0;
    while (off < pem.size()) {
      ssize_t n = ::write(fd, pem.data() + off, pem.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  ~TempCaFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

core::Result<ProbeResult> probeMySQL(const ProbeTarget& t) {
  std::unique_ptr<MYSQL, decltype(&mysql_close)> conn(mysql_init(nullptr), mysql_close);
  if (!conn) return core::internal("mysql_init failed");
  unsigned int timeout = static_cast<unsigned int>(t.timeout.count());
  mysql_optionsv(conn.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(conn.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_optionsv(conn.get(), MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  unsigned int protocol = MYSQL_PROTOCOL_TCP;  // never a local socket, even for "localhost"
  mysql_optionsv(conn.get(), MYSQL_OPT_PROTOCOL, &protocol);
  std::unique_ptr<TempCaFile> ca;
  if (t.tls) {
    ca = std::make_unique<TempCaFile>(t.tls->caPem);
    if (ca->path().empty()) return core::internal("cannot write the CA to a temporary file");
    my_bool enforce = 1;
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_ENFORCE, &enforce);
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_CA, ca->path().c_str());
    my_bool verify = t.tls->verifyHostname ? 1 : 0;
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  } else {
    // A plain connection: do not let the client upgrade to TLS on its own.
    my_bool off = 0;
    mysql_optionsv(conn.get(), MYSQL_OPT_SSL_ENFORCE, &off);
  }
  if (!mysql_real_connect(conn.get(), t.host.c_str(), t.user.c_str(), t.password.c_str(), nullptr,
                          static_cast<unsigned int>(t.port), nullptr, 0)) {
    return core::unavailable(fmt::format("cannot connect to {}:{}: ERROR {}: {}", t.host, t.port,
                                         mysql_errno(conn.get()), mysql_error(conn.get())));
  }
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

}  // namespace mysqlop::community
