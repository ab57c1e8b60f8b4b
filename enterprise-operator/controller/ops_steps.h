#pragma once
// The decisions of a MySQLOpsRequest's run (issue 19) that need no I/O, each tested on its own
// (ops_steps_test.cpp): which earlier request a new one waits for, whether the community
// operator has staged the MySQL's current spec in its StatefulSet, whether the Certificates are
// synced with it, and which pod to restart next (one at a time, each Ready before the next).
// The reconciler (ops.h) gathers the objects and applies. Pure; any thread.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/api/mysql.h"
#include "common/runtime/cache.h"

namespace mysqlop::enterprise::ops {

using runtime::Json;

// The request `request` waits for: the earliest unfinished MySQLOpsRequest for the same database
// created before it (by creation time, then name) — one operation at a time per database, in
// creation order. nullopt: none; it may start.
std::optional<std::string> waitsFor(const Json& request, const std::vector<runtime::ObjectPtr>& sameNamespace);

// Whether the community operator has written its StatefulSet for the MySQL's current spec, and the
// StatefulSet controller has seen it (so its updateRevision is the template of that spec). A reason
// to wait when not.
std::optional<std::string> workloadNotStaged(const Json& mysql, const Json* statefulSet);

// Whether the Certificates are what the MySQL's current spec asks for, issued: TLSCertificatesReady
// True for this generation, each Certificate Ready and not issuing, and each re-issued past the
// revision recorded before a rotation. With TLS removed: none of ours left. A reason to wait.
std::optional<std::string> certificatesNotSynced(const Json& mysql, const std::map<std::string, runtime::ObjectPtr>& certificates,
                                                 const std::map<std::string, int64_t>& revisionsBefore);

struct Pod {
  std::string name;
  int ordinal = -1;
  bool ready = false;
  bool deleting = false;
  std::string revision;  // controller-revision-hash
  std::string created;   // creationTimestamp
};
// The database's pods (those of its StatefulSet), by ordinal.
std::vector<Pod> databasePods(const std::vector<Json>& pods, const std::string& db);

struct RestartDecision {
  enum class Kind { kDone, kWait, kRestart } kind = Kind::kDone;
  std::string pod;      // kRestart: the pod to delete
  std::string why;      // kWait: what is awaited
  int outdated = 0;     // pods still to restart
};
// The next step of a rolling restart: wait while a pod is missing, going or not Ready; else the
// outdated pod of the highest ordinal (as a StatefulSet rolls); done when none is outdated.
RestartDecision nextRestart(const std::vector<Pod>& pods, int64_t replicas, const std::function<bool(const Pod&)>& outdated);

}  // namespace mysqlop::enterprise::ops
