#pragma once
// The MySQL status the community operator owns (docs/design.md §4, KubeDB's vocabulary): conditions
// ProvisioningStarted, ReplicaReady, AcceptingConnection, Ready, Provisioned, Halted (a refused
// deletion's DeletionBlocked is the plan's: plan.h), the phase derived from them as KubeDB derives it, and
// observedGeneration; with TLS, status.tls (what each pod's server presents) and the condition
// ServedCertificatesCurrent; PodTemplateOutdated while a pod runs an older template. Pure: the reconciler gathers the facts, this decides what status says.
//
//   StatusFacts f{.generation = 3, .statefulSet = ReplicaCounts{1, 1}, .health = ...};
//   Json next = desiredStatus(obj.value("status", {}), f, clock.now());
//   if (next != obj["status"]) write(next);

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/conditions.h"
#include "common/core/clock.h"

namespace mysqlop::community {

using Json = nlohmann::json;

struct ReplicaCounts {
  int64_t desired = 0;
  int64_t ready = 0;
};

// What one pod's server presents to a TLS client (issue 15), as the health checker saw it.
struct ServedCertificate {
  std::string pod;
  std::string serialNumber, notAfter, issuer;  // of the served certificate; "" when unreachable
  bool matchesSecret = false;                  // the same certificate as the server Secret's tls.crt
  std::string lastReloadTime;                  // RFC 3339 of the operator's last reload; "" if none
  std::string reason;   // when it does not match: Outdated, ReloadFailed, ReloadUnsupported, Unreachable
  std::string message;  // why, in the server's or the TLS library's words
  // ExpiresSoon (within the operator's warning window) or Expired; "" otherwise.
  std::string expiry;
  // The SHA-256 of the trusted CA (trust_bundle.h) that signed what it serves; "" when none did
  // or it was not seen.
  std::string caSha256;
  bool operator==(const ServedCertificate&) const = default;
};

// A CA of the database's trust bundle, as status.tls.trustedCAs says it (issue 32).
struct TrustedCaStatus {
  std::string sha256, subject, notAfter;  // the CA certificate's fingerprint, subject and expiry
  std::vector<std::string> usedBy;        // "server", "client", "metrics-exporter", "served by my-0"
  std::string unusedSince, leavesAfter;   // RFC 3339 while it retires; "" while in use
  bool loadedByPods = false;              // HealthFacts::loadedCas holds it
  bool operator==(const TrustedCaStatus&) const = default;
};

// A Group Replication member as the group sees it (issue 31).
struct GroupMemberFacts {
  std::string pod;
  std::string state;  // ONLINE, RECOVERING, OFFLINE, ERROR, UNREACHABLE; Unknown when nobody could say
  std::string role;   // PRIMARY, SECONDARY, or ""
  std::string groupChannelSerial;  // of the certificate its group communication port presents; "" unknown
  bool operator==(const GroupMemberFacts&) const = default;
};

// What the members of a group said at the last check, and what the operator did or waits for.
struct GroupFacts {
  std::vector<GroupMemberFacts> members;  // by ordinal
  std::string primary;                    // its pod; "" when there is none
  int online = 0;                         // members ONLINE
  bool majority = false;                  // more than half of the members ONLINE in one group
  std::string reason;   // GroupReplication's condition reason when not all ONLINE (api::kReasonGroup*)
  std::string message;  // what the operator waits for or did, in a few words
  // A renewed certificate has yet to reach a member's group channel: checked again soon.
  bool rolling = false;
  // When the members were asked: a pod whose mysqld started after that is not described by these
  // facts (its predecessor was). Not part of the comparison (a new round saying the same is no news).
  core::WallTime observedAt{};
  bool operator==(const GroupFacts& o) const {
    return members == o.members && primary == o.primary && online == o.online && majority == o.majority && reason == o.reason &&
           message == o.message && rolling == o.rolling;
  }
};

struct HealthFacts {
  bool ok = false;
  std::string message;  // the server's or the TLS library's words on failure
  // With spec.tls, per pod; nullopt for a database without TLS (or not checked).
  std::optional<std::vector<ServedCertificate>> served;
  // No pod of the StatefulSet is ready, so nothing was dialled: pending for a database never
  // checked (provisioning — no Warning, no write), a failure for one that was.
  bool noReadyPod = false;
  std::optional<GroupFacts> group;  // a group's members (spec.topology); nullopt for a standalone server
  // The CAs (digests) every pod was asked to reload throughout --trust-propagation after the
  // trust bundle took them: what the pods load (by the kubelet's refresh bound; no handshake proves it).
  std::vector<std::string> loadedCas;
  bool operator==(const HealthFacts&) const = default;
};

struct Blocker {
  std::string reason;   // one of the Ready=False reasons of common/api/conditions.h
  std::string message;
};

// A pod that does not run its StatefulSet's current template (OnDelete stages template changes
// until a MySQLOpsRequest restarts the pods), and what differs ("container mysql args:
// +--require-secure-transport=ON").
struct OutdatedPod {
  std::string pod;
  std::string differs;
  bool operator==(const OutdatedPod&) const = default;
};

struct StatusFacts {
  std::string ns, name;
  int64_t generation = 0;
  std::optional<Blocker> blocker;             // invalid spec, missing secrets, ...
  bool halted = false;
  std::optional<ReplicaCounts> statefulSet;   // nullopt: no StatefulSet (yet)
  std::optional<HealthFacts> health;          // nullopt: not checked yet (by this process)
  // The StatefulSet is written now: an earlier verdict says nothing of its pods. Otherwise, with
  // no verdict yet (this process just started), the Ready an earlier check wrote stands.
  bool workloadWritten = false;
  // spec.tls is set: status.tls and ServedCertificatesCurrent are ours to keep (false: they go;
  // nullopt: the spec could not be read, they stay as they are).
  std::optional<bool> tls;
  // The pods not on the StatefulSet's current template (PodTemplateOutdated); nullopt: not known
  // now (the template is being written, or the StatefulSet controller has not seen it yet).
  std::optional<std::vector<OutdatedPod>> outdatedPods;
  // The trust bundle as the plan keeps it (status.tls.trustedCAs); nullopt: not decided now.
  std::optional<std::vector<TrustedCaStatus>> trustedCas;
};

// KubeDB's phase derivation over a conditions array (§1.5 of the KubeDB reference).
std::string computePhase(const Json& conditions);

// The next status: `current` with the community operator's conditions set from `facts`, the
// phase recomputed and observedGeneration = facts.generation. Conditions it does not own (the
// enterprise operator's TLSCertificatesReady) are kept untouched.
Json desiredStatus(const Json& current, const StatusFacts& facts, core::WallTime now);

}  // namespace mysqlop::community
