#pragma once
// Licence verification (docs/design.md §6). A licence is a PEM X.509 certificate signed by the vendor's
// licence CA. It is valid when the signature chains to that CA, now ∈ [notBefore, notAfter], a
// DNS SAN equals the cluster ID (the UID of namespace kube-system) and Subject O lists the
// feature. Every failure has its own message:
//
//   not a PEM certificate
//   not signed by the licence CA (issuer "CN=someone else,O=...")
//   expired on 2026-01-31T00:00:00Z
//   not yet valid: valid from 2027-01-01T00:00:00Z
//   issued for cluster 1111-… but this is cluster 2222-…
//   feature "mysqlop-enterprise" missing (the licence grants: "other")
//
// Pure (the caller supplies the PEMs, the cluster ID and the time); any thread.

#include <string>
#include <vector>

#include "common/core/clock.h"
#include "common/core/result.h"

namespace mysqlop::licence {

inline constexpr const char* kEnterpriseFeature = "mysqlop-enterprise";

struct Licence {
  std::string licensee;                 // Subject CN
  std::vector<std::string> clusterIds;  // DNS SANs
  std::vector<std::string> features;    // Subject O
  core::WallTime notBefore{}, notAfter{};
  std::string serialHex;
  std::string issuer;                   // issuer DN, one line
};

// Reads a licence without judging it (for `license inspect`): Invalid "not a PEM certificate".
core::Result<Licence> readLicence(const std::string& pem);

// Verifies against the licence CA certificate `caPem`. The error's message is one of the above.
core::Result<Licence> verifyLicence(const std::string& pem, const std::string& caPem, const std::string& clusterId,
                                    core::WallTime now, const std::string& feature = kEnterpriseFeature);

// The licence CA compiled into this binary (CMake input MYSQLOP_LICENCE_CA_CERT).
const std::string& embeddedCaPem();
// Whether that CA was generated for a development build (its key is in the build tree: anyone
// with the tree can issue licences it accepts). Release builds refuse to configure without one.
bool embeddedCaIsDevelopment();

}  // namespace mysqlop::licence
