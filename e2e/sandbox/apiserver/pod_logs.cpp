// GET /api/v1/namespaces/{ns}/pods/{name}/log — what `kubectl logs` reads. A real API server asks
// the pod's kubelet; the sandbox's kubelet runs on this machine and keeps each container's output
// in <node-dir>/pods/<uid>/<container>.log, so the server reads it from there (--pod-logs-dir).
// Parameters: container, tailLines, limitBytes, follow (streams what the container writes until
// the pod goes or the client leaves); previous is refused (one file holds every run).
#include <fmt/format.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {

namespace fs = std::filesystem;

namespace {

// The last n lines of text (all of it when it has fewer).
std::string lastLines(const std::string& text, int64_t n) {
  if (n < 0) return text;
  if (n == 0) return "";
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;  // a final newline ends the last line
  size_t pos = end;
  for (int64_t seen = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++seen == n) break;
  }
  return text.substr(pos);
}

std::string readFrom(const fs::path& file, std::streamoff offset) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  in.seekg(offset);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ApiResult<ObjPtr> ApiServer::Impl::namedPod(Call& c) {
  ObjPtr pod;
  {
    auto tx = store.begin();
    pod = tx.get("/pods", c.info.namespace_, c.info.name);
  }
  if (!pod) return errors::notFound(*registry.find("", "v1", "pods"), c.info.name);
  return pod;
}

pid_t ApiServer::Impl::runningPid(const std::string& uid, const std::string& container) const {
  std::ifstream in(fs::path(opts.podLogsDir) / "pods" / uid / (container + ".pid"));
  pid_t pid = 0;
  return in >> pid && pid > 0 && ::kill(pid, 0) == 0 ? pid : 0;
}

ApiResult<ApiServer::Impl::PodContainer> ApiServer::Impl::podContainer(Call& c) {
  const std::string& name = c.info.name;
  PodContainer out;
  auto pod = namedPod(c);
  if (!pod) return pod.error();
  out.pod = *pod;
  out.uid = out.pod->at("metadata").value("uid", "");
  std::vector<std::string> containers;
  for (const auto& ct : out.pod->value("spec", Json::object()).value("containers", Json::array())) {
    containers.push_back(ct.value("name", ""));
  }
  out.container = c.param("container");
  if (out.container.empty()) {
    if (containers.size() != 1) {
      return errors::badRequest(fmt::format("a container name must be specified for pod {}, choose one of: [{}]", name,
                                            fmt::join(containers, " ")));
    }
    out.container = containers.front();
  }
  if (std::find(containers.begin(), containers.end(), out.container) == containers.end()) {
    return errors::badRequest(fmt::format("container {} is not valid for pod {}", out.container, name));
  }
  return out;
}

ApiResult<Reply> ApiServer::Impl::podLog(Call& c) {
  const std::string& name = c.info.name;
  auto target = podContainer(c);
  if (!target) return target.error();
  const std::string& container = target->container;
  if (c.flag("previous")) {
    return errors::badRequest(fmt::format("previous terminated container \"{}\" in pod \"{}\" not found", container, name));
  }
  if (opts.podLogsDir.empty()) {
    return errors::badRequest("pod logs are not available: the sandbox API server runs without --pod-logs-dir");
  }
  const fs::path file = fs::path(opts.podLogsDir) / "pods" / target->uid / (container + ".log");
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return errors::badRequest(fmt::format("container \"{}\" in pod \"{}\" is waiting to start: ContainerCreating", container, name));
  }
  int64_t tail = -1, limit = -1;
  try {
    if (!c.param("tailLines").empty()) tail = std::stoll(c.param("tailLines"));
    if (!c.param("limitBytes").empty()) limit = std::stoll(c.param("limitBytes"));
  } catch (const std::exception&) {
    return errors::badRequest("tailLines and limitBytes must be integers");
  }
  std::string text = lastLines(readFrom(file, 0), tail);
  if (limit >= 0 && static_cast<int64_t>(text.size()) > limit) text.resize(static_cast<size_t>(limit));
  if (!c.flag("follow")) {
    Reply rep;
    rep.contentType = "text/plain";
    rep.raw = std::move(text);
    rep.body = nullptr;  // an empty log is an empty body
    return rep;
  }
  // Follow: what is there, then what the container writes, until the pod is gone (its directory
  // removed by the kubelet), the server stops or the client leaves. Not text/*: httplib would
  // gzip the stream and hold lines back in the compressor.
  c.streamed = true;
  c.res.status = 200;
  auto sent = std::make_shared<std::streamoff>(static_cast<std::streamoff>(fs::file_size(file, ec)));
  auto first = std::make_shared<std::string>(std::move(text));
  auto left = std::make_shared<int64_t>(limit);
  c.res.set_chunked_content_provider(
      "application/octet-stream", [this, file, sent, first, left](size_t, httplib::DataSink& sink) {
        auto write = [&](std::string chunk) {
          if (*left >= 0) {
            if (static_cast<int64_t>(chunk.size()) > *left) chunk.resize(static_cast<size_t>(*left));
            *left -= static_cast<int64_t>(chunk.size());
          }
          return chunk.empty() || sink.write(chunk.data(), chunk.size());
        };
        if (!first->empty()) {
          std::string chunk = std::move(*first);
          first->clear();
          return write(std::move(chunk));
        }
        for (int i = 0; i < 10; ++i) {
          std::error_code e;
          if (stopping.load() || *left == 0 || !fs::exists(file, e)) {
            sink.done();
            return true;
          }
          const auto size = static_cast<std::streamoff>(fs::file_size(file, e));
          if (!e && size > *sent) {
            std::string chunk = readFrom(file, *sent);
            *sent += static_cast<std::streamoff>(chunk.size());
            return write(std::move(chunk));
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return sink.is_writable();
      });
  return Reply{};
}

}  // namespace mysqlop::sandbox
