// API semantics of sandbox-apiserver, observed through common/client as an operator sees them.
// Each test case runs its own server on 127.0.0.1, port 0, with a temporary data directory.
#include "e2e/sandbox/apiserver/api_server.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <thread>

#include "common/client/rest_client.h"
#include "common/kube/object.h"

namespace mysqlop::sandbox {
namespace {

namespace fs = std::filesystem;
using client::RestClient;
using core::ErrorCode;
using kube::Json;

const kube::ResourceType kWidgets{{"example.com", "v1", "widgets"}, "Widget", true};

struct Sandbox {
  fs::path dir;
  std::unique_ptr<ApiServer> server;
  std::unique_ptr<RestClient> cli;

  explicit Sandbox(std::chrono::seconds bookmarkInterval = std::chrono::seconds{60}) {
    std::string tmpl = (fs::temp_directory_path() / "sandbox-apiserver-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
    server = std::make_unique<ApiServer>(
        ApiServerOptions{.dataDir = dir.string(), .bookmarkInterval = bookmarkInterval});
    auto st = server->start();
    REQUIRE(st);
    cli = connect(server->adminToken());
  }
  ~Sandbox() {
    cli.reset();
    server->stop();
    fs::remove_all(dir);
  }

  std::unique_ptr<RestClient> connect(const std::string& token) {
    client::RestConfig cfg;
    cfg.server = server->url();
    cfg.caPem = server->caCertPem();
    cfg.token = token;
    auto c = RestClient::create(cfg);
    REQUIRE(c);
    return std::move(*c);
  }

  Json must(core::Result<Json> r) {
    if (!r) FAIL(r.error().toString());
    return std::move(*r);
  }

  void installWidgets() {
    must(cli->create(kube::kCustomResourceDefinitions, "", Json::parse(R"({
      "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
      "metadata": {"name": "widgets.example.com"},
      "spec": {"group": "example.com", "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [{"name": "v1", "served": true, "storage": true,
          "subresources": {"status": {}},
          "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "required": ["size"], "properties": {
              "size": {"type": "integer", "minimum": 1},
              "color": {"type": "string", "enum": ["red", "blue"], "default": "red"}}},
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}})")));
  }

  static Json widget(const std::string& name, int size) {
    return {{"apiVersion", "example.com/v1"}, {"kind", "Widget"},
            {"metadata", {{"name", name}, {"namespace", "default"}}}, {"spec", {{"size", size}}}};
  }

  static Json configMap(const std::string& ns, const std::string& name, Json labels = Json::object()) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}}, {"data", {{"k", "v"}}}};
  }

  // Waits (up to 10 s) until `pred` holds.
  template <typename P>
  bool eventually(P pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  bool gone(const kube::ResourceType& rt, const std::string& ns, const std::string& name) {
    auto r = cli->get(rt, ns, name);
    return !r && r.error().is(ErrorCode::kNotFound);
  }
};

int64_t rvOf(const Json& o) { return std::stoll(kube::resourceVersion(o)); }

TEST_CASE("resourceVersion is one strictly increasing counter and stale writes and duplicates are 409",
          "[sandbox][apiserver]") {
  Sandbox s;
  Json a = s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "a")));
  Json b = s.must(s.cli->create(kube::kSecrets, "default",
                                {{"metadata", {{"name", "b"}}}, {"stringData", {{"x", "y"}}}}));
  CHECK(rvOf(b) > rvOf(a));
  auto list = s.must(s.cli->list(kube::kConfigMaps, ""));
  CHECK(std::stoll(list["metadata"]["resourceVersion"].get<std::string>()) >= rvOf(b));
  CHECK(b["data"]["x"] == "eQ==");  // stringData merged into data
  CHECK_FALSE(b.contains("stringData"));

  Json a2 = a;
  a2["data"]["k"] = "w";
  Json updated = s.must(s.cli->update(kube::kConfigMaps, a2));
  CHECK(rvOf(updated) > rvOf(b));
  auto stale = s.cli->update(kube::kConfigMaps, a2);  // still carries the old RV
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == ErrorCode::kConflict);
  CHECK_THAT(stale.error().message, Catch::Contains("the object has been modified"));

  auto dup = s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "a"));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == ErrorCode::kAlreadyExists);
  CHECK(dup.error().message == "configmaps \"a\" already exists");

  auto missingNs = s.cli->create(kube::kConfigMaps, "nowhere", Sandbox::configMap("nowhere", "x"));
  REQUIRE_FALSE(missingNs);
  CHECK(missingNs.error().code == ErrorCode::kNotFound);
  CHECK(missingNs.error().message == "namespaces \"nowhere\" not found");
}

