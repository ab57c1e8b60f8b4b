#pragma once
// Who may read /metrics, decided by the API server as controller-runtime's secure metrics do
// (filters.WithAuthenticationAndAuthorization): the request's bearer token goes to a TokenReview
// (authentication.k8s.io/v1); the user it names goes to a SubjectAccessReview
// (authorization.k8s.io/v1) for the non-resource path and the HTTP verb in lower case ("get"), so
// an RBAC rule `nonResourceURLs: ["/metrics"], verbs: ["get"]` grants it. No token or one the API
// server does not accept: 401; a user RBAC does not allow: 403; a review that fails: 500.
// Decisions are cached by a digest of the token (never the token itself) with a short TTL: one
// scrape every few seconds costs two API calls a minute, not two per scrape.
//
// Anyone who reaches the port may send tokens, so: a header that is not an RFC 6750 bearer token
// (other characters, or longer than a token is) is refused without a review; reviews of tokens
// not in the cache have a rate of their own (beyond it: 429, nothing asked); and a token the API
// server does not accept is not remembered, so random tokens never push a reader's out of the
// cache. (The Manager also gives the reviews a client of their own: none of them waits on, or
// spends, the reconcilers' API rate limit.)
//
//   MetricsAuthorizer auth(apiReviewer(cli), core::systemClock());
//   auto d = auth.check(req.get_header_value("Authorization"), "get", "/metrics");
//   if (d.status != 200) { res.status = d.status; res.set_content(d.message, "text/plain"); }
//
// Thread-safe (the metrics server answers on several threads).

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/client/rest_client.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/core/token_bucket.h"

namespace mysqlop::runtime {

// The two reviews, posted to the API server (tests pass their own).
struct Reviewer {
  std::function<core::Result<nlohmann::json>(const nlohmann::json& review)> tokenReview, accessReview;
};
Reviewer apiReviewer(client::RestClient& cli);

struct AuthDecision {
  int status = 200;     // 200, 401, 403 or 500
  std::string message;  // for the response body; never holds the token
};

class MetricsAuthorizer {
 public:
  struct Options {
    std::chrono::seconds allowedTtl{60};  // a granted token is asked about again after this
    std::chrono::seconds deniedTtl{10};   // a refused one sooner: a new RoleBinding takes effect quickly
    size_t maxEntries = 1024;             // beyond this, expired entries go, then the oldest
    double reviewsPerSecond = 5;          // token reviews of tokens not cached, sustained
    int reviewBurst = 20;                 // and at once
    size_t maxTokenLength = 16384;        // a service account token is about 1 KiB
  };
  MetricsAuthorizer(Reviewer reviewer, const core::Clock& clock, Options opts);
  MetricsAuthorizer(Reviewer reviewer, const core::Clock& clock) : MetricsAuthorizer(std::move(reviewer), clock, Options{}) {}

  // `authorization` is the request's Authorization header ("" when absent).
  AuthDecision check(std::string_view authorization, std::string_view verb, std::string_view path);

 private:
  // The decision, and whether it is settled (worth caching) rather than a review that failed.
  std::pair<AuthDecision, bool> decide(const std::string& token, std::string_view verb, std::string_view path);
  void remember(const std::string& key, const AuthDecision& d);

  Reviewer reviewer_;
  const core::Clock& clock_;
  Options opts_;
  struct Entry {
    AuthDecision decision;
    core::MonoTime expires;
  };
  std::mutex mu_;
  std::map<std::string, Entry> cache_;  // by sha256(token) + verb + path
  core::TokenBucket reviews_;
};

}  // namespace mysqlop::runtime
