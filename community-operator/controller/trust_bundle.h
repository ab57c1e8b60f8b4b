#pragma once
// A database's trust bundle (issue 32): the Secret `<db>-ca-bundle`, whose `ca.crt` holds the CA
// certificates of the database's current and recently current certificates. The pods mount it as
// /etc/mysql/certs/ca.crt (mysqld's --ssl-ca, the exporter's ssl-ca), the health checker verifies
// the servers with it, and applications mount it to trust the database across a CA rotation.
//
// Which CAs it holds is decided here, purely: a CA enters when something of the database uses it
// — the ca.crt of one of its TLS Secrets (server, client, metrics-exporter), or the CA that signed
// what one of its pods serves — and leaves only once nothing uses it any more, every pod's served
// certificate is known, and `grace` has passed since it was last used. Nothing from another
// database (or another namespace) is ever an input: the reconciler gathers the uses from this
// database's own Secrets and pods alone.
//
//   TrustDecision d = decideTrust({.previous = trustedCasOf(bundle), .uses = ..., .servedKnown = true,
//                                  .grace = retentionOf(my, configured)}, now);
//   auto secret = buildTrustBundle(my, d.cas, pems);   // pems: digest -> PEM of every CA in d.cas
//
// What each CA was last seen in use by is recorded beside it, in the Secret's annotation
// kTrustStateAnnotation (JSON), so that a retirement survives an operator restart.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/mysql.h"
#include "common/core/clock.h"
#include "common/core/result.h"

namespace mysqlop::community {

using Json = nlohmann::json;

inline constexpr const char* kTrustStateAnnotation = "mysqlop.io/trusted-cas";

struct TrustedCa {
  std::string sha256;  // of the CA certificate's DER (certificateDigest)
  // Since when nothing of the database uses it (it leaves `grace` later); nullopt while in use.
  std::optional<core::WallTime> unusedSince;
  // What uses it now ("server", "client", "metrics-exporter", "served by my-0"); not recorded.
  std::vector<std::string> usedBy;
  bool operator==(const TrustedCa&) const = default;
};

// Something of the database that uses a CA: a TLS Secret's ca.crt, or a pod's served certificate.
struct CaUse {
  std::string sha256;
  std::string by;
};

struct TrustInputs {
  std::vector<TrustedCa> previous;  // the bundle as it is (its annotation), in order; empty: none yet
  std::vector<CaUse> uses;
  // Every pod's served certificate was seen and its signer is among `uses`. Without it no CA
  // leaves and none starts its grace (a pod not seen may still serve it).
  bool servedKnown = false;
  std::chrono::seconds grace{0};
};

struct TrustDecision {
  std::vector<TrustedCa> cas;  // the bundle to keep, in order: those kept first, then those new
  // When the first retiring CA may leave (a reconcile then); nullopt: none is retiring.
  std::optional<std::chrono::seconds> nextChange;
  bool operator==(const TrustDecision&) const = default;
};

TrustDecision decideTrust(const TrustInputs& in, core::WallTime now);

// How long a CA stays trusted after its last use: `configured` when positive, else the longest
// renewBefore of the database's certificates (cert-manager's default for one without: a third
// of its duration, 90 days unless set).
std::chrono::seconds retentionOf(const api::MySQL& my, std::chrono::seconds configured);

// The bundle Secret (offshoot labels; the controller reference is the executor's): ca.crt the
// PEMs in order, the annotation the state. An error naming the CA when `pems` lacks one.
core::Result<Json> buildTrustBundle(const api::MySQL& my, const std::vector<TrustedCa>& cas,
                                    const std::map<std::string, std::string>& pems);

// The state recorded in a bundle Secret's annotation; empty when it has none (or it is unreadable).
std::vector<TrustedCa> trustedCasOf(const Json& bundle);

}  // namespace mysqlop::community