TEST_CASE("1,000 writes watched from a mid-point RV arrive with no gap and no duplicate",
          "[sandbox][apiserver][watch]") {
  Sandbox s;
  Json cm = s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "counter")));
  std::vector<int64_t> rvs;
  int64_t mid = 0;
  for (int i = 0; i < 1000; ++i) {
    cm["data"]["n"] = std::to_string(i);
    cm = s.must(s.cli->update(kube::kConfigMaps, cm));
    rvs.push_back(rvOf(cm));
    if (i == 499) mid = rvOf(cm);
  }
  std::vector<int64_t> seen;
  auto st = s.cli->watch(kube::kConfigMaps, "default", {.resourceVersion = std::to_string(mid), .timeoutSeconds = 20},
                         [&](kube::WatchEvent&& e) {
                           REQUIRE(e.type == kube::WatchEventType::kModified);
                           seen.push_back(rvOf(e.object));
                           return seen.size() < 500;
                         });
  REQUIRE(st);
  std::vector<int64_t> want(rvs.begin() + 500, rvs.end());
  CHECK(seen == want);
}

TEST_CASE("after compaction a watch from an old RV gets an ERROR 410", "[sandbox][apiserver][watch]") {
  Sandbox s;
  Json cm = s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "c")));
  std::string old = kube::resourceVersion(cm);
  cm["data"]["k"] = "2";
  s.must(s.cli->update(kube::kConfigMaps, cm));
  s.must(s.cli->execute({"POST", "/__sandbox/compact", "application/json", "{}", "create", ""}));
  auto st = s.cli->watch(kube::kConfigMaps, "default", {.resourceVersion = old, .timeoutSeconds = 5},
                         [](kube::WatchEvent&&) { return true; });
  REQUIRE_FALSE(st);
  CHECK(st.error().code == ErrorCode::kGone);
  CHECK_THAT(st.error().message, Catch::Contains("too old resource version"));
  // A list at that exact RV is gone too; a fresh list works.
  auto exact = s.cli->list(kube::kConfigMaps, "default", {.resourceVersion = old, .resourceVersionMatch = "Exact"});
  REQUIRE_FALSE(exact);
  CHECK(exact.error().code == ErrorCode::kGone);
  CHECK(s.cli->list(kube::kConfigMaps, "default"));
}

TEST_CASE("watches send bookmarks and the initial-events-end marker", "[sandbox][apiserver][watch]") {
  Sandbox s(std::chrono::seconds{1});
  s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "one")));
  std::vector<std::string> got;
  std::string bookmarkRv;
  auto st = s.cli->watch(kube::kConfigMaps, "default",
                         {.resourceVersionMatch = "NotOlderThan", .timeoutSeconds = 10,
                          .allowWatchBookmarks = true, .sendInitialEvents = true},
                         [&](kube::WatchEvent&& e) {
                           std::string t(kube::watchEventTypeName(e.type));
                           if (e.type == kube::WatchEventType::kBookmark) {
                             if (kube::annotation(e.object, "k8s.io/initial-events-end")) t += "(initial-end)";
                             bookmarkRv = kube::resourceVersion(e.object);
                           } else {
                             t += ":" + kube::name(e.object);
                           }
                           got.push_back(t);
                           return got.size() < 4;
                         });
  REQUIRE(st);
  REQUIRE(got.size() == 4);
  // kube-root-ca.crt is in every namespace, then ours, then the marker, then a periodic bookmark.
  CHECK(got[0] == "ADDED:kube-root-ca.crt");
  CHECK(got[1] == "ADDED:one");
  CHECK(got[2] == "BOOKMARK(initial-end)");
  CHECK(got[3] == "BOOKMARK");
  CHECK_FALSE(bookmarkRv.empty());
}

