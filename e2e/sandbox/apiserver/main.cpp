// sandbox-apiserver: runs the sandbox's Kubernetes API server until SIGTERM/SIGINT.
//
//   sandbox-apiserver --data-dir DIR [--port N] [--http-port N] [--minor 33] [--bind 127.0.0.1]
//                     [--extra-san NAME]... [--history N] [--history-age SECONDS]
// Prints one JSON line with the URL, kubeconfig path and ports once it serves.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e/sandbox/apiserver/api_server.h"

namespace {

void usage() {
  std::cerr << "usage: sandbox-apiserver --data-dir DIR [--port N] [--http-port N] [--minor N]\n"
               "                         [--bind ADDR] [--extra-san NAME]... [--history N] [--history-age SECONDS]\n"
               "                         [--pod-logs-dir NODE_DIR]\n";
}

}  // namespace

int main(int argc, char** argv) {
  // An exec or port-forward client that leaves mid-write must not end the server: the streams
  // are written through OpenSSL on the taken-over sockets, where a broken pipe may raise SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  mysqlop::sandbox::ApiServerOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "sandbox-apiserver: " << a << " needs a value\n";
        std::exit(1);
      }
      return argv[++i];
    };
    try {
      if (a == "--data-dir") opts.dataDir = next();
      else if (a == "--port") opts.port = std::stoi(next());
      else if (a == "--http-port") opts.httpPort = std::stoi(next());
      else if (a == "--minor") opts.minorVersion = next();
      else if (a == "--bind") opts.bindAddress = next();
      else if (a == "--extra-san") opts.extraSans.push_back(next());
      else if (a == "--pod-logs-dir") opts.podLogsDir = next();
      else if (a == "--history") opts.historyLimit = std::stoul(next());
      else if (a == "--history-age") opts.historyAge = std::chrono::seconds(std::stol(next()));
      else if (a == "--help" || a == "-h") {
        usage();
        return 0;
      } else {
        std::cerr << "sandbox-apiserver: unknown flag " << a << "\n";
        usage();
        return 1;
      }
    } catch (const std::exception&) {
      std::cerr << "sandbox-apiserver: bad value for " << a << "\n";
      return 1;
    }
  }
  if (opts.dataDir.empty()) {
    usage();
    return 1;
  }
  // Signals are taken synchronously on a dedicated thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  mysqlop::sandbox::ApiServer server(opts);
  if (auto st = server.start(); !st) {
    std::cerr << "sandbox-apiserver: " << st.error().message << "\n";
    return 1;
  }
  nlohmann::json ready = {{"url", server.url()}, {"port", server.port()},
                          {"kubeconfig", server.kubeconfigPath()}};
  if (server.httpPort() > 0) ready["httpPort"] = server.httpPort();
  std::cout << ready.dump() << std::endl;

  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    server.stop();
  });
  server.wait();
  // stop() came from somewhere else: release the signal thread.
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return 0;
}
