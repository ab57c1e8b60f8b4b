#include "common/api/mysql.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "common/api/naming.h"
#include "common/kube/duration.h"

namespace mysqlop::api {
namespace {

// Every field of KubeDB's MySQL spec (kubedb.com/v1 and v1alpha2) and what mysqlop does with it:
// the parser reads the supported ones and refuses the others with their note. The table in
// docs/community-operator.md ("Every spec field") is generated from these lines
// (scripts/reference): keep each entry on one line.
struct SpecField {
  std::string_view name;
  bool supported;
  std::string_view note;
};
constexpr SpecField kSpecFieldTable[] = {
    {"version", true, "the MySQLVersion to run (a catalog entry)"},
    {"replicas", true, "1 for a standalone server; 2 to 9 for a group (3 by default)"},
    {"storageType", true, "Durable (a PVC) or Ephemeral (an emptyDir)"},
    {"storage", true, "the PVC spec of a Durable database"},
    {"authSecret", true, "name (your own Secret, never changed or deleted) and externallyManaged"},
    {"requireSSL", true, "refuse unencrypted connections (needs tls)"},
    {"tls", true, "issuerRef and certificates: cert-manager issues them through the enterprise operator"},
    {"podTemplate", true, "labels, annotations; spec: args, env, resources, nodeSelector, tolerations, affinity, securityContext, serviceAccountName, and containers[] (mysql, exporter) as KubeDB v1 writes them"},
    {"serviceTemplates", true, "per alias (primary, stats): metadata labels and annotations, spec.type"},
    {"monitor", true, "the exporter sidecar and the <db>-stats Service; with agent prometheus.io/operator a ServiceMonitor (serviceMonitor labels, interval)"},
    {"configSecret", true, "a Secret of my.cnf fragments mounted at /etc/mysql/conf.d"},
    {"init", true, "script (a ConfigMap or Secret run once on an empty data directory) and initialized; restores are refused"},
    {"healthChecker", true, "periodSeconds, timeoutSeconds, failureThreshold, disableWriteCheck, with KubeDB's defaults"},
    {"halted", true, "remove the StatefulSet, keep everything else"},
    {"deletionPolicy", true, "Delete, WipeOut, Halt, DoNotTerminate (v1)"},
    {"terminationPolicy", true, "the v1alpha2 name of deletionPolicy"},
    {"topology", true, "mode GroupReplication, group.name (a UUID, recorded once when left out) and group.mode Single-Primary; InnoDB cluster, semi-sync and remote replicas are refused"},
    {"coordinator", false, "the coordinator sidecar is not supported"},
    {"allowedSchemas", false, "schema management is not supported"},
    {"autoOps", false, "automatic ops requests are not supported"},
    {"archiver", false, "continuous archiving and point-in-time recovery are not supported"},
    {"allowedReadReplicas", false, "read replicas are not supported"},
};

const SpecField* specField(const std::string& name) {
  for (const auto& f : kSpecFieldTable) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// spec.init: script (a ConfigMap or a Secret) and initialized; a restore is refused by name.
void readInit(FieldReader& r, const Json& init, MySQL& my, FieldErrors& errors) {
  for (auto it = init.begin(); it != init.end(); ++it) {
    if (it.key() == "script" || it.key() == "initialized") continue;
    if (it.key() == "waitForInitialRestore" && it->is_boolean() && !it->get<bool>()) continue;
    errors.push_back({"spec.init." + it.key(), it.key() == "waitForInitialRestore" || it.key() == "snapshot" || it.key() == "archiver"
                                                   ? "Forbidden: restoring from a snapshot or an archive is not supported; use init.script"
                                                   : "Forbidden: unknown field; mysqlop supports init.script and init.initialized"});
  }
  my.initialized = r.boolean(init, "initialized", "spec.init");
  const Json* script = r.object(init, "script", "spec.init");
  if (!script) return;
  InitScript s;
  for (auto it = script->begin(); it != script->end(); ++it) {
    if (it.key() == "configMap") {
      if (const Json* cm = r.object(*script, "configMap", "spec.init.script")) s.configMap = r.str(*cm, "name", "spec.init.script.configMap");
    } else if (it.key() == "secret") {
      if (const Json* sec = r.object(*script, "secret", "spec.init.script")) s.secret = r.str(*sec, "secretName", "spec.init.script.secret");
    } else {
      errors.push_back({"spec.init.script." + it.key(),
                        "Forbidden: the scripts come from a configMap or a secret (their files run in name order)"});
    }
  }
  my.initScript = s;
}

// spec.topology: mode and group (name, mode); the other topologies of KubeDB v1 refused by name.
void readTopology(FieldReader& r, const Json& t, MySQL& my, FieldErrors& errors) {
  Topology topo;
  for (auto it = t.begin(); it != t.end(); ++it) {
    if (it.key() == "mode" || it.key() == "group") continue;
    errors.push_back({"spec.topology." + it.key(), "Forbidden: only mode GroupReplication (with group) is supported"});
  }
  topo.mode = r.str(t, "mode", "spec.topology");
  if (const Json* g = r.object(t, "group", "spec.topology")) {
    for (auto it = g->begin(); it != g->end(); ++it) {
      if (it.key() != "name" && it.key() != "mode") errors.push_back({"spec.topology.group." + it.key(), "Forbidden: unknown field"});
    }
    topo.groupName = r.str(*g, "name", "spec.topology.group");
    topo.groupMode = r.str(*g, "mode", "spec.topology.group");
  }
  my.topology = std::move(topo);
}

void ipOk(const std::string& ip, const std::string& field, FieldErrors& out) {
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
    out.push_back({field, fmt::format("Invalid value: {:?}: must be a valid IP address", ip)});
  }
}

// A DNS name a certificate may carry: a DNS-1123 subdomain (lower-case labels of letters,
// digits and '-', each 1–63 characters, not starting or ending with '-'), at most 253
// characters, optionally with a leading "*." wildcard label.
void dnsNameOk(const std::string& name, const std::string& field, FieldErrors& out) {
  std::string_view n = name;
  if (n.rfind("*.", 0) == 0) n.remove_prefix(2);
  bool ok = !n.empty() && n.size() <= 253;
  for (size_t start = 0; ok && start <= n.size();) {
    size_t end = n.find('.', start);
    if (end == std::string_view::npos) end = n.size();
    const std::string_view label = n.substr(start, end - start);
    ok = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
         std::all_of(label.begin(), label.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
    start = end + 1;
    if (end == n.size()) break;
  }
  if (!ok) {
    out.push_back({field, fmt::format("Invalid value: {:?}: must be a DNS name (lower-case labels of letters, digits and '-', "
                                      "optionally starting with \"*.\")", name)});
  }
}

// A URI: a scheme (a letter, then letters, digits, '+', '-', '.'), a colon and something after it,
// without spaces or control characters.
void uriOk(const std::string& uri, const std::string& field, FieldErrors& out) {
  const size_t colon = uri.find(':');
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < uri.size() && std::isalpha(static_cast<unsigned char>(uri[0]));
  for (size_t i = 0; ok && i < colon; ++i) {
    const char c = uri[i];
    ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  }
  ok = ok && std::none_of(uri.begin(), uri.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
  if (!ok) out.push_back({field, fmt::format("Invalid value: {:?}: must be a URI with a scheme (e.g. spiffe://cluster/ns/db)", uri)});
}

// An e-mail address: one '@' between a non-empty local part and a DNS name.
void emailOk(const std::string& email, const std::string& field, FieldErrors& out) {
  const size_t at = email.find('@');
  FieldErrors domain;
  if (at != std::string::npos) dnsNameOk(email.substr(at + 1), field, domain);
  const bool ok = at != std::string::npos && at > 0 && email.find('@', at + 1) == std::string::npos && domain.empty() &&
                  std::none_of(email.begin(), email.begin() + static_cast<std::ptrdiff_t>(at),
                               [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
  if (!ok) out.push_back({field, fmt::format("Invalid value: {:?}: must be an e-mail address (local-part@domain)", email)});
}

}  // namespace

std::string_view toString(DeletionPolicy p) {
  switch (p) {
    case DeletionPolicy::kDelete: return "Delete";
    case DeletionPolicy::kWipeOut: return "WipeOut";
    case DeletionPolicy::kHalt: return "Halt";
    case DeletionPolicy::kDoNotTerminate: return "DoNotTerminate";
  }
  return "Delete";
}

std::optional<DeletionPolicy> parseDeletionPolicy(std::string_view s) {
  for (auto p : {DeletionPolicy::kDelete, DeletionPolicy::kWipeOut, DeletionPolicy::kHalt, DeletionPolicy::kDoNotTerminate}) {
    if (toString(p) == s) return p;
  }
  return std::nullopt;
}

core::Result<std::optional<DeletionPolicy>, FieldErrors> readDeletionPolicy(const Json& spec) {
  FieldErrors errors;
  FieldReader r(errors);
  const std::string deletion = r.str(spec, "deletionPolicy", "spec");
  const std::string termination = r.str(spec, "terminationPolicy", "spec");
  std::optional<DeletionPolicy> policy;
  for (const auto& [field, value] : {std::pair{"spec.deletionPolicy", deletion}, {"spec.terminationPolicy", termination}}) {
    if (value.empty()) continue;
    auto p = parseDeletionPolicy(value);
    if (!p) {
      errors.push_back({field, fmt::format("Unsupported value: {:?}: supported values: \"Delete\", \"DoNotTerminate\", "
                                           "\"Halt\", \"WipeOut\"", value)});
    } else if (policy && *policy != *p) {
      errors.push_back({field, fmt::format("Invalid value: {:?}: conflicts with spec.deletionPolicy {:?} (they are synonyms)",
                                           value, deletion)});
    } else {
      policy = p;
    }
  }
  if (!errors.empty()) return errors;
  return policy;
}

const CertificateSpec* TLSConfig::certificate(const std::string& alias) const {
  for (const auto& c : certificates) {
    if (c.alias == alias) return &c;
  }
  return nullptr;
}

std::string MySQL::effectiveAuthSecretName() const {
  return authSecretName.empty() ? api::authSecretName(name) : authSecretName;
}

int MySQL::primaryPort() const {
  if (!serviceTemplates.is_array()) return kMySQLPort;
  for (const auto& t : serviceTemplates) {
    if (!t.is_object() || t.value("alias", "") != "primary") continue;
    for (const auto& p : t.value("spec", Json::object()).value("ports", Json::array())) {
      if (p.is_object() && p.value("name", "") == kPortNamePrimary && p.contains("port") && p["port"].is_number_integer()) {
        const int64_t port = p["port"].get<int64_t>();
        if (port > 0 && port < 65536) return static_cast<int>(port);
      }
    }
  }
  return kMySQLPort;
}

std::string MySQL::certSecretName(const std::string& alias) const {
  if (tls) {
    if (const auto* c = tls->certificate(alias); c && !c->secretName.empty()) return c->secretName;
  }
  return defaultCertSecretName(name, alias);
}

core::Result<MySQL, FieldErrors> parseMySQL(const Json& obj) {
  FieldErrors errors;
  FieldReader r(errors);
  MySQL my;
  if (!obj.is_object()) return FieldErrors{{"<root>", "must be an object"}};
  my.apiVersion = r.str(obj, "apiVersion", "");
  if (!my.apiVersion.empty() && my.apiVersion != "kubedb.com/v1" && my.apiVersion != "kubedb.com/v1alpha2") {
    errors.push_back({"apiVersion", fmt::format("Unsupported value: {:?}: supported values: \"kubedb.com/v1\", \"kubedb.com/v1alpha2\"", my.apiVersion)});
  }
  const Json* md = r.object(obj, "metadata", "");
  if (md) {
    my.name = r.str(*md, "name", "metadata");
    my.namespace_ = r.str(*md, "namespace", "metadata");
    my.uid = r.str(*md, "uid", "metadata");
    my.generation = r.integer(*md, "generation", "metadata");
  }
  const Json* spec = r.object(obj, "spec", "");
  if (!spec) {
    errors.push_back({"spec", "Required value"});
    return errors;
  }
  for (auto it = spec->begin(); it != spec->end(); ++it) {
    const SpecField* f = specField(it.key());
    if (f && f->supported) continue;
    if (f) {
      errors.push_back({"spec." + it.key(), "Forbidden: " + std::string(f->note)});
    } else {
      errors.push_back({"spec." + it.key(), "Forbidden: unknown field; mysqlop does not support it"});
    }
  }
  my.version = r.str(*spec, "version", "spec");
  my.replicas = r.integer(*spec, "replicas", "spec");
  my.storageType = r.str(*spec, "storageType", "spec");
  if (const Json* s = r.object(*spec, "storage", "spec")) my.storage = *s;
  if (const Json* a = r.object(*spec, "authSecret", "spec")) {
    my.authSecretName = r.str(*a, "name", "spec.authSecret");
    my.authSecretExternallyManaged = r.boolean(*a, "externallyManaged", "spec.authSecret");
  }
  if (const Json* h = r.object(*spec, "healthChecker", "spec")) {
    HealthCheckerSpec hc;
    hc.periodSeconds = r.integer(*h, "periodSeconds", "spec.healthChecker");
    hc.timeoutSeconds = r.integer(*h, "timeoutSeconds", "spec.healthChecker");
    hc.failureThreshold = r.integer(*h, "failureThreshold", "spec.healthChecker");
    hc.disableWriteCheck = r.boolean(*h, "disableWriteCheck", "spec.healthChecker");
    my.healthChecker = hc;
  }
  if (const Json* init = r.object(*spec, "init", "spec")) readInit(r, *init, my, errors);
  if (const Json* t = r.object(*spec, "topology", "spec")) readTopology(r, *t, my, errors);
  my.requireSSL = r.boolean(*spec, "requireSSL", "spec");
  if (const Json* p = r.object(*spec, "podTemplate", "spec")) my.podTemplate = *p;
  if (auto st = spec->find("serviceTemplates"); st != spec->end() && !st->is_null()) {
    if (!st->is_array()) r.bad("spec.serviceTemplates", *st, "must be a list");
    else my.serviceTemplates = *st;
  }
  if (const Json* m = r.object(*spec, "monitor", "spec")) my.monitor = *m;
  if (const Json* c = r.object(*spec, "configSecret", "spec")) my.configSecretName = r.str(*c, "name", "spec.configSecret");
  my.halted = r.boolean(*spec, "halted", "spec");
  if (auto policy = readDeletionPolicy(*spec)) {
    my.deletionPolicy = *policy;
  } else {
    errors.insert(errors.end(), policy.error().begin(), policy.error().end());
  }

  if (const Json* tls = r.object(*spec, "tls", "spec")) {
    TLSConfig t;
    if (const Json* ir = r.object(*tls, "issuerRef", "spec.tls")) {
      t.issuerRef = IssuerRef{r.str(*ir, "apiGroup", "spec.tls.issuerRef"), r.str(*ir, "kind", "spec.tls.issuerRef"),
                              r.str(*ir, "name", "spec.tls.issuerRef")};
    }
    if (auto cs = tls->find("certificates"); cs != tls->end() && !cs->is_null()) {
      if (!cs->is_array()) {
        r.bad("spec.tls.certificates", *cs, "must be a list");
      } else {
        for (size_t i = 0; i < cs->size(); ++i) {
          std::string path = fmt::format("spec.tls.certificates[{}]", i);
          const Json& c = (*cs)[i];
          if (!c.is_object()) {
            r.bad(path, c, "must be an object");
            continue;
          }
          CertificateSpec cert;
          cert.alias = r.str(c, "alias", path);
          cert.secretName = r.str(c, "secretName", path);
          if (const Json* sub = r.object(c, "subject", path)) {
            std::string sp = path + ".subject";
            cert.subject = Subject{r.strings(*sub, "organizations", sp), r.strings(*sub, "countries", sp),
                                   r.strings(*sub, "organizationalUnits", sp), r.strings(*sub, "localities", sp),
                                   r.strings(*sub, "provinces", sp), r.strings(*sub, "streetAddresses", sp),
                                   r.strings(*sub, "postalCodes", sp), r.str(*sub, "serialNumber", sp)};
          }
          cert.duration = r.str(c, "duration", path);
          cert.renewBefore = r.str(c, "renewBefore", path);
          cert.dnsNames = r.strings(c, "dnsNames", path);
          cert.ipAddresses = r.strings(c, "ipAddresses", path);
          cert.uris = r.strings(c, "uris", path);
          cert.emailAddresses = r.strings(c, "emailAddresses", path);
          if (const Json* pk = r.object(c, "privateKey", path)) cert.privateKeyEncoding = r.str(*pk, "encoding", path + ".privateKey");
          t.certificates.push_back(std::move(cert));
        }
      }
    }
    my.tls = std::move(t);
  }
  if (!errors.empty()) return errors;
  return my;
}

bool setDefaults(MySQL& my) {
  bool changed = false;
  auto set = [&](auto& field, auto value) {
    if (field == decltype(field)(value)) return;
    field = value;
    changed = true;
  };
  if (my.replicas == 0) set(my.replicas, my.isGroup() ? kGroupDefaultMembers : int64_t{1});
  if (my.isGroup() && my.topology->groupMode.empty()) set(my.topology->groupMode, std::string(kGroupModeSinglePrimary));
  if (my.storageType.empty()) set(my.storageType, std::string("Durable"));
  if (!my.deletionPolicy) set(my.deletionPolicy, std::optional<DeletionPolicy>(DeletionPolicy::kDelete));
  if (my.tls && my.tls->issuerRef) {
    for (const auto& alias : tlsAliases()) {
      auto it = std::find_if(my.tls->certificates.begin(), my.tls->certificates.end(),
                             [&](const CertificateSpec& c) { return c.alias == alias; });
      if (it == my.tls->certificates.end()) {
        my.tls->certificates.push_back({alias, defaultCertSecretName(my.name, alias)});
        changed = true;
      } else if (it->secretName.empty()) {
        it->secretName = defaultCertSecretName(my.name, alias);
        changed = true;
      }
    }
  }
  return changed;
}

namespace {

// spec.authSecret.externallyManaged, spec.healthChecker and spec.init.script.
void validateKubeDBExtras(const MySQL& my, FieldErrors& out) {
  if (my.authSecretExternallyManaged && my.authSecretName.empty()) {
    out.push_back({"spec.authSecret.name", "Required value: with externallyManaged: true you make the Secret, so name it"});
  }
  if (my.healthChecker) {
    const std::pair<const char*, int64_t> fields[] = {{"periodSeconds", my.healthChecker->periodSeconds},
                                                      {"timeoutSeconds", my.healthChecker->timeoutSeconds},
                                                      {"failureThreshold", my.healthChecker->failureThreshold}};
    for (const auto& [field, value] : fields) {
      if (value < 0 || value > 86400) {
        out.push_back({std::string("spec.healthChecker.") + field, fmt::format("Invalid value: {}: must be between 1 and 86400", value)});
      }
    }
  }
  if (my.initScript) {
    const bool cm = !my.initScript->configMap.empty(), secret = !my.initScript->secret.empty();
    if (cm == secret) {
      out.push_back({"spec.init.script", cm ? "Invalid value: both configMap and secret: name one of them"
                                            : "Required value: configMap.name or secret.secretName"});
    }
  }
}

// spec.topology and spec.replicas: a standalone server, or a single-primary group of 2 to 9
// members that verify each other's certificates (so it needs spec.tls).
void validateTopology(const MySQL& my, FieldErrors& out) {
  if (!my.topology) {
    if (my.replicas != 1) {
      out.push_back({"spec.replicas", fmt::format("Invalid value: {}: a standalone server has 1 replica (a group: spec.topology)", my.replicas)});
    }
    return;
  }
  const Topology& t = *my.topology;
  if (t.mode.empty()) {
    out.push_back({"spec.topology.mode", "Required value: supported values: \"GroupReplication\""});
  } else if (t.mode != kModeGroupReplication) {
    out.push_back({"spec.topology.mode", fmt::format("Unsupported value: {:?}: supported values: \"GroupReplication\"", t.mode)});
  }
  if (!t.groupName.empty() && !isUuid(t.groupName)) {
    out.push_back({"spec.topology.group.name", fmt::format("Invalid value: {:?}: must be a UUID (8-4-4-4-12 hexadecimal digits)", t.groupName)});
  }
  if (!t.groupMode.empty() && t.groupMode != kGroupModeSinglePrimary) {
    out.push_back({"spec.topology.group.mode", fmt::format("Unsupported value: {:?}: supported values: \"Single-Primary\"", t.groupMode)});
  }
  if (my.replicas < 2 || my.replicas > kGroupMaxMembers) {
    out.push_back({"spec.replicas", fmt::format("Invalid value: {}: a group has 2 to {} members", my.replicas, kGroupMaxMembers)});
  }
  if (!my.tls) {
    out.push_back({"spec.tls", "Required value: the members of a group verify each other's certificates; set spec.tls with an issuerRef"});
  }
}

}  // namespace

FieldErrors validate(const MySQL& my) {
  FieldErrors out;
  // Names derived from the MySQL's must stay valid: the StatefulSet's pods carry
  // controller-revision-hash=<name>-<10-character hash> (a label value, at most 63 characters),
  // the governing Service <name>-pods is a DNS-1035 label (it starts with a letter), and with TLS
  // the certificates' common names (<name>.<namespace>.svc, <name>-metrics-exporter) fit X.509's
  // 64 bytes. Refused here rather than failing to create, again and again.
  if (my.name.size() > kMaxNameLength) {
    out.push_back({"metadata.name", fmt::format("Invalid value: {:?}: must be no more than {} characters (the StatefulSet's "
                                                "pods are labelled controller-revision-hash=<name>-<hash>, at most 63)",
                                                my.name, kMaxNameLength)});
  } else if (!my.name.empty() && !std::isalpha(static_cast<unsigned char>(my.name.front()))) {
    out.push_back({"metadata.name", fmt::format("Invalid value: {:?}: must start with a letter (the Service {}-pods is a DNS-1035 label)",
                                                my.name, my.name)});
  }
  if (my.tls) {
    for (const std::string& cn : {serviceHost(my.name, my.namespace_), my.name + "-metrics-exporter"}) {
      if (cn.size() > 64) {
        out.push_back({"metadata.name", fmt::format("Invalid value: {:?}: with TLS the certificate common name {:?} would be {} bytes, "
                                                    "more than X.509's 64: use a shorter name",
                                                    my.name, cn, cn.size())});
        break;
      }
    }
  }
  if (my.version.empty()) out.push_back({"spec.version", "Required value"});
  validateKubeDBExtras(my, out);
  validateTopology(my, out);
  if (my.storageType != "Durable" && my.storageType != "Ephemeral") {
    out.push_back({"spec.storageType", fmt::format("Unsupported value: {:?}: supported values: \"Durable\", \"Ephemeral\"", my.storageType)});
  }
  if (my.storageType == "Durable" && (my.storage.is_null() || my.storage.empty())) {
    out.push_back({"spec.storage", "Required value: a Durable database needs a storage (PVC) spec"});
  }
  if (my.deletionPolicy == DeletionPolicy::kHalt && my.storageType == "Ephemeral") {
    out.push_back({"spec.deletionPolicy", "Invalid value: \"Halt\": Halt keeps the data, which an Ephemeral database does not have"});
  }
  if (my.halted && my.deletionPolicy == DeletionPolicy::kDoNotTerminate) {
    out.push_back({"spec.halted", "Invalid value: true: cannot halt a database whose deletionPolicy is DoNotTerminate; set it to Halt first"});
  }
  if (my.requireSSL && !my.tls) {
    out.push_back({"spec.requireSSL", "Invalid value: true: requireSSL needs spec.tls (with an issuerRef) to take effect"});
  }
  static const std::set<std::string> kForbiddenEnv = {"MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD",
                                                      "MYSQL_RANDOM_ROOT_PASSWORD", "MYSQL_ONETIME_PASSWORD"};
  // The environment of the pod template (KubeDB v1alpha2: spec.env) and of each container
  // template (KubeDB v1: spec.containers[].env).
  auto checkEnv = [&](const Json& env, const std::string& field) {
    if (!env.is_array()) return;
    for (size_t i = 0; i < env.size(); ++i) {
      std::string n = env[i].is_object() ? env[i].value("name", "") : "";
      if (kForbiddenEnv.count(n)) {
        out.push_back({fmt::format("{}[{}].name", field, i), fmt::format("Forbidden: {} is set by the operator from the auth Secret", n)});
      }
    }
  };
  if (my.podTemplate.is_object()) {
    if (auto s = my.podTemplate.find("spec"); s != my.podTemplate.end() && s->is_object()) {
      checkEnv(s->value("env", Json::array()), "spec.podTemplate.spec.env");
      const Json containers = s->value("containers", Json::array());
      for (size_t c = 0; containers.is_array() && c < containers.size(); ++c) {
        if (containers[c].is_object()) {
          checkEnv(containers[c].value("env", Json::array()), fmt::format("spec.podTemplate.spec.containers[{}].env", c));
        }
      }
    }
  }
  if (my.tls) {
    const TLSConfig& t = *my.tls;
    if (!t.issuerRef) {
      out.push_back({"spec.tls.issuerRef", "Required value: certificates need an Issuer or ClusterIssuer"});
    } else {
      if (t.issuerRef->kind != "Issuer" && t.issuerRef->kind != "ClusterIssuer") {
        out.push_back({"spec.tls.issuerRef.kind",
                       fmt::format("Unsupported value: {:?}: supported values: \"ClusterIssuer\", \"Issuer\"", t.issuerRef->kind)});
      }
      if (t.issuerRef->name.empty()) out.push_back({"spec.tls.issuerRef.name", "Required value"});
      if (!t.issuerRef->apiGroup.empty() && t.issuerRef->apiGroup != "cert-manager.io") {
        out.push_back({"spec.tls.issuerRef.apiGroup",
                       fmt::format("Unsupported value: {:?}: supported values: \"cert-manager.io\"", t.issuerRef->apiGroup)});
      }
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < t.certificates.size(); ++i) {
      const CertificateSpec& c = t.certificates[i];
      std::string p = fmt::format("spec.tls.certificates[{}]", i);
      const auto& aliases = tlsAliases();
      if (c.alias.empty()) {
        out.push_back({p + ".alias", "Required value"});
      } else if (std::find(aliases.begin(), aliases.end(), c.alias) == aliases.end()) {
        out.push_back({p + ".alias", fmt::format("Unsupported value: {:?}: supported values: \"client\", \"metrics-exporter\", \"server\"", c.alias)});
      } else if (!seen.insert(c.alias).second) {
        out.push_back({p + ".alias", fmt::format("Duplicate value: {:?}", c.alias)});
      }
      for (size_t j = 0; j < c.ipAddresses.size(); ++j) ipOk(c.ipAddresses[j], fmt::format("{}.ipAddresses[{}]", p, j), out);
      for (size_t j = 0; j < c.dnsNames.size(); ++j) dnsNameOk(c.dnsNames[j], fmt::format("{}.dnsNames[{}]", p, j), out);
      for (size_t j = 0; j < c.uris.size(); ++j) uriOk(c.uris[j], fmt::format("{}.uris[{}]", p, j), out);
      for (size_t j = 0; j < c.emailAddresses.size(); ++j) emailOk(c.emailAddresses[j], fmt::format("{}.emailAddresses[{}]", p, j), out);
      int64_t duration = 0, renew = 0;
      if (!c.duration.empty()) {
        if (auto d = kube::parseGoDuration(c.duration); !d) {
          out.push_back({p + ".duration", fmt::format("Invalid value: {:?}: {}", c.duration, d.error().message)});
        } else {
          duration = *d;
        }
      }
      if (!c.renewBefore.empty()) {
        if (auto d = kube::parseGoDuration(c.renewBefore); !d) {
          out.push_back({p + ".renewBefore", fmt::format("Invalid value: {:?}: {}", c.renewBefore, d.error().message)});
        } else {
          renew = *d;
        }
      }
      // cert-manager refuses these Certificates (its minimum duration is 1h, its minimum
      // renewBefore 5m): say so on the MySQL, where the user wrote them.
      constexpr int64_t kMinute = 60LL * 1000000000, kHour = 60 * kMinute;
      if (!c.duration.empty() && duration <= 0 && kube::parseGoDuration(c.duration)) {
        out.push_back({p + ".duration", fmt::format("Invalid value: {:?}: must be positive", c.duration)});
      } else if (duration > 0 && duration < kHour) {
        out.push_back({p + ".duration", fmt::format("Invalid value: {:?}: cert-manager needs at least 1h", c.duration)});
      }
      if (!c.renewBefore.empty() && renew <= 0 && kube::parseGoDuration(c.renewBefore)) {
        out.push_back({p + ".renewBefore", fmt::format("Invalid value: {:?}: must be positive", c.renewBefore)});
      } else if (renew > 0 && renew < 5 * kMinute) {
        out.push_back({p + ".renewBefore", fmt::format("Invalid value: {:?}: cert-manager needs at least 5m", c.renewBefore)});
      }
      if (duration > 0 && renew > 0 && renew >= duration) {
        out.push_back({p + ".renewBefore", fmt::format("Invalid value: {:?}: must be shorter than the duration {:?}", c.renewBefore, c.duration)});
      }
      if (!c.privateKeyEncoding.empty() && c.privateKeyEncoding != "PKCS1" && c.privateKeyEncoding != "PKCS8") {
        out.push_back({p + ".privateKey.encoding", fmt::format("Unsupported value: {:?}: supported values: \"PKCS1\", \"PKCS8\"", c.privateKeyEncoding)});
      }
    }
  }
  return out;
}

Json specToJson(const MySQL& my) {
  Json spec = Json::object();
  if (!my.version.empty()) spec["version"] = my.version;
  if (my.replicas) spec["replicas"] = my.replicas;
  if (!my.storageType.empty()) spec["storageType"] = my.storageType;
  if (!my.storage.is_null()) spec["storage"] = my.storage;
  if (!my.authSecretName.empty()) spec["authSecret"] = {{"name", my.authSecretName}};
  if (my.authSecretExternallyManaged) spec["authSecret"]["externallyManaged"] = true;
  if (my.healthChecker) {
    Json h = Json::object();
    if (my.healthChecker->periodSeconds) h["periodSeconds"] = my.healthChecker->periodSeconds;
    if (my.healthChecker->timeoutSeconds) h["timeoutSeconds"] = my.healthChecker->timeoutSeconds;
    if (my.healthChecker->failureThreshold) h["failureThreshold"] = my.healthChecker->failureThreshold;
    if (my.healthChecker->disableWriteCheck) h["disableWriteCheck"] = true;
    spec["healthChecker"] = h;
  }
  if (my.initScript || my.initialized) {
    Json init = Json::object();
    if (my.initScript && !my.initScript->configMap.empty()) init["script"]["configMap"] = {{"name", my.initScript->configMap}};
    if (my.initScript && !my.initScript->secret.empty()) init["script"]["secret"] = {{"secretName", my.initScript->secret}};
    if (my.initScript && !init.contains("script")) init["script"] = Json::object();
    if (my.initialized) init["initialized"] = true;
    spec["init"] = init;
  }
  if (my.requireSSL) spec["requireSSL"] = true;
  if (my.topology) {
    Json t = Json::object();
    if (!my.topology->mode.empty()) t["mode"] = my.topology->mode;
    if (!my.topology->groupName.empty()) t["group"]["name"] = my.topology->groupName;
    if (!my.topology->groupMode.empty()) t["group"]["mode"] = my.topology->groupMode;
    spec["topology"] = t;
  }
  if (!my.podTemplate.is_null()) spec["podTemplate"] = my.podTemplate;
  if (!my.serviceTemplates.is_null()) spec["serviceTemplates"] = my.serviceTemplates;
  if (my.monitor) spec["monitor"] = *my.monitor;
  if (!my.configSecretName.empty()) spec["configSecret"] = {{"name", my.configSecretName}};
  if (my.halted) spec["halted"] = true;
  if (my.deletionPolicy) {
    spec[my.apiVersion == "kubedb.com/v1alpha2" ? "terminationPolicy" : "deletionPolicy"] = toString(*my.deletionPolicy);
  }
  if (my.tls) {
    Json tls = Json::object();
    if (my.tls->issuerRef) {
      tls["issuerRef"] = {{"kind", my.tls->issuerRef->kind}, {"name", my.tls->issuerRef->name}};
      if (!my.tls->issuerRef->apiGroup.empty()) tls["issuerRef"]["apiGroup"] = my.tls->issuerRef->apiGroup;
    }
    Json certs = Json::array();
    for (const auto& c : my.tls->certificates) {
      Json j = {{"alias", c.alias}};
      if (!c.secretName.empty()) j["secretName"] = c.secretName;
      if (c.subject) {
        Json s = Json::object();
        auto put = [&](const char* k, const std::vector<std::string>& v) { if (!v.empty()) s[k] = v; };
        put("organizations", c.subject->organizations);
        put("countries", c.subject->countries);
        put("organizationalUnits", c.subject->organizationalUnits);
        put("localities", c.subject->localities);
        put("provinces", c.subject->provinces);
        put("streetAddresses", c.subject->streetAddresses);
        put("postalCodes", c.subject->postalCodes);
        if (!c.subject->serialNumber.empty()) s["serialNumber"] = c.subject->serialNumber;
        j["subject"] = s;
      }
      if (!c.duration.empty()) j["duration"] = c.duration;
      if (!c.renewBefore.empty()) j["renewBefore"] = c.renewBefore;
      if (!c.dnsNames.empty()) j["dnsNames"] = c.dnsNames;
      if (!c.ipAddresses.empty()) j["ipAddresses"] = c.ipAddresses;
      if (!c.uris.empty()) j["uris"] = c.uris;
      if (!c.emailAddresses.empty()) j["emailAddresses"] = c.emailAddresses;
      if (!c.privateKeyEncoding.empty()) j["privateKey"] = {{"encoding", c.privateKeyEncoding}};
      certs.push_back(j);
    }
    if (!certs.empty()) tls["certificates"] = certs;
    spec["tls"] = tls;
  }
  return spec;
}

}  // namespace mysqlop::api
