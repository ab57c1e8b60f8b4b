#pragma once
// Server-side apply and metadata.managedFields (kube-api-emulator-spec §2.7), built on field
// sets in the FieldsV1 format: `{"f:spec":{"f:replicas":{}}}`, list items of associative lists
// as `k:{"name":"x"}`, set members as `v:"x"`.
//
// What is granular: maps (objects) always; lists that are associative (CRD
// x-kubernetes-list-type: map + map-keys, or the built-in merge keys: containers by name, ...)
// or sets (x-kubernetes-list-type: set, finalizers). Every other list is atomic.
//
// Pure functions over JSON; any thread.

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e/sandbox/apiserver/api_error.h"

namespace mysqlop::sandbox {

using FieldPath = std::vector<std::string>;  // elements: "f:name", "k:{...}", "v:..."
using FieldSet = std::set<FieldPath>;

// How lists are merged: from the CRD schema of the stored version (may be null) or, for
// built-ins, from the kind.
struct ApplyContext {
  const Json* schema = nullptr;
  std::string kind;
  bool builtin = true;
};

// The fields an object sets (ignoring apiVersion, kind, and server-owned metadata).
FieldSet fieldSetOf(const Json& obj, const ApplyContext& ctx);
Json toFieldsV1(const FieldSet& s);
FieldSet fromFieldsV1(const Json& f);

struct ManagerRef {
  std::string manager;
  std::string operation;  // "Apply" | "Update"
  std::string subresource;
};

struct ApplyInput {
  const Json* live = nullptr;  // null: the apply creates the object
  Json config;                 // the applied configuration (already pruned/defaulted)
  ManagerRef who;              // operation "Apply"
  bool force = false;
  std::string apiVersion;
  std::string now;  // RFC 3339, for managedFields[].time
  ApplyContext ctx;
};

// The merged object with updated managedFields, or 409 Conflict naming every conflict.
ApiResult<Json> serverSideApply(const ApplyInput& in);

// Records a non-apply write (create, update, patch) by `who`: the fields it changed move to its
// Update entry and out of every other manager's. `old` is null for a create.
void recordUpdate(const Json* old, Json& updated, const ManagerRef& who,
                  const std::string& apiVersion, const std::string& now, const ApplyContext& ctx);

// A human path for a conflict message: ".spec.replicas", ".spec.containers[name=\"db\"].image".
std::string describePath(const FieldPath& p);

}  // namespace mysqlop::sandbox
