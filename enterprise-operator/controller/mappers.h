#pragma once
// How the enterprise operator's watches map an event on another kind to the MySQLs to reconcile
// (the controller's watchMapped): a Secret to the MySQLs it is issued for (our labels through
// secretTemplate, or an ownerReference) or whose auth Secret it is; an Issuer or ClusterIssuer
// to every TLS MySQL that names it. Pure functions over a cache snapshot; any thread.

#include <string_view>
#include <vector>

#include "common/runtime/cache.h"
#include "common/runtime/controller.h"

namespace mysqlop::enterprise {

// The MySQL cache's indexes mysqlsForSecret reads (a Secret event never reads every MySQL): by
// the auth Secret ("<ns>/<name>") and by uid.
runtime::Indexers mysqlIndexers();

std::vector<runtime::Request> mysqlsForSecret(const runtime::ObjectCache& mysqls, const runtime::Json& secret);
// `kind` is "Issuer" (same namespace) or "ClusterIssuer" (any namespace).
std::vector<runtime::Request> mysqlsForIssuer(const runtime::ObjectCache& mysqls, const runtime::Json& issuer,
                                              std::string_view kind);

}  // namespace mysqlop::enterprise
