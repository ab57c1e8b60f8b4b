#pragma once
// How the sandbox cert-manager's watches map an event to the objects to reconcile: a Secret to
// the Certificates that write it and to the issuers that read it as their CA (a ClusterIssuer
// reads it from the cluster resource namespace only), an issuer to the Certificates that name
// it. Pure functions over a cache snapshot; any thread.

#include <string>
#include <string_view>
#include <vector>

#include "common/runtime/cache.h"
#include "common/runtime/controller.h"

namespace mysqlop::sandbox::certmanager {

std::vector<runtime::Request> certificatesForSecret(const runtime::ObjectCache& certificates, const runtime::Json& secret);
// `kind` is "Issuer" (same namespace) or "ClusterIssuer" (any namespace).
std::vector<runtime::Request> certificatesForIssuer(const runtime::ObjectCache& certificates, const runtime::Json& issuer,
                                                    std::string_view kind);
std::vector<runtime::Request> issuersForSecret(const runtime::ObjectCache& issuers, const runtime::Json& secret);
std::vector<runtime::Request> clusterIssuersForSecret(const runtime::ObjectCache& clusterIssuers, const runtime::Json& secret,
                                                      const std::string& clusterResourceNamespace);

}  // namespace mysqlop::sandbox::certmanager
