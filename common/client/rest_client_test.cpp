// RestClient against an in-process HTTPS server answering as kube-apiserver does.
#include "common/client/rest_client.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "common/testing/test_pki.h"
#include "common/testing/tls_server.h"

namespace mysqlop::client {
namespace {

using core::ErrorCode;

const testing::TestPki& pki() {
  static testing::TestPki p;
  return p;
}

std::string statusBody(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                        {"status", "Failure"}, {"message", message}, {"reason", reason},
                        {"code", code}}
      .dump();
}

struct Fixture {
  testing::TlsServer srv{pki().issue({.commonName = "apiserver", .ipAddresses = {"127.0.0.1"},
                                      .serverAuth = true})};
  std::mutex mu;
  std::vector<std::string> seen;  // "METHOD path?query content-type"
  std::vector<RequestRecord> records;
  std::unique_ptr<RestClient> cli;

  void note(const httplib::Request& req) {
    std::lock_guard lock(mu);
    std::string q;
    for (auto& [k, v] : req.params) q += (q.empty() ? "?" : "&") + k + "=" + v;
    seen.push_back(req.method + " " + req.path + q + " " + req.get_header_value("Content-Type"));
  }

  void start() {
    srv.start();
    RestConfig cfg;
    cfg.server = srv.url();
    cfg.caPem = pki().ca().certPem;
    auto c = RestClient::create(cfg);
    REQUIRE(c);
    cli = std::move(*c);
    cli->setRequestHook([this](const RequestRecord& r) {
      std::lock_guard lock(mu);
      records.push_back(r);
    });
  }
};

TEST_CASE("HTTP errors map to codes: 404 409 410 422 and 429 with Retry-After", "[client][rest]") {
  Fixture f;
  auto& s = f.srv.server();
  s.Get("/api/v1/namespaces/demo/secrets/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(statusBody(404, "NotFound", "secrets \"missing\" not found"), "application/json");
  });
  s.Post("/api/v1/namespaces/demo/secrets", [](const httplib::Request&, httplib::Response& res) {
    res.status = 409;
    res.set_content(statusBody(409, "AlreadyExists", "secrets \"my-auth\" already exists"), "application/json");
  });
  s.Put("/apis/kubedb.com/v1/namespaces/demo/mysqls/my", [](const httplib::Request&, httplib::Response& res) {
    res.status = 409;
    res.set_content(statusBody(409, "Conflict", "Operation cannot be fulfilled on mysqls.kubedb.com \"my\": "
                                                "the object has been modified; please apply your changes "
                                                "to the latest version and try again"),
                    "application/json");
  });
  s.Get("/api/v1/secrets", [](const httplib::Request&, httplib::Response& res) {
    res.status = 410;
    res.set_content(statusBody(410, "Expired", "The provided continue parameter is too old"), "application/json");
  });
  s.Post("/apis/kubedb.com/v1/namespaces/demo/mysqls", [](const httplib::Request&, httplib::Response& res) {
    res.status = 422;
    res.set_content(statusBody(422, "Invalid", "MySQL.kubedb.com \"my\" is invalid: spec.version: Required value"),
                    "application/json");
  });
  s.Get("/api/v1/namespaces/demo/configmaps/busy", [](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "4");
    res.set_content(statusBody(429, "TooManyRequests", "too many requests"), "application/json");
  });
  f.start();

  const kube::ResourceType mysqls{{"kubedb.com", "v1", "mysqls"}, "MySQL", true};
  nlohmann::json my = {{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"},
                       {"metadata", {{"name", "my"}, {"namespace", "demo"}, {"resourceVersion", "1"}}}};

  auto nf = f.cli->get(kube::kSecrets, "demo", "missing");
  REQUIRE_FALSE(nf);
  CHECK(nf.error().code == ErrorCode::kNotFound);
  CHECK(nf.error().message == "secrets \"missing\" not found");

  auto exists = f.cli->create(kube::kSecrets, "demo", {{"metadata", {{"name", "my-auth"}}}});
  REQUIRE_FALSE(exists);
  CHECK(exists.error().code == ErrorCode::kAlreadyExists);

  auto conflict = f.cli->update(mysqls, my);
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == ErrorCode::kConflict);

  auto gone = f.cli->list(kube::kSecrets, "", {.continueToken = "old"});
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == ErrorCode::kGone);

  auto invalid = f.cli->create(mysqls, "demo", my);
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().code == ErrorCode::kInvalid);
  CHECK_THAT(invalid.error().message, Catch::Contains("spec.version: Required value"));

  auto busy = f.cli->get(kube::kConfigMaps, "demo", "busy");
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == ErrorCode::kTooManyRequests);
  REQUIRE(busy.error().retryAfter);
  CHECK(*busy.error().retryAfter == std::chrono::seconds{4});

  // The hook saw every call with its verb, resource and code.
  std::lock_guard lock(f.mu);
  REQUIRE(f.records.size() == 6);
  CHECK(f.records[0].verb == "get");
  CHECK(f.records[0].resource == "secrets");
  CHECK(f.records[0].code == "404");
  CHECK(f.records[2].verb == "update");
  CHECK(f.records[2].resource == "mysqls.kubedb.com");
  CHECK(f.records[3].verb == "list");
  CHECK(f.records[5].code == "429");
}