TEST_CASE("watches turn selector transitions into ADDED and DELETED", "[sandbox][apiserver][watch]") {
  Sandbox s;
  Json cm = s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "t", {{"app", "x"}})));
  std::string from = kube::resourceVersion(cm);
  cm["metadata"]["labels"]["app"] = "y";  // leaves the selection
  cm = s.must(s.cli->update(kube::kConfigMaps, cm));
  cm["metadata"]["labels"]["app"] = "x";  // enters it again
  cm = s.must(s.cli->update(kube::kConfigMaps, cm));
  s.must(s.cli->remove(kube::kConfigMaps, "default", "t"));
  std::vector<std::string> types;
  auto st = s.cli->watch(kube::kConfigMaps, "default",
                         {.labelSelector = "app=x", .resourceVersion = from, .timeoutSeconds = 5},
                         [&](kube::WatchEvent&& e) {
                           types.emplace_back(kube::watchEventTypeName(e.type));
                           return types.size() < 3;
                         });
  REQUIRE(st);
  CHECK(types == std::vector<std::string>{"DELETED", "ADDED", "DELETED"});
}

TEST_CASE("status writes never change spec, spec writes never change status, generation follows spec",
          "[sandbox][apiserver]") {
  Sandbox s;
  s.installWidgets();
  Json w = s.must(s.cli->create(kWidgets, "default", Sandbox::widget("w", 2)));
  CHECK(kube::generation(w) == 1);
  CHECK(w["spec"]["color"] == "red");  // schema default applied

  Json st = w;
  st["status"] = {{"phase", "Ready"}, {"undeclared", {{"a", 1}}}};
  st["spec"]["size"] = 99;
  Json afterStatus = s.must(s.cli->updateStatus(kWidgets, st));
  CHECK(afterStatus["status"]["phase"] == "Ready");
  // Pruned as a real API server prunes: the schema declares no status.undeclared.
  CHECK_FALSE(afterStatus["status"].contains("undeclared"));
  CHECK(afterStatus["spec"]["size"] == 2);
  CHECK(kube::generation(afterStatus) == 1);

  Json sp = afterStatus;
  sp["spec"]["size"] = 3;
  sp["status"]["phase"] = "Broken";
  Json afterSpec = s.must(s.cli->update(kWidgets, sp));
  CHECK(afterSpec["spec"]["size"] == 3);
  CHECK(afterSpec["status"]["phase"] == "Ready");
  CHECK(kube::generation(afterSpec) == 2);

  Json md = afterSpec;
  md["metadata"]["labels"] = {{"a", "b"}};
  CHECK(kube::generation(s.must(s.cli->update(kWidgets, md))) == 2);

  // A custom resource PUT must carry a resourceVersion.
  Json noRv = afterSpec;
  noRv["metadata"].erase("resourceVersion");
  auto r = s.cli->update(kWidgets, noRv);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK_THAT(r.error().message, Catch::Contains("metadata.resourceVersion"));
}

TEST_CASE("custom resources: unknown fields pruned or refused, schema errors are 422 with causes",
          "[sandbox][apiserver]") {
  Sandbox s;
  s.installWidgets();
  Json w = Sandbox::widget("p", 2);
  w["spec"]["shape"] = "round";
  auto strict = s.cli->create(kWidgets, "default", w, {.fieldValidation = "Strict"});
  REQUIRE_FALSE(strict);
  CHECK(strict.error().code == ErrorCode::kInvalid);  // 400 BadRequest
  CHECK(strict.error().httpStatus == 400);
  CHECK_THAT(strict.error().message, Catch::Contains(".spec.shape: field not declared in schema"));

  Json pruned = s.must(s.cli->create(kWidgets, "default", w, {.fieldValidation = "Ignore"}));
  CHECK_FALSE(pruned["spec"].contains("shape"));

  Json bad = Sandbox::widget("bad", 0);
  bad["spec"]["color"] = "green";
  auto invalid = s.cli->create(kWidgets, "default", bad);
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().httpStatus == 422);
  CHECK_THAT(invalid.error().message, Catch::Contains("Widget.example.com \"bad\" is invalid"));
  CHECK_THAT(invalid.error().message, Catch::Contains("spec.size"));
  CHECK_THAT(invalid.error().message, Catch::Contains("spec.color: Unsupported value: \"green\""));

  Json missing = Sandbox::widget("m", 1);
  missing["spec"].erase("size");
  auto req = s.cli->create(kWidgets, "default", missing);
  REQUIRE_FALSE(req);
  CHECK_THAT(req.error().message, Catch::Contains("spec.size: Required value"));
}

