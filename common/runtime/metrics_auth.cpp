#include "common/runtime/metrics_auth.h"

#include <fmt/format.h>

#include "common/pki/pki.h"

namespace mysqlop::runtime {
namespace {

using Json = nlohmann::json;

const kube::ResourceType kTokenReviews{{"authentication.k8s.io", "v1", "tokenreviews"}, "TokenReview", false};
const kube::ResourceType kSubjectAccessReviews{{"authorization.k8s.io", "v1", "subjectaccessreviews"},
                                               "SubjectAccessReview", false};

// The token of "Bearer <token>" (the scheme case-insensitive, as Kubernetes reads it); "" if none.
std::string bearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return "";
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return std::string(token);
}

// RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
bool wellFormed(std::string_view token, size_t maxLength) {
  if (token.empty() || token.size() > maxLength) return false;
  size_t i = 0;
  auto tokenChar = [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'; };
  while (i < token.size() && tokenChar(static_cast<unsigned char>(token[i]))) ++i;
  if (i == 0) return false;
  while (i < token.size() && token[i] == '=') ++i;
  return i == token.size();
}

}  // namespace

Reviewer apiReviewer(client::RestClient& cli) {
  return Reviewer{
      [&cli](const Json& review) { return cli.create(kTokenReviews, "", review); },
      [&cli](const Json& review) { return cli.create(kSubjectAccessReviews, "", review); },
  };
}

MetricsAuthorizer::MetricsAuthorizer(Reviewer reviewer, const core::Clock& clock, Options opts)
    : reviewer_(std::move(reviewer)), clock_(clock), opts_(opts), reviews_(opts.reviewsPerSecond, opts.reviewBurst, clock) {}

AuthDecision MetricsAuthorizer::check(std::string_view authorization, std::string_view verb, std::string_view path) {
  const std::string token = bearerToken(authorization);
  if (token.empty()) return {401, "Unauthorized: a bearer token is required"};
  if (!wellFormed(token, opts_.maxTokenLength)) return {401, "Unauthorized: not a bearer token"};
  const std::string key = fmt::format("{} {} {}", pki::sha256Hex(token), verb, path);
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end() && it->second.expires > clock_.monotonic()) {
      return it->second.decision;
    }
  }
  if (!reviews_.tryTake()) return {429, "Too Many Requests: token reviews are rate limited; try again shortly"};
  auto [d, settled] = decide(token, verb, path);
  // A review that failed is asked again next time; a token the API server does not accept is not
  // remembered (random tokens would only push real ones out).
  if (settled && d.status != 401) remember(key, d);
  return d;
}

std::pair<AuthDecision, bool> MetricsAuthorizer::decide(const std::string& token, std::string_view verb, std::string_view path) {
  auto reviewed = reviewer_.tokenReview(Json{{"apiVersion", "authentication.k8s.io/v1"},
                                             {"kind", "TokenReview"},
                                             {"spec", {{"token", token}}}});
  if (!reviewed) return {{401, "Unauthorized: the token could not be reviewed: " + reviewed.error().message}, false};
  const Json status = reviewed->value("status", Json::object());
  if (!status.value("authenticated", false)) return {{401, "Unauthorized: the API server does not accept the token"}, true};
  const Json user = status.value("user", Json::object());
  Json spec = {{"user", user.value("username", "")},
               {"groups", user.value("groups", Json::array())},
               {"nonResourceAttributes", {{"path", std::string(path)}, {"verb", std::string(verb)}}}};
  if (user.contains("uid")) spec["uid"] = user["uid"];
  if (user.contains("extra")) spec["extra"] = user["extra"];
  auto access = reviewer_.accessReview(
      Json{{"apiVersion", "authorization.k8s.io/v1"}, {"kind", "SubjectAccessReview"}, {"spec", spec}});
  if (!access) return {{500, "Internal Server Error: the access review failed: " + access.error().message}, false};
  const Json result = access->value("status", Json::object());
  if (result.value("allowed", false) && !result.value("denied", false)) return {{200, ""}, true};
  return {{403, fmt::format("Forbidden: user \"{}\" may not {} {}", spec["user"].get<std::string>(), verb, path)}, true};
}

void MetricsAuthorizer::remember(const std::string& key, const AuthDecision& d) {
  const core::MonoTime now = clock_.monotonic();
  std::lock_guard lock(mu_);
  if (cache_.size() >= opts_.maxEntries) {
    std::erase_if(cache_, [&](const auto& e) { return e.second.expires <= now; });
    while (cache_.size() >= opts_.maxEntries) {
      auto oldest = std::min_element(cache_.begin(), cache_.end(),
                                     [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
      cache_.erase(oldest);
    }
  }
  cache_[key] = Entry{d, now + (d.status == 200 ? opts_.allowedTtl : opts_.deniedTtl)};
}

}  // namespace mysqlop::runtime
