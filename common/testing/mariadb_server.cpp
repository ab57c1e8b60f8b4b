#include "common/testing/mariadb_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace mysqlop::testing {
namespace {

namespace fs = std::filesystem;

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

pid_t spawn(const std::vector<std::string>& args, const std::string& out) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

int run(const std::vector<std::string>& args, const std::string& out) {
  pid_t pid = spawn(args, out);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::trunc) << s; }

}  // namespace

MariaDbServer::MariaDbServer(const std::string& caPem, const KeyPair& serving, bool requireSecureTransport) {
  std::string tmpl = (fs::temp_directory_path() / "mariadb-test-XXXXXX").string();
  dir_ = mkdtemp(tmpl.data());
  fs::path d(dir_);
  write(d / "ca.crt", caPem);
  write(d / "server.crt", serving.certPem);
  write(d / "server.key", serving.keyPem);
  fs::permissions(d / "server.key", fs::perms::owner_read | fs::perms::owner_write);
  socket_ = (d / "mysqld.sock").string();
  std::string log = (d / "out.log").string();
  if (run({"mariadb-install-db", "--no-defaults", "--datadir=" + (d / "data").string(), "--user=root",
           "--auth-root-authentication-method=socket", "--skip-test-db", "--innodb-log-file-size=8M"},
          log) != 0) {
    throw std::runtime_error("mariadb-install-db failed; see " + log);
  }
  port_ = freePort();
  std::vector<std::string> args = {"mariadbd", "--no-defaults", "--datadir=" + (d / "data").string(),
                                   "--socket=" + socket_, "--port=" + std::to_string(port_),
                                   "--bind-address=127.0.0.1", "--user=root",
                                   "--pid-file=" + (d / "mysqld.pid").string(),
                                   "--log-error=" + (d / "error.log").string(),
                                   "--ssl-ca=" + (d / "ca.crt").string(), "--ssl-cert=" + (d / "server.crt").string(),
                                   "--ssl-key=" + (d / "server.key").string(), "--innodb-buffer-pool-size=16M",
                                   "--innodb-log-file-size=8M", "--skip-name-resolve"};
  if (requireSecureTransport) args.push_back("--require-secure-transport=ON");
  pid_ = spawn(args, log);
  for (int i = 0; i < 200; ++i) {
    if (run({"mariadb-admin", "--no-defaults", "--socket=" + socket_, "-uroot", "ping"}, log) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("mariadbd did not come up; see " + dir_ + "/error.log");
}

MariaDbServer::~MariaDbServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void MariaDbServer::sql(const std::string& statement) const {
  if (run({"mariadb", "--no-defaults", "--socket=" + socket_, "-uroot", "-e", statement}, dir_ + "/out.log") != 0) {
    throw std::runtime_error("SQL failed: " + statement + " (see " + dir_ + "/out.log)");
  }
}

void MariaDbServer::rotate(const KeyPair& serving) {
  writeServing(serving.certPem, serving.keyPem);
  sql("FLUSH SSL");
}

void MariaDbServer::writeServing(const std::string& certPem, const std::string& keyPem) const {
  write(fs::path(dir_) / "server.crt", certPem);
  write(fs::path(dir_) / "server.key", keyPem);
}

}  // namespace mysqlop::testing