TEST_CASE("garbage collection: Background, Foreground and Orphan", "[sandbox][apiserver][gc]") {
  Sandbox s;
  auto ownedBy = [&](const std::string& name, const Json& owner, bool block) {
    Json cm = Sandbox::configMap("default", name);
    cm["metadata"]["ownerReferences"] = Json::array({kube::makeOwnerReference(owner, true, block).toJson()});
    return s.must(s.cli->create(kube::kConfigMaps, "default", cm));
  };
  SECTION("Background: the owner goes at once, dependents after") {
    Json owner = s.must(s.cli->create(kube::kSecrets, "default", {{"metadata", {{"name", "owner"}}}}));
    ownedBy("dep1", owner, false);
    ownedBy("dep2", owner, true);
    s.must(s.cli->remove(kube::kSecrets, "default", "owner", {.propagationPolicy = "Background"}));
    CHECK(s.gone(kube::kSecrets, "default", "owner"));
    CHECK(s.eventually([&] { return s.gone(kube::kConfigMaps, "default", "dep1") && s.gone(kube::kConfigMaps, "default", "dep2"); }));
  }
  SECTION("Foreground: dependents first, the owner waits on blockOwnerDeletion") {
    Json owner = s.must(s.cli->create(kube::kSecrets, "default", {{"metadata", {{"name", "owner"}}}}));
    Json dep = ownedBy("dep", owner, true);
    // The dependent holds a finalizer, so the owner must wait for it.
    dep["metadata"]["finalizers"] = Json::array({"test/hold"});
    dep = s.must(s.cli->update(kube::kConfigMaps, dep));
    Json deleting = s.must(s.cli->remove(kube::kSecrets, "default", "owner", {.propagationPolicy = "Foreground"}));
    CHECK(kube::hasFinalizer(deleting, "foregroundDeletion"));
    CHECK(s.eventually([&] {
      auto d = s.cli->get(kube::kConfigMaps, "default", "dep");
      return d && kube::isBeingDeleted(*d);
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK_FALSE(s.gone(kube::kSecrets, "default", "owner"));
    s.must(s.cli->patch(kube::kConfigMaps, "default", "dep", kube::PatchType::kMerge,
                        {{"metadata", {{"finalizers", nullptr}}}}));
    CHECK(s.eventually([&] { return s.gone(kube::kSecrets, "default", "owner"); }));
    CHECK(s.gone(kube::kConfigMaps, "default", "dep"));
  }
  SECTION("a dependent naming an owner that is not there is collected soon, not at the next sweep") {
    Json owner = s.must(s.cli->create(kube::kSecrets, "default", {{"metadata", {{"name", "owner"}}}}));
    s.must(s.cli->remove(kube::kSecrets, "default", "owner", {}));
    ownedBy("stray", owner, false);  // the owner's uid, after it went
    bool gone = false;
    for (int i = 0; i < 40 && !gone; ++i) {  // 2 s: the safety sweep comes every 10 s
      gone = s.gone(kube::kConfigMaps, "default", "stray");
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(gone);
  }
  SECTION("Orphan: dependents survive without the reference") {
    Json owner = s.must(s.cli->create(kube::kSecrets, "default", {{"metadata", {{"name", "owner"}}}}));
    ownedBy("dep", owner, true);
    s.must(s.cli->remove(kube::kSecrets, "default", "owner", {.propagationPolicy = "Orphan"}));
    CHECK(s.eventually([&] { return s.gone(kube::kSecrets, "default", "owner"); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto dep = s.cli->get(kube::kConfigMaps, "default", "dep");
    REQUIRE(dep);
    CHECK(kube::ownerReferences(*dep).empty());
  }
}

TEST_CASE("deleting a namespace removes its contents, then the namespace", "[sandbox][apiserver][gc]") {
  Sandbox s;
  s.must(s.cli->create(kube::kNamespaces, "", {{"metadata", {{"name", "doomed"}}}}));
  s.must(s.cli->create(kube::kConfigMaps, "doomed", Sandbox::configMap("doomed", "a")));
  Json held = Sandbox::configMap("doomed", "held");
  held["metadata"]["finalizers"] = Json::array({"test/hold"});
  s.must(s.cli->create(kube::kConfigMaps, "doomed", held));
  Json ns = s.must(s.cli->remove(kube::kNamespaces, "", "doomed"));
  CHECK(ns["status"]["phase"] == "Terminating");
  auto refused = s.cli->create(kube::kConfigMaps, "doomed", Sandbox::configMap("doomed", "late"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kForbidden);
  CHECK_THAT(refused.error().message, Catch::Contains("because it is being terminated"));
  CHECK(s.eventually([&] { return s.gone(kube::kConfigMaps, "doomed", "a"); }));
  CHECK_FALSE(s.gone(kube::kNamespaces, "", "doomed"));  // the held object keeps it
  s.must(s.cli->patch(kube::kConfigMaps, "doomed", "held", kube::PatchType::kMerge,
                      {{"metadata", {{"finalizers", nullptr}}}}));
  CHECK(s.eventually([&] { return s.gone(kube::kNamespaces, "", "doomed"); }));
}

TEST_CASE("selectors and pagination return exactly the matching set", "[sandbox][apiserver]") {
  Sandbox s;
  std::set<std::string> want;
  for (int i = 0; i < 23; ++i) {
    std::string name = "cm-" + std::to_string(i);
    Json labels = {{"tier", i % 3 == 0 ? "db" : "web"}, {"n", std::to_string(i)}};
    if (i % 2) labels["odd"] = "yes";
    s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", name, labels)));
    if (i % 3 != 0 && !(i % 2)) want.insert(name);
  }
  // Every page comes from one snapshot even when objects change between pages.
  auto first = s.must(s.cli->list(kube::kConfigMaps, "default", {.labelSelector = "tier in (web),!odd", .limit = 3}));
  REQUIRE(first["items"].size() == 3);
  REQUIRE(first["metadata"].contains("continue"));
  CHECK(first["metadata"]["remainingItemCount"] == static_cast<int64_t>(want.size()) - 3);
  s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "cm-late", {{"tier", "web"}})));
  std::set<std::string> got;
  for (auto& i : first["items"]) got.insert(kube::name(i));
  kube::ListOptions o{.labelSelector = "tier in (web),!odd", .limit = 3,
                      .continueToken = first["metadata"]["continue"].get<std::string>()};
  while (true) {
    auto page = s.must(s.cli->list(kube::kConfigMaps, "default", o));
    for (auto& i : page["items"]) got.insert(kube::name(i));
    if (!page["metadata"].contains("continue")) break;
    o.continueToken = page["metadata"]["continue"].get<std::string>();
  }
  CHECK(got == want);

  auto byField = s.must(s.cli->list(kube::kConfigMaps, "default", {.fieldSelector = "metadata.name=cm-4"}));
  REQUIRE(byField["items"].size() == 1);
  auto badSel = s.cli->list(kube::kConfigMaps, "default", {.labelSelector = "tier in (web"});
  REQUIRE_FALSE(badSel);
  CHECK(badSel.error().httpStatus == 400);
  auto badField = s.cli->list(kube::kConfigMaps, "default", {.fieldSelector = "data.k=v"});
  REQUIRE_FALSE(badField);
  CHECK(badField.error().message == "field label not supported: data.k");

  s.must(s.cli->execute({"POST", "/__sandbox/compact", "application/json", "{}", "create", ""}));
  auto expired = s.cli->list(kube::kConfigMaps, "default", {.limit = 3, .continueToken = first["metadata"]["continue"].get<std::string>()});
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == ErrorCode::kGone);
}

TEST_CASE("RBAC allows exactly what a Role grants and denies the rest in kube-apiserver words",
          "[sandbox][apiserver][rbac]") {
  Sandbox s;
  s.must(s.cli->create(kube::kServiceAccounts, "default", {{"metadata", {{"name", "op"}}}}));
  Json tr = s.must(s.cli->execute({"POST", "/api/v1/namespaces/default/serviceaccounts/op/token",
                                   "application/json", R"({"spec":{"expirationSeconds":3600}})", "create", ""}));
  std::string token = tr["status"]["token"];
  REQUIRE_FALSE(token.empty());
  s.must(s.cli->create(kube::kRoles, "default", Json::parse(R"({"metadata":{"name":"r"},"rules":[
      {"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]},
      {"apiGroups":["example.com"],"resources":["widgets/status"],"verbs":["update"]},
      {"apiGroups":[""],"resources":["secrets"],"verbs":["get"],"resourceNames":["allowed"]}]})")));
  s.must(s.cli->create(kube::kRoleBindings, "default", Json::parse(R"({"metadata":{"name":"rb"},
      "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"},
      "subjects":[{"kind":"ServiceAccount","name":"op","namespace":"default"}]})")));
  s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "cm")));
  s.must(s.cli->create(kube::kSecrets, "default", {{"metadata", {{"name", "allowed"}}}}));
  s.must(s.cli->create(kube::kSecrets, "default", {{"metadata", {{"name", "other"}}}}));

  auto op = s.connect(token);
  CHECK(op->get(kube::kConfigMaps, "default", "cm"));
  CHECK(op->list(kube::kConfigMaps, "default"));
  CHECK(op->get(kube::kSecrets, "default", "allowed"));
  auto denied = op->get(kube::kSecrets, "default", "other");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().code == ErrorCode::kForbidden);
  CHECK(denied.error().message ==
        "secrets \"other\" is forbidden: User \"system:serviceaccount:default:op\" cannot get resource "
        "\"secrets\" in API group \"\" in the namespace \"default\"");
  auto write = op->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "new"));
  REQUIRE_FALSE(write);
  CHECK(write.error().code == ErrorCode::kForbidden);
  auto other = op->list(kube::kConfigMaps, "kube-system");
  REQUIRE_FALSE(other);
  CHECK_THAT(other.error().message, Catch::Contains("in the namespace \"kube-system\""));
  auto cluster = op->list(kube::kNamespaces, "");
  REQUIRE_FALSE(cluster);
  CHECK(cluster.error().message ==
        "namespaces is forbidden: User \"system:serviceaccount:default:op\" cannot list resource "
        "\"namespaces\" in API group \"\" at the cluster scope");

  auto anonymous = s.connect("");
  auto unauth = anonymous->list(kube::kConfigMaps, "default");
  REQUIRE_FALSE(unauth);
  CHECK(unauth.error().code == ErrorCode::kUnauthorized);
  auto wrong = s.connect("not-a-token");
  CHECK(wrong->list(kube::kConfigMaps, "default").error().code == ErrorCode::kUnauthorized);
}

