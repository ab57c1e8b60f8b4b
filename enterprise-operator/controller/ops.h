#pragma once
// The enterprise operator's MySQLOpsRequest controller (issue 19, KubeDB reference §3.2): runs
// ReconfigureTLS and Restart requests, one at a time per database in creation order, each step
// a condition on the request and an Event:
//
//   Pending (waits: an earlier request, the licence, a Ready database when apply: IfReady)
//   → Progressing: pause the MySQL (annotation + Paused) → update its spec (ReconfigureTLS)
//   → ask cert-manager to re-issue (rotateCertificates: the Issuing condition, as cmctl renew)
//   → certificates synced → restart the pods whose template is outdated, one at a time, each
//   Ready before the next (Restart: every pod) — or, when only certificates changed, let the
//   reload renewals use bring them (no restart) → verify as a client: each pod serves the
//   Secret's certificate, verified with its CA and host name, require_secure_transport is what
//   was asked, the MySQL is Ready → remove TLS Secrets no longer used → Successful
//   → resume the MySQL (also after Failed, a timeout, or the request's deletion).
//
// Every step is decided from what the objects say now, so a restarted operator resumes where its
// predecessor stopped and does nothing twice (a rotation's revisions and the start time are in
// the request's status). A finished request is never run again. See docs/reconfigure-tls.md.

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/log.h"
#include "common/mysql/mysql_probe.h"
#include "common/runtime/cache.h"
#include "common/runtime/controller.h"
#include "common/runtime/event_recorder.h"
#include "enterprise-operator/controller/licence_gate.h"

namespace mysqlop::enterprise {

struct OpsCaches {
  const runtime::ObjectCache* requests = nullptr;
  const runtime::ObjectCache* mysqls = nullptr;
  const runtime::ObjectCache* certificates = nullptr;
};

struct OpsOptions {
  std::chrono::milliseconds poll{1000};         // a running request looks again after this
  std::chrono::milliseconds pendingPoll{5000};  // a waiting one
  std::chrono::seconds probeTimeout{5};
  // How the request reaches a pod's server, as a client would (replaced in tests).
  std::function<core::Result<std::string>(const std::string& host, int port, std::chrono::seconds)> fetchServed;
  // What a group member's group communication port presents (TLS from the first byte).
  std::function<core::Result<std::string>(const std::string& host, int port, std::chrono::seconds)> fetchGroupServed;
  std::function<core::Result<std::optional<std::string>>(const dbclient::ProbeTarget&, const std::string& sql)> query;
  std::function<std::string(const std::string& db, const std::string& ns, int ordinal)> podHost;
};

// The requests' cache index by database ("<ns>/<db>").
runtime::Indexers opsIndexers();
// The unfinished requests for a MySQL (its events move them on), and, for a MySQL paused by a
// request that no longer exists, that request's key (whose reconcile resumes it).
std::vector<runtime::Request> requestsForMySQL(const runtime::ObjectCache& requests, const runtime::Json& mysql);
// The other unfinished requests for the same database (one finishing lets the next start).
std::vector<runtime::Request> requestsForSameDatabase(const runtime::ObjectCache& requests, const runtime::Json& request);

class OpsReconciler {
 public:
  OpsReconciler(client::RestClient& cli, runtime::EventRecorder& events, OpsCaches caches, const LicenceGate& licence,
                OpsOptions opts = {}, const core::Clock& clock = core::systemClock(), core::Logger log = core::Logger::root());
  core::Result<runtime::ReconcileResult> reconcile(const runtime::Request& req, std::stop_token stop);

 private:
  struct Run;  // one reconcile of one request
  core::Result<runtime::ReconcileResult> resumeOrphaned(const runtime::Request& req);

  client::RestClient& cli_;
  runtime::EventRecorder& events_;
  OpsCaches c_;
  const LicenceGate& licence_;
  OpsOptions opts_;
  const core::Clock& clock_;
  core::Logger log_;
};

}  // namespace mysqlop::enterprise