TEST_CASE("listAll follows continue tokens from one snapshot", "[client][rest]") {
  Fixture f;
  f.srv.server().Get("/api/v1/namespaces/demo/secrets", [&](const httplib::Request& req, httplib::Response& res) {
    f.note(req);
    std::string cont = req.get_param_value("continue");
    nlohmann::json list = {{"kind", "SecretList"}, {"apiVersion", "v1"},
                           {"metadata", {{"resourceVersion", "77"}}}, {"items", nlohmann::json::array()}};
    int first = cont.empty() ? 0 : std::stoi(cont);
    for (int i = first; i < std::min(first + 2, 5); ++i) {
      list["items"].push_back({{"metadata", {{"name", "s" + std::to_string(i)}}}});
    }
    if (first + 2 < 5) {
      list["metadata"]["continue"] = std::to_string(first + 2);
      list["metadata"]["remainingItemCount"] = 5 - first - 2;
    }
    res.set_content(list.dump(), "application/json");
  });
  f.start();

  auto all = f.cli->listAll(kube::kSecrets, "demo", {.labelSelector = "app=my", .limit = 2});
  REQUIRE(all);
  REQUIRE((*all)["items"].size() == 5);
  CHECK((*all)["items"][4]["metadata"]["name"] == "s4");
  CHECK((*all)["metadata"]["resourceVersion"] == "77");
  CHECK_FALSE((*all)["metadata"].contains("continue"));
  std::lock_guard lock(f.mu);
  REQUIRE(f.seen.size() == 3);
  CHECK(f.seen[0] == "GET /api/v1/namespaces/demo/secrets?labelSelector=app=my&limit=2 ");
  CHECK(f.seen[1] == "GET /api/v1/namespaces/demo/secrets?continue=2&labelSelector=app=my&limit=2 ");
}

TEST_CASE("writes send the right verbs, bodies and patch media types", "[client][rest]") {
  Fixture f;
  std::string lastBody;
  auto echo = [&](const httplib::Request& req, httplib::Response& res) {
    f.note(req);
    {
      std::lock_guard lock(f.mu);
      lastBody = req.body;
    }
    res.set_content(req.body.empty() ? "{}" : req.body, "application/json");
  };
  auto& s = f.srv.server();
  s.Post("/api/v1/namespaces/demo/secrets", echo);
  s.Put("/apis/kubedb.com/v1/namespaces/demo/mysqls/my/status", echo);
  s.Patch("/apis/kubedb.com/v1/namespaces/demo/mysqls/my", echo);
  s.Delete("/api/v1/namespaces/demo/secrets/my-auth", echo);
  f.start();

  const kube::ResourceType mysqls{{"kubedb.com", "v1", "mysqls"}, "MySQL", true};
  nlohmann::json my = {{"apiVersion", "kubedb.com/v1"}, {"kind", "MySQL"},
                       {"metadata", {{"name", "my"}, {"namespace", "demo"}, {"resourceVersion", "5"}}},
                       {"status", {{"phase", "Ready"}}}};
  auto created = f.cli->create(kube::kSecrets, "demo", {{"metadata", {{"name", "my-auth"}}}},
                               {.fieldManager = "mysqlop"});
  REQUIRE(created);
  CHECK((*created)["metadata"]["name"] == "my-auth");
  REQUIRE(f.cli->updateStatus(mysqls, my));
  REQUIRE(f.cli->patch(mysqls, "demo", "my", kube::PatchType::kMerge, {{"spec", {{"halted", true}}}}));
  REQUIRE(f.cli->patch(mysqls, "demo", "my", kube::PatchType::kJson,
                       nlohmann::json::array({{{"op", "test"}, {"path", "/x"}, {"value", 1}}})));
  REQUIRE(f.cli->apply(mysqls, my, "mysqlop-enterprise", /*force=*/true));
  REQUIRE(f.cli->remove(kube::kSecrets, "demo", "my-auth", {.propagationPolicy = "Background"}));

  std::lock_guard lock(f.mu);
  REQUIRE(f.seen.size() == 6);
  CHECK(f.seen[0] == "POST /api/v1/namespaces/demo/secrets?fieldManager=mysqlop application/json");
  CHECK(f.seen[1] == "PUT /apis/kubedb.com/v1/namespaces/demo/mysqls/my/status application/json");
  CHECK(f.seen[2] == "PATCH /apis/kubedb.com/v1/namespaces/demo/mysqls/my application/merge-patch+json");
  CHECK(f.seen[3] == "PATCH /apis/kubedb.com/v1/namespaces/demo/mysqls/my application/json-patch+json");
  CHECK(f.seen[4] == "PATCH /apis/kubedb.com/v1/namespaces/demo/mysqls/my"
                     "?fieldManager=mysqlop-enterprise&force=true application/apply-patch+yaml");
  CHECK(f.seen[5] == "DELETE /api/v1/namespaces/demo/secrets/my-auth application/json");
  auto del = nlohmann::json::parse(lastBody);
  CHECK(del["propagationPolicy"] == "Background");
}