TEST_CASE("Leases round-trip MicroTime and elect a leader by optimistic concurrency",
          "[sandbox][apiserver]") {
  Sandbox s;
  Json lease = {{"metadata", {{"name", "mysqlop"}}},
                {"spec", {{"holderIdentity", "a"}, {"leaseDurationSeconds", 15},
                          {"acquireTime", "2026-11-28T12:00:00.123456Z"}, {"renewTime", "2026-11-28T12:00:01.654321Z"}}}};
  Json a = s.must(s.cli->create(kube::kLeases, "default", lease));
  CHECK(a["spec"]["renewTime"] == "2026-11-28T12:00:01.654321Z");
  Json b = a;
  a["spec"]["holderIdentity"] = "a";
  a["spec"]["renewTime"] = "2026-11-28T12:00:03.000001Z";
  s.must(s.cli->update(kube::kLeases, a));
  b["spec"]["holderIdentity"] = "b";
  auto lost = s.cli->update(kube::kLeases, b);
  REQUIRE_FALSE(lost);
  CHECK(lost.error().code == ErrorCode::kConflict);
  CHECK(s.must(s.cli->get(kube::kLeases, "default", "mysqlop"))["spec"]["renewTime"] == "2026-11-28T12:00:03.000001Z");
}

TEST_CASE("built-in objects drop null fields, and a StatefulSet's rollingUpdate goes with RollingUpdate",
          "[sandbox][apiserver]") {
  Sandbox s;
  Json sts = Json::parse(R"({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"},
      "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
               "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
               "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})");
  Json made = s.must(s.cli->create(kube::kStatefulSets, "default", sts));
  // OnDelete with the old rollingUpdate kept is refused in kube-apiserver's words...
  Json kept = made;
  kept["spec"]["updateStrategy"]["type"] = "OnDelete";
  auto refused = s.cli->update(kube::kStatefulSets, kept);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().httpStatus == 422);
  CHECK_THAT(refused.error().message, Catch::Contains("spec.updateStrategy.rollingUpdate: Invalid value"));
  CHECK_THAT(refused.error().message, Catch::Contains("only allowed for updateStrategy 'RollingUpdate'"));
  // ...and with rollingUpdate: null (what an update that clears it sends) the field goes.
  Json cleared = made;
  cleared["spec"]["updateStrategy"] = {{"type", "OnDelete"}, {"rollingUpdate", nullptr}};
  Json after = s.must(s.cli->update(kube::kStatefulSets, cleared));
  CHECK(after["spec"]["updateStrategy"] == Json{{"type", "OnDelete"}});
}

