#include "common/kube/conditions.h"

#include <catch2/catch.hpp>

#include "common/core/time_format.h"

namespace mysqlop::kube {
namespace {

using namespace std::chrono;

TEST_CASE("conditions: lastTransitionTime moves only when status flips", "[kube][conditions]") {
  core::FakeClock clock;
  Json obj = Json::object();
  Condition ready{"Ready", "False", "Provisioning", "creating objects", 1, ""};

  CHECK(setStatusCondition(obj, ready, clock.now()));
  std::string t0 = core::formatTime(clock.now());
  CHECK(findStatusCondition(obj, "Ready")->lastTransitionTime == t0);

  // Same everything: no change at all (a converged reconcile writes nothing).
  clock.advance(minutes{1});
  CHECK_FALSE(setStatusCondition(obj, ready, clock.now()));

  // Reason/message/generation change without a flip: updated, transition time kept.
  clock.advance(minutes{1});
  Condition waiting{"Ready", "False", "WaitingForSecrets", "wait for all necessary secrets", 2, ""};
  CHECK(setStatusCondition(obj, waiting, clock.now()));
  auto c = findStatusCondition(obj, "Ready");
  REQUIRE(c);
  CHECK(c->reason == "WaitingForSecrets");
  CHECK(c->observedGeneration == 2);
  CHECK(c->lastTransitionTime == t0);

  // Flip: the transition time moves.
  clock.advance(minutes{1});
  CHECK(setStatusCondition(obj, {"Ready", "True", "Ready", "database is ready", 2, ""}, clock.now()));
  CHECK(findStatusCondition(obj, "Ready")->lastTransitionTime == core::formatTime(clock.now()));
  CHECK(isConditionTrue(obj["status"]["conditions"], "Ready"));
}

TEST_CASE("conditions are kept per type and serialise as the API expects", "[kube][conditions]") {
  core::FakeClock clock;
  Json conds;
  CHECK(setCondition(conds, {"ProvisioningStarted", "True", "DatabaseProvisioningStartedSuccessfully",
                             "", 1, ""}, clock.now()));
  CHECK(setCondition(conds, {"TLSCertificatesReady", "False", "IssuerNotReady", "", 0, ""},
                     clock.now()));
  REQUIRE(conds.size() == 2);
  CHECK_FALSE(conds[1].contains("observedGeneration"));
  CHECK_FALSE(conds[1].contains("message"));
  CHECK(conds[0]["observedGeneration"] == 1);
  CHECK(conds[0]["status"] == "True");
  CHECK_FALSE(isConditionTrue(conds, "TLSCertificatesReady"));
  CHECK_FALSE(findCondition(conds, "Missing"));
  CHECK(removeCondition(conds, "ProvisioningStarted"));
  CHECK(conds.size() == 1);
  CHECK_FALSE(removeCondition(conds, "ProvisioningStarted"));
}

}  // namespace
TEST_CASE("conditions: a message longer than the API allows is cut on a character boundary", "[kube][conditions]") {
  Json conds;
  std::string message(40000, 'x');
  message.replace(kMaxConditionMessage - 4, 3, "\u20ac");  // a 3-byte character across the cut
  REQUIRE(setCondition(conds, {"Ready", "False", "Long", message, 1}, core::WallTime{}));
  const std::string got = conds[0]["message"];
  CHECK(got.size() <= kMaxConditionMessage);
  CHECK(got.substr(got.size() - 3) == "\u2026");
  CHECK(got.find("\u20ac") == std::string::npos);  // not half of it either: cut before
  CHECK(got.substr(0, 100) == std::string(100, 'x'));
}

}  // namespace mysqlop::kube
