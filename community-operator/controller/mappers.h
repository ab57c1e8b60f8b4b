#pragma once
// How the community operator's watches map an event on another kind to the MySQLs to reconcile
// (the controller's watchMapped): a Secret to every MySQL that owns it, labels it as its own or
// names it; a MySQLVersion to every MySQL of that version; a pod or StatefulSet to the database
// whose health to check. Pure functions over a cache snapshot; any thread.

#include <optional>
#include <string>
#include <vector>

#include "common/runtime/cache.h"
#include "common/runtime/controller.h"

namespace mysqlop::community {

// The MySQL cache's indexes the mappers read (a Secret event never reads every MySQL): by the
// Secrets a MySQL names ("<ns>/<name>") and by uid.
runtime::Indexers mysqlIndexers();

std::vector<runtime::Request> mysqlsForSecret(const runtime::ObjectCache& mysqls, const runtime::Json& secret);
std::vector<runtime::Request> mysqlsForVersion(const runtime::ObjectCache& mysqls, const runtime::Json& version);
// The database a labelled object (pod, StatefulSet) belongs to: "<ns>/<instance>".
std::optional<std::string> instanceKey(const runtime::Json& obj);
// The label selector of every object the operator makes (its informers watch only those).
std::string ownedSelector();

}  // namespace mysqlop::community