TEST_CASE("watch: events in order, an ERROR event ends it with its error", "[client][rest][watch]") {
  Fixture f;
  f.srv.server().Get("/api/v1/namespaces/demo/secrets", [&](const httplib::Request& req, httplib::Response& res) {
    f.note(req);
    if (req.get_param_value("resourceVersion") == "1") {
      res.set_content(
          "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"2\"}}}\n"
          "{\"type\":\"ERROR\",\"object\":" + statusBody(410, "Expired", "too old resource version: 1 (2)") + "}\n",
          "application/json");
    } else if (req.get_param_value("resourceVersion") == "9") {
      res.status = 403;
      res.set_content(statusBody(403, "Forbidden", "secrets is forbidden: User \"x\" cannot watch resource"),
                      "application/json");
    } else {
      res.set_content(
          "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"2\"}}}\n"
          "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}\n"
          "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"4\"}}}",
          "application/json");
    }
  });
  f.start();

  std::vector<std::string> got;
  auto collect = [&](kube::WatchEvent&& e) {
    got.push_back(std::string(kube::watchEventTypeName(e.type)) + ":" +
                  e.object["metadata"].value("resourceVersion", ""));
    return true;
  };
  auto st = f.cli->watch(kube::kSecrets, "demo", {.allowWatchBookmarks = true}, collect);
  REQUIRE(st);
  CHECK(got == std::vector<std::string>{"ADDED:2", "BOOKMARK:3", "DELETED:4"});

  got.clear();
  auto expired = f.cli->watch(kube::kSecrets, "demo", {.resourceVersion = "1"}, collect);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == ErrorCode::kGone);
  CHECK(got == std::vector<std::string>{"ADDED:2"});

  auto forbidden = f.cli->watch(kube::kSecrets, "demo", {.resourceVersion = "9"}, collect);
  REQUIRE_FALSE(forbidden);
  CHECK(forbidden.error().code == ErrorCode::kForbidden);

  std::lock_guard lock(f.mu);
  CHECK(f.seen[0] == "GET /api/v1/namespaces/demo/secrets?allowWatchBookmarks=true&timeoutSeconds=300&watch=true ");
  CHECK(f.records.back().verb == "watch");
  CHECK(f.records.back().code == "403");
}

TEST_CASE("a watch ends at once when the handler asks to stop", "[client][rest][watch]") {
  Fixture f;
  f.srv.server().Get("/api/v1/namespaces/demo/configmaps", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t off, httplib::DataSink& sink) {
      if (off == 0) {
        std::string ev = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n";
        return sink.write(ev.data(), ev.size());
      }
      // Then hold the stream open, as a quiet watch does.
      for (int i = 0; i < 100 && !f.srv.stopping() && sink.is_writable(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return false;
    });
  });
  f.start();
  auto start = std::chrono::steady_clock::now();
  int events = 0;
  auto st = f.cli->watch(kube::kConfigMaps, "demo", {.timeoutSeconds = 30}, [&](kube::WatchEvent&&) {
    ++events;
    return false;
  });
  REQUIRE(st);
  CHECK(events == 1);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

}  // namespace
}  // namespace mysqlop::client
