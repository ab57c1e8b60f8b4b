#pragma once
// The MySQL status the community operator owns (DESIGN §4, KubeDB's vocabulary): conditions
// ProvisioningStarted, ReplicaReady, AcceptingConnection, Ready, Provisioned, Halted (and
// DeletionBlocked for DoNotTerminate), the phase derived from them as KubeDB derives it, and
// observedGeneration. Pure: the reconciler gathers the facts, this decides what status says.
//
//   StatusFacts f{.generation = 3, .statefulSet = ReplicaCounts{1, 1}, .health = ...};
//   Json next = desiredStatus(obj.value("status", {}), f, clock.now());
//   if (next != obj["status"]) write(next);

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/api/conditions.h"
#include "common/core/clock.h"

namespace mysqlop::community {

using Json = nlohmann::json;

struct ReplicaCounts {
  int64_t desired = 0;
  int64_t ready = 0;
};

struct HealthFacts {
  bool ok = false;
  std::string message;  // the server's or the TLS library's words on failure
};

struct Blocker {
  std::string reason;   // one of the Ready=False reasons of common/api/conditions.h
  std::string message;
};

struct StatusFacts {
  std::string ns, name;
  int64_t generation = 0;
  std::optional<Blocker> blocker;             // invalid spec, missing secrets, ...
  bool halted = false;
  std::optional<ReplicaCounts> statefulSet;   // nullopt: no StatefulSet (yet)
  std::optional<HealthFacts> health;          // nullopt: not checked yet
  std::optional<std::string> deletionBlocked;  // DoNotTerminate on a deleted object: how to proceed
};

// KubeDB's phase derivation over a conditions array (§1.5 of the KubeDB reference).
std::string computePhase(const Json& conditions);

// The next status: `current` with the community operator's conditions set from `facts`, the
// phase recomputed and observedGeneration = facts.generation. Conditions it does not own (the
// enterprise operator's TLSCertificatesReady) are kept untouched.
Json desiredStatus(const Json& current, const StatusFacts& facts, core::WallTime now);

}  // namespace mysqlop::community