TEST_CASE("dryRun=All validates and answers but stores nothing", "[sandbox][apiserver]") {
  Sandbox s;
  auto before = s.must(s.cli->list(kube::kConfigMaps, "default"));
  Json dry = s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "dry"), {.dryRun = true}));
  CHECK(kube::name(dry) == "dry");
  CHECK(s.gone(kube::kConfigMaps, "default", "dry"));
  Json cm = s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "real")));
  Json changed = cm;
  changed["data"]["k"] = "dry";
  s.must(s.cli->update(kube::kConfigMaps, changed, {.dryRun = true}));
  s.must(s.cli->remove(kube::kConfigMaps, "default", "real", {.dryRun = true}));
  Json now = s.must(s.cli->get(kube::kConfigMaps, "default", "real"));
  CHECK(now["data"]["k"] == "v");
  CHECK(kube::resourceVersion(now) == kube::resourceVersion(cm));
  // Invalid input is still refused under dryRun.
  auto bad = s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "Bad_Name"), {.dryRun = true});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().httpStatus == 422);
}

TEST_CASE("test hooks: faults with Retry-After, counters, clock, load and reset", "[sandbox][apiserver][hooks]") {
  Sandbox s;
  auto hook = [&](const std::string& method, const std::string& path, const Json& body) {
    bool get = method == "GET";  // a GET carries no body
    return s.must(s.cli->execute({method, "/__sandbox/" + path, get ? "" : "application/json",
                                  get ? "" : body.dump(), get ? "get" : "create", ""}));
  };
  hook("POST", "faults", {{"verb", "list"}, {"path", "/api/v1/namespaces/default/configmaps"},
                          {"code", 429}, {"retryAfter", 3}, {"count", 2}});
  for (int i = 0; i < 2; ++i) {
    auto r = s.cli->list(kube::kConfigMaps, "default");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kTooManyRequests);
    REQUIRE(r.error().retryAfter);
    CHECK(*r.error().retryAfter == std::chrono::seconds{3});
  }
  CHECK(s.cli->list(kube::kConfigMaps, "default"));  // the fault is used up

  Json counters = hook("GET", "counters", Json::object());
  bool found = false;
  for (const auto& c : counters["counters"]) {
    if (c["verb"] == "list" && c["resource"] == "configmaps" && c["user"] == "sandbox-admin" &&
        c["userAgent"] == "mysqlop") {
      CHECK(c["count"] == 3);
      found = true;
    }
  }
  CHECK(found);

  Json before = hook("GET", "clock", Json::object());
  Json after = hook("POST", "clock", {{"advanceSeconds", 3600}});
  CHECK(after["now"].get<std::string>() > before["now"].get<std::string>());
  Json created = s.must(s.cli->create(kube::kConfigMaps, "default", Sandbox::configMap("default", "late")));
  CHECK(created["metadata"]["creationTimestamp"].get<std::string>().substr(0, 13) ==
        after["now"].get<std::string>().substr(0, 13));

  std::string yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loaded, namespace: default}\ndata: {a: b}\n"
                     "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: seeded}\n";
  s.must(s.cli->execute({"POST", "/__sandbox/load", "application/yaml", yaml, "create", ""}));
  CHECK(s.must(s.cli->get(kube::kConfigMaps, "default", "loaded"))["data"]["a"] == "b");
  CHECK(s.cli->get(kube::kNamespaces, "", "seeded"));

  hook("POST", "reset", Json::object());
  CHECK(s.gone(kube::kConfigMaps, "default", "loaded"));
  CHECK(s.gone(kube::kNamespaces, "", "seeded"));
  CHECK(s.cli->get(kube::kNamespaces, "", "kube-system"));

  auto sa = s.must(s.cli->create(kube::kServiceAccounts, "default", {{"metadata", {{"name", "nobody"}}}}));
  Json tr = s.must(s.cli->execute({"POST", "/api/v1/namespaces/default/serviceaccounts/nobody/token",
                                   "application/json", "{}", "create", ""}));
  auto user = s.connect(tr["status"]["token"]);
  auto denied = user->execute({"POST", "/__sandbox/reset", "application/json", "{}", "create", ""});
  REQUIRE_FALSE(denied);
  CHECK(denied.error().code == ErrorCode::kForbidden);
}

