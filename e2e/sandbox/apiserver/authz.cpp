// Authorization from the stored RBAC objects, access reviews (kubectl auth can-i) and the
// TokenRequest API (kubectl create token) that mints ServiceAccount tokens.
#include <set>

#include <fmt/format.h>

#include "common/core/time_format.h"
#include "common/kube/object.h"
#include "e2e/sandbox/apiserver/server_impl.h"

namespace mysqlop::sandbox {
namespace {

bool has(const Json& list, const std::string& v) {
  if (!list.is_array()) return false;
  for (const auto& x : list) {
    if (x.is_string() && (x == "*" || x == v)) return true;
  }
  return false;
}

struct Attributes {
  bool resourceRequest = true;
  std::string verb, group, resource, subresource, name, ns, path;
};

bool ruleAllows(const Json& rule, const Attributes& a) {
  if (!has(rule.value("verbs", Json::array()), a.verb)) return false;
  if (!a.resourceRequest) {
    for (const auto& u : rule.value("nonResourceURLs", Json::array())) {
      if (!u.is_string()) continue;
      std::string p = u.get<std::string>();
      if (p == "*" || p == a.path) return true;
      if (!p.empty() && p.back() == '*' && a.path.rfind(p.substr(0, p.size() - 1), 0) == 0) return true;
    }
    return false;
  }
  if (!has(rule.value("apiGroups", Json::array()), a.group)) return false;
  std::string full = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  bool resourceOk = false;
  for (const auto& r : rule.value("resources", Json::array())) {
    if (!r.is_string()) continue;
    std::string s = r.get<std::string>();
    if (s == "*" || s == full || (a.subresource.empty() && s == a.resource) ||
        (!a.subresource.empty() && s == "*/" + a.subresource) ||
        (!a.subresource.empty() && s == a.resource + "/*")) {
      resourceOk = true;
    }
  }
  if (!resourceOk) return false;
  const Json& names = rule.value("resourceNames", Json::array());
  if (names.is_array() && !names.empty()) return !a.name.empty() && has(names, a.name);
  return true;
}

bool subjectMatches(const Json& subject, const UserInfo& u, const std::string& bindingNs) {
  std::string kind = subject.value("kind", "");
  std::string name = subject.value("name", "");
  if (kind == "User") return name == u.name;
  if (kind == "Group") return std::find(u.groups.begin(), u.groups.end(), name) != u.groups.end();
  if (kind == "ServiceAccount") {
    std::string ns = subject.value("namespace", bindingNs);
    return u.name == "system:serviceaccount:" + ns + ":" + name;
  }
  return false;
}

std::string denial(const UserInfo& u, const Attributes& a) {
  if (!a.resourceRequest) {
    return fmt::format("forbidden: User \"{}\" cannot {} path \"{}\"", u.name, a.verb, a.path);
  }
  std::string qualified = a.group.empty() ? a.resource : a.resource + "." + a.group;
  std::string full = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  std::string who = a.name.empty() ? qualified : fmt::format("{} \"{}\"", qualified, a.name);
  std::string where = a.ns.empty() ? "at the cluster scope" : fmt::format("in the namespace \"{}\"", a.ns);
  return fmt::format("{} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {}",
                     who, u.name, a.verb, full, a.group, where);
}

// Every rule that applies to `u` in namespace `ns` ("" : cluster-wide rules only): the
// ClusterRoleBindings', then the namespace's RoleBindings'.
std::vector<Json> rulesOf(ObjectStore::Txn& tx, const UserInfo& u, const std::string& ns) {
  std::vector<Json> out;
  auto roleRules = [&](const Json& roleRef, const std::string& bindingNs) {
    const std::string kind = roleRef.value("kind", ""), name = roleRef.value("name", "");
    ObjPtr role = kind == "ClusterRole" ? tx.get("rbac.authorization.k8s.io/clusterroles", "", name)
                                        : tx.get("rbac.authorization.k8s.io/roles", bindingNs, name);
    if (!role) return;
    for (const auto& rule : role->value("rules", Json::array())) out.push_back(rule);
  };
  auto collect = [&](const ObjPtr& binding) {
    const std::string bns = meta(*binding, "namespace");
    for (const auto& subject : binding->value("subjects", Json::array())) {
      if (subjectMatches(subject, u, bns)) {
        roleRules(binding->value("roleRef", Json::object()), bns);
        return;
      }
    }
  };
  for (const auto& b : tx.list("rbac.authorization.k8s.io/clusterrolebindings", "")) collect(b);
  if (!ns.empty()) {
    for (const auto& b : tx.list("rbac.authorization.k8s.io/rolebindings", ns)) collect(b);
  }
  return out;
}

std::vector<std::string> strings(const Json& list) {
  std::vector<std::string> out;
  for (const auto& v : list.is_array() ? list : Json::array()) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// kube's compact form of a one-permission rule: {APIGroups:["apps"], Resources:["statefulsets"], Verbs:["create"]}.
std::string compact(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{";
  for (const auto& [field, value] : fields) {
    if (value.empty() && field != "APIGroups") continue;
    out += fmt::format("{}{}:[\"{}\"]", out.size() > 1 ? ", " : "", field, value);
  }
  return out + "}";
}

// The permissions of `rules`, one by one, that none of `owner` grants (kube's breakdown: each
// group × resource × name × verb, each URL × verb), sorted and in kube's words.
std::vector<std::string> notCovered(const std::vector<Json>& owner, const Json& rules) {
  std::set<std::string> missing;
  auto covered = [&](const Attributes& a) {
    return std::any_of(owner.begin(), owner.end(), [&](const Json& rule) { return ruleAllows(rule, a); });
  };
  for (const auto& rule : rules.is_array() ? rules : Json::array()) {
    const auto verbs = strings(rule.value("verbs", Json::array()));
    for (const auto& url : strings(rule.value("nonResourceURLs", Json::array()))) {
      for (const auto& verb : verbs) {
        Attributes a;
        a.resourceRequest = false;
        a.verb = verb;
        a.path = url;
        if (!covered(a)) missing.insert(compact({{"NonResourceURLs", url}, {"Verbs", verb}}));
      }
    }
    auto names = strings(rule.value("resourceNames", Json::array()));
    if (names.empty()) names.push_back("");
    for (const auto& group : strings(rule.value("apiGroups", Json::array()))) {
      for (const auto& resource : strings(rule.value("resources", Json::array()))) {
        for (const auto& name : names) {
          for (const auto& verb : verbs) {
            Attributes a;
            a.verb = verb;
            a.group = group;
            auto slash = resource.find('/');
            a.resource = resource.substr(0, slash);
            a.subresource = slash == std::string::npos ? "" : resource.substr(slash + 1);
            a.name = name;
            if (!covered(a)) {
              missing.insert(compact({{"APIGroups", group}, {"Resources", resource}, {"ResourceNames", name}, {"Verbs", verb}}));
            }
          }
        }
      }
    }
  }
  return {missing.begin(), missing.end()};
}

std::string groupsOf(const UserInfo& u) {
  std::string out = "[";
  for (const auto& g : u.groups) out += fmt::format("{}\"{}\"", out.size() > 1 ? " " : "", g);
  return out + "]";
}

}  // namespace

std::optional<std::string> ApiServer::Impl::authorize(const UserInfo& u, const RequestInfo& ri) {
  auto tx = store.begin();
  return authorize(tx, u, ri);
}

ApiStatus ApiServer::Impl::preventEscalation(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx, const Json& obj) {
  if (c.user.isAdmin()) return {};
  const bool role = r.plural == "roles" || r.plural == "clusterroles";
  const bool binding = r.plural == "rolebindings" || r.plural == "clusterrolebindings";
  if (!role && !binding) return {};
  const std::string name = meta(obj, "name");
  const std::string ns = r.namespaced ? meta(obj, "namespace") : "";
  auto may = [&](const std::string& verb, const std::string& resource, const std::string& target, const std::string& where) {
    RequestInfo ri;
    ri.isResource = true;
    ri.verb = verb;
    ri.group = "rbac.authorization.k8s.io";
    ri.resource = resource;
    ri.name = target;
    ri.namespace_ = where;
    return !authorize(tx, c.user, ri).has_value();
  };
  Json granted;
  if (role) {
    // The `escalate` verb on the kind lets one write any rules.
    if (may("escalate", r.plural, name, ns)) return {};
    granted = obj.value("rules", Json::array());
  } else {
    const Json ref = obj.value("roleRef", Json::object());
    const std::string refKind = ref.value("kind", ""), refName = ref.value("name", "");
    const std::string refPlural = refKind == "ClusterRole" ? "clusterroles" : "roles";
    // The `bind` verb on the role named lets one bind it whatever it holds.
    if (may("bind", refPlural, refName, ns)) return {};
    ObjPtr target = refKind == "ClusterRole" ? tx.get("rbac.authorization.k8s.io/clusterroles", "", refName)
                                             : tx.get("rbac.authorization.k8s.io/roles", ns, refName);
    if (!target) {
      return errors::forbidden(fmt::format("{} \"{}\" is forbidden: {}.rbac.authorization.k8s.io \"{}\" not found",
                                           r.qualified(), name, refPlural, refName),
                               name, r.group, r.plural);
    }
    granted = target->value("rules", Json::array());
  }
  auto missing = notCovered(rulesOf(tx, c.user, ns), granted);
  if (missing.empty()) return {};
  std::string list;
  for (const auto& m : missing) list += "\n" + m;
  return errors::forbidden(
      fmt::format("{} \"{}\" is forbidden: user \"{}\" (groups={}) is attempting to grant RBAC permissions not currently held:{}",
                  r.qualified(), name, c.user.name, groupsOf(c.user), list),
      name, r.group, r.plural);
}

std::optional<std::string> ApiServer::Impl::authorize(ObjectStore::Txn& tx, const UserInfo& u, const RequestInfo& ri) {
  if (u.isAdmin()) return std::nullopt;
  Attributes a;
  a.resourceRequest = ri.isResource;
  a.verb = ri.verb;
  a.group = ri.group;
  a.resource = ri.resource;
  a.subresource = ri.subresource;
  a.name = ri.name;
  a.ns = ri.namespace_;
  a.path = ri.path;
  if (!ri.isResource) {
    // system:discovery and system:public-info-viewer: every authenticated user may discover.
    const std::string& p = ri.path;
    if (p == "/api" || p.rfind("/api/", 0) == 0 || p == "/apis" || p.rfind("/apis/", 0) == 0 ||
        p.rfind("/openapi", 0) == 0 || p == "/version" || p == "/swagger-2.0.0.pb-v1") {
      return std::nullopt;
    }
  }
  // system:basic-user: anyone may ask what they themselves may do.
  if (ri.isResource && ri.verb == "create" &&
      ((ri.group == "authorization.k8s.io" &&
        (ri.resource == "selfsubjectaccessreviews" || ri.resource == "selfsubjectrulesreviews")) ||
       (ri.group == "authentication.k8s.io" && ri.resource == "selfsubjectreviews"))) {
    return std::nullopt;
  }
  if (ri.group.empty() && ri.resource == "namespaces") a.ns = "";  // the Namespace is cluster-scoped
  auto rulesOf = [&](const Json& roleRef, const std::string& bindingNs) -> Json {
    std::string kind = roleRef.value("kind", "");
    std::string name = roleRef.value("name", "");
    ObjPtr role = kind == "ClusterRole" ? tx.get("rbac.authorization.k8s.io/clusterroles", "", name)
                                        : tx.get("rbac.authorization.k8s.io/roles", bindingNs, name);
    return role ? role->value("rules", Json::array()) : Json::array();
  };
  auto allowedBy = [&](const ObjPtr& binding) {
    std::string bns = meta(*binding, "namespace");
    bool subject = false;
    for (const auto& s : binding->value("subjects", Json::array())) subject = subject || subjectMatches(s, u, bns);
    if (!subject) return false;
    for (const auto& rule : rulesOf(binding->value("roleRef", Json::object()), bns)) {
      if (ruleAllows(rule, a)) return true;
    }
    return false;
  };
  for (const auto& b : tx.list("rbac.authorization.k8s.io/clusterrolebindings", "")) {
    if (allowedBy(b)) return std::nullopt;
  }
  if (!a.ns.empty()) {
    for (const auto& b : tx.list("rbac.authorization.k8s.io/rolebindings", a.ns)) {
      if (allowedBy(b)) return std::nullopt;
    }
  }
  return denial(u, a);
}

ApiResult<Reply> ApiServer::Impl::accessReview(Call& c, const ResourceInfo& r) {
  auto parsed = parseBody(c, r.kind);
  if (!parsed) return parsed.error();
  Json body = std::move(*parsed);
  if (!body.is_object()) return errors::badRequest("invalid review body");
  Json spec = body.value("spec", Json::object());
  Json status;
  if (r.plural == "selfsubjectaccessreviews" || r.plural == "subjectaccessreviews") {
    UserInfo who = c.user;
    if (r.plural == "subjectaccessreviews") {
      who.name = spec.value("user", "");
      who.groups.clear();
      for (const auto& g : spec.value("groups", Json::array())) who.groups.push_back(g);
    }
    RequestInfo ri;
    if (auto ra = spec.find("resourceAttributes"); ra != spec.end() && ra->is_object()) {
      ri.isResource = true;
      ri.verb = ra->value("verb", "");
      ri.group = ra->value("group", "");
      ri.resource = ra->value("resource", "");
      ri.subresource = ra->value("subresource", "");
      ri.name = ra->value("name", "");
      ri.namespace_ = ra->value("namespace", "");
    } else if (auto nra = spec.find("nonResourceAttributes"); nra != spec.end() && nra->is_object()) {
      ri.isResource = false;
      ri.verb = nra->value("verb", "");
      ri.path = nra->value("path", "");
    }
    auto denied = authorize(who, ri);
    status = {{"allowed", !denied.has_value()}};
    if (denied) status["reason"] = "no RBAC policy matched";
    else status["reason"] = who.isAdmin() ? "allowed as a member of system:masters" : "allowed by RBAC";
  } else if (r.plural == "selfsubjectreviews") {
    status = {{"userInfo", {{"username", c.user.name}, {"groups", c.user.groups}}}};
  } else if (r.plural == "tokenreviews") {
    httplib::Request fake;
    fake.headers.emplace("Authorization", "Bearer " + spec.value("token", ""));
    auto who = authenticate(fake);
    status = {{"authenticated", who.has_value()}};
    if (who) status["user"] = {{"username", who->name}, {"groups", who->groups}};
  }
  body["status"] = status;
  body["apiVersion"] = r.apiVersion(c.info.version);
  body["kind"] = r.kind;
  if (!body.contains("metadata")) body["metadata"] = {{"creationTimestamp", nullptr}};
  Reply rep;
  rep.code = 201;
  rep.body = body;
  return rep;
}

ApiResult<Reply> ApiServer::Impl::tokenRequest(Call& c) {
  const std::string& ns = c.info.namespace_;
  const std::string& sa = c.info.name;
  {
    auto tx = store.begin();
    if (!tx.get("/serviceaccounts", ns, sa)) {
      ResourcePtr r = registry.find("", "v1", "serviceaccounts");
      return errors::notFound(*r, sa);
    }
  }
  auto parsed = parseBody(c, "TokenRequest");
  if (!parsed) return parsed.error();
  Json body = std::move(*parsed);
  Json spec = body.contains("spec") && body["spec"].is_object() ? body["spec"] : Json::object();
  int64_t seconds = spec.contains("expirationSeconds") && spec["expirationSeconds"].is_number_integer()
                        ? spec["expirationSeconds"].get<int64_t>()
                        : 3600;
  if (seconds < 600) {
    return errors::invalid("TokenRequest", "authentication.k8s.io", sa,
                           {errors::invalidValue("spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")});
  }
  std::string token = fmt::format("sandbox-sa.{}.{}", ns, randomSuffix(40));
  auto expires = clock.now() + std::chrono::seconds(seconds);
  {
    std::lock_guard lock(tokenMu);
    tokens[token] = {UserInfo{fmt::format("system:serviceaccount:{}:{}", ns, sa),
                              {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}},
                     expires};
  }
  Json out = {{"kind", "TokenRequest"}, {"apiVersion", "authentication.k8s.io/v1"},
              {"metadata", {{"name", sa}, {"namespace", ns}, {"creationTimestamp", nullptr}}},
              {"spec", {{"audiences", spec.contains("audiences") && spec["audiences"].is_array()
                                          ? spec["audiences"]
                                          : Json::array({"https://kubernetes.default.svc"})},
                        {"expirationSeconds", seconds}, {"boundObjectRef", nullptr}}},
              {"status", {{"token", token}, {"expirationTimestamp", core::formatTime(expires)}}}};
  Reply rep;
  rep.code = 201;
  rep.body = out;
  return rep;
}

}  // namespace mysqlop::sandbox
