#include "e2e/sandbox/apiserver/portforward_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <vector>

#include "e2e/sandbox/apiserver/spdy.h"

namespace mysqlop::sandbox {
namespace {

// One forwarded connection: its two streams and the socket to the pod.
struct Forward {
  uint32_t errorStream = 0, dataStream = 0;
  int port = 0;
  int sock = -1;
  bool clientDone = false;  // the client's FIN on the data stream: no more bytes to the pod
  bool podDone = false;     // the pod's end of stream, sent on as a FIN
};

}  // namespace

core::Result<int> connectInNetns(pid_t pid, int port) {
  const int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0) {
    if (self >= 0) ::close(self);
    if (target >= 0) ::close(target);
    return core::unavailable(fmt::format("the pod's network namespace (process {}) is gone", pid));
  }
  if (::setns(target, CLONE_NEWNET) != 0) {
    const std::string why = std::strerror(errno);
    ::close(self);
    ::close(target);
    return core::internal("setns into the pod's network namespace: " + why);
  }
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = s < 0 ? -1 : ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  const int err = errno;
  const bool back = ::setns(self, CLONE_NEWNET) == 0;
  ::close(self);
  ::close(target);
  if (!back) std::abort();  // this thread would serve the API from the pod's network: never
  if (rc != 0) {
    if (s >= 0) ::close(s);
    // In Go's words, as a kubelet would say it: "connect: connection refused".
    std::string why = std::strerror(err);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    return core::unavailable(fmt::format("dial tcp4 127.0.0.1:{}: connect: {}", port, why));
  }
  return s;
}

void runPortForwardSession(Transport& t, const PortConnector& connect) {
  spdy::Framer framer;
  std::map<std::string, Forward> forwards;       // by requestid
  std::map<uint32_t, std::string> byStream;      // stream id → requestid
  bool gone = false;
  char buf[32 * 1024];
  auto finish = [&](const std::string& id) {
    auto it = forwards.find(id);
    if (it == forwards.end()) return;
    if (it->second.sock >= 0) ::close(it->second.sock);
    byStream.erase(it->second.errorStream);
    byStream.erase(it->second.dataStream);
    forwards.erase(it);
  };
  auto start = [&](Forward& f) {
    auto sock = connect(f.port);
    if (!sock) {
      const std::string msg = fmt::format("error forwarding port {} to pod: {}", f.port, sock.error().message);
      t.writeAll(spdy::Framer::data(f.errorStream, msg, true));
      t.writeAll(spdy::Framer::data(f.dataStream, "", true));
      f.podDone = f.clientDone = true;
      return;
    }
    f.sock = *sock;
  };
  auto onFrame = [&](const spdy::Frame& fr) {
    switch (fr.type) {
      case spdy::Type::kSynStream: {
        if (!t.writeAll(framer.synReply(fr.streamId))) return false;
        const auto h = [&](const char* k) { return fr.headers.count(k) ? fr.headers.at(k) : std::string(); };
        const std::string id = h("requestid");
        Forward& f = forwards[id];
        f.port = std::atoi(h("port").c_str());
        (h("streamtype") == "error" ? f.errorStream : f.dataStream) = fr.streamId;
        byStream[fr.streamId] = id;
        if (f.errorStream != 0 && f.dataStream != 0 && f.sock < 0 && !f.podDone) start(f);
        return true;
      }
      case spdy::Type::kData: {
        auto it = byStream.find(fr.streamId);
        if (it == byStream.end()) return true;
        Forward& f = forwards[it->second];
        if (fr.streamId != f.dataStream) return true;
        for (std::string_view d = fr.data; f.sock >= 0 && !d.empty();) {
          const ssize_t w = ::send(f.sock, d.data(), d.size(), MSG_NOSIGNAL);
          if (w <= 0) break;
          d.remove_prefix(static_cast<size_t>(w));
        }
        if (fr.fin()) {
          f.clientDone = true;
          if (f.sock >= 0) ::shutdown(f.sock, SHUT_WR);
        }
        if (f.clientDone && f.podDone) finish(it->second);
        return true;
      }
      case spdy::Type::kRstStream: {
        auto it = byStream.find(fr.streamId);
        if (it != byStream.end()) finish(it->second);
        return true;
      }
      case spdy::Type::kPing:
        return t.writeAll(spdy::Framer::ping(fr.value));
      case spdy::Type::kGoAway:
        return false;
      default:
        return true;
    }
  };

  while (!gone) {
    std::vector<pollfd> fds = {{t.fd, POLLIN, 0}};
    std::vector<std::string> ids;
    for (auto& [id, f] : forwards) {
      if (f.sock >= 0 && !f.podDone) {
        fds.push_back({f.sock, POLLIN, 0});
        ids.push_back(id);
      }
    }
    if (::poll(fds.data(), fds.size(), t.pending() > 0 ? 0 : 1000) < 0 && errno != EINTR) break;
    if (t.pending() > 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t got = t.read(buf, sizeof buf);
      if (got > 0) {
        framer.feed(std::string_view(buf, static_cast<size_t>(got)));
        while (auto fr = framer.next()) {
          if (!onFrame(*fr)) {
            gone = true;
            break;
          }
        }
        if (framer.failed()) gone = true;
      } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        gone = true;
      }
    }
    for (size_t i = 1; i < fds.size() && !gone; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto it = forwards.find(ids[i - 1]);
      if (it == forwards.end()) continue;
      Forward& f = it->second;
      const ssize_t got = ::recv(f.sock, buf, sizeof buf, 0);
      if (got > 0) {
        gone = !t.writeAll(spdy::Framer::data(f.dataStream, std::string_view(buf, static_cast<size_t>(got)), false));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        f.podDone = true;
        t.writeAll(spdy::Framer::data(f.dataStream, "", true));
        t.writeAll(spdy::Framer::data(f.errorStream, "", true));
        if (f.clientDone) finish(it->first);
      }
    }
  }
  for (auto& [id, f] : forwards) {
    if (f.sock >= 0) ::close(f.sock);
  }
}

}  // namespace mysqlop::sandbox