TEST_CASE("core and events.k8s.io Events are two views of one store", "[sandbox][apiserver]") {
  Sandbox s;
  const kube::ResourceType kEventsV1{{"events.k8s.io", "v1", "events"}, "Event", true};
  s.must(s.cli->create(kube::kEvents, "default", Json::parse(R"({"metadata": {"name": "e1"},
      "involvedObject": {"kind": "ConfigMap", "name": "cm", "namespace": "default"},
      "reason": "Made", "message": "made it", "type": "Normal", "count": 2,
      "source": {"component": "test"}, "reportingComponent": "test"})")));
  Json v1 = s.must(s.cli->get(kEventsV1, "default", "e1"));
  CHECK(v1["apiVersion"] == "events.k8s.io/v1");
  CHECK(v1["regarding"]["name"] == "cm");
  CHECK(v1["note"] == "made it");
  CHECK(v1["deprecatedCount"] == 2);
  CHECK(v1["reportingController"] == "test");
  CHECK_FALSE(v1.contains("message"));
  s.must(s.cli->create(kEventsV1, "default", Json::parse(R"({"metadata": {"name": "e2"},
      "regarding": {"kind": "Secret", "name": "s", "namespace": "default"}, "reason": "Seen", "note": "seen it",
      "type": "Warning", "action": "Check", "eventTime": "2026-11-28T12:00:00.000000Z",
      "reportingController": "ctl", "reportingInstance": "ctl-1"})")));
  Json core = s.must(s.cli->get(kube::kEvents, "default", "e2"));
  CHECK(core["apiVersion"] == "v1");
  CHECK(core["involvedObject"]["name"] == "s");
  CHECK(core["message"] == "seen it");
  CHECK(core["reportingComponent"] == "ctl");
  auto byField = s.must(s.cli->list(kube::kEvents, "default", {.fieldSelector = "involvedObject.name=s"}));
  REQUIRE(byField["items"].size() == 1);
  CHECK(kube::name(byField["items"][0]) == "e2");
}

TEST_CASE("the kube-system UID is stable for a sandbox's data directory", "[sandbox][apiserver]") {
  std::string tmpl = (fs::temp_directory_path() / "sandbox-uid-XXXXXX").string();
  fs::path dir = mkdtemp(tmpl.data());
  std::string first, second;
  for (std::string* out : {&first, &second}) {
    ApiServer srv(ApiServerOptions{.dataDir = dir.string()});
    REQUIRE(srv.start());
    {
      client::RestConfig cfg{.server = srv.url(), .caPem = srv.caCertPem(), .token = srv.adminToken()};
      auto cli = RestClient::create(cfg);
      REQUIRE(cli);
      auto ns = (*cli)->get(kube::kNamespaces, "", "kube-system");
      REQUIRE(ns);
      *out = kube::uid(*ns);
    }  // the client's connections close before the server stops
    srv.stop();
  }
  CHECK_FALSE(first.empty());
  CHECK(first == second);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mysqlop::sandbox
