#pragma once
// What the sandbox apiserver serves: the built-in kinds (kube-api-emulator-spec §2.16) and the
// kinds of every Established CRD, with what discovery, routing, tables and validation need
// (scope, names, verbs, subresources, printer columns, schemas, strategic-merge support).
// Changes whenever a CRD is created, changed or deleted; `generation()` moves each time so
// discovery and OpenAPI hashes follow. Thread-safe (readers get immutable snapshots).

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mysqlop::sandbox {

using Json = nlohmann::json;

struct PrinterColumn {
  std::string name;
  std::string type;  // string, integer, number, boolean, date
  std::string format;
  std::string description;
  std::string jsonPath;
  int priority = 0;
};

struct ResourceInfo {
  std::string group;                  // "" = core
  std::vector<std::string> versions;  // served, in preference order
  std::string storageVersion;
  std::string plural;
  std::string singular;
  std::string kind;
  std::string listKind;
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::vector<std::string> verbs;
  bool hasStatus = false;         // a status subresource
  bool hasScale = false;          // a scale subresource
  bool tracksGeneration = false;  // metadata.generation moves on spec changes
  bool builtin = true;            // strategic merge patch, PUT without resourceVersion
  bool createOnly = false;        // review kinds: POST only, nothing stored
  std::vector<std::string> extraSubresources;  // e.g. serviceaccounts/token
  std::map<std::string, Json> schemas;         // version → openAPIV3Schema (CRDs)
  std::map<std::string, std::vector<PrinterColumn>> columns;  // version → columns (CRDs)
  std::string crdName;  // "<plural>.<group>" for CRD kinds

  // "<group>/<plural>" ("/secrets" for core): the storage key of the kind.
  std::string key() const { return group + "/" + plural; }
  // "secrets" or "mysqls.kubedb.com": how messages name it.
  std::string qualified() const { return group.empty() ? plural : plural + "." + group; }
  std::string apiVersion(const std::string& version) const {
    return group.empty() ? version : group + "/" + version;
  }
  bool serves(const std::string& version) const;
  const Json* schema(const std::string& version) const;
};

using ResourcePtr = std::shared_ptr<const ResourceInfo>;

class ResourceRegistry {
 public:
  ResourceRegistry();

  // Registers (or replaces) the kinds of an Established CRD object. Returns an error message
  // when the CRD cannot be served (names clash with a built-in, no served version, ...).
  std::optional<std::string> registerCrd(const Json& crd);
  void unregisterCrd(const std::string& crdName);

  ResourcePtr find(const std::string& group, const std::string& version,
                   const std::string& plural) const;
  // By group and kind, any served version (for ownerReferences, events, GC).
  ResourcePtr findByKind(const std::string& group, const std::string& kind) const;
  ResourcePtr findByKey(const std::string& key) const;
  std::vector<ResourcePtr> all() const;
  // Groups in discovery order (core "" first, then built-in groups, then CRD groups by name).
  std::vector<std::string> groups() const;
  uint64_t generation() const;

 private:
  void addBuiltins();
  void add(ResourceInfo info);

  mutable std::shared_mutex mu_;
  std::map<std::string, ResourcePtr> byKey_;  // guarded by mu_
  std::vector<std::string> groupOrder_;       // guarded by mu_ (built-in groups, fixed)
  uint64_t generation_ = 1;                   // guarded by mu_
};

// Built-in printer columns for Table output (NAME is always first and implicit).
std::vector<PrinterColumn> builtinColumns(const ResourceInfo& r);

}  // namespace mysqlop::sandbox
