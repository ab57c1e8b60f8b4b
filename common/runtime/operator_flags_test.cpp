// The shared command line: defaults, the leader-election timings (kube-controller-manager's flag
// names, client-go's rules between them) and secure metrics on by default.
#include "common/runtime/operator_flags.h"

#include <catch2/catch.hpp>

namespace mysqlop::runtime {
namespace {

struct Parsed {
  std::optional<int> rc;
  OperatorFlags flags;
};

Parsed parse(std::vector<std::string> args) {
  CLI::App app{"test", "op"};
  Parsed p;
  addOperatorFlags(app, p.flags);
  args.insert(args.begin(), "op");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  p.rc = parseFlags(app, p.flags, static_cast<int>(argv.size()), argv.data(), "op 0");
  return p;
}

}  // namespace

TEST_CASE("operator flags: defaults, and the leader-election timings checked as client-go does", "[runtime][flags]") {
  auto d = parse({});
  REQUIRE_FALSE(d.rc);
  ManagerOptions o = managerOptions(d.flags, "op");
  CHECK(o.metricsSecure);
  CHECK(o.qps == 50);
  CHECK(o.burst == 100);
  CHECK(o.leaseDuration == std::chrono::seconds(15));
  CHECK(o.renewDeadline == std::chrono::seconds(10));
  CHECK(o.retryPeriod == std::chrono::seconds(2));
  CHECK(o.leaderElectionId.empty());  // the Manager's default, <name>-leader

  auto fast = parse({"--leader-elect", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline", "3s",
                     "--leader-elect-retry-period=1s", "--metrics-secure=false"});
  REQUIRE_FALSE(fast.rc);
  o = managerOptions(fast.flags, "op");
  CHECK(o.leaderElection);
  CHECK_FALSE(o.metricsSecure);
  CHECK(o.leaseDuration == std::chrono::seconds(4));
  CHECK(o.renewDeadline == std::chrono::seconds(3));
  CHECK(o.retryPeriod == std::chrono::seconds(1));
  CHECK(managerOptions(parse({"--leader-election-id=rel-mysqlop-community"}).flags, "op").leaderElectionId == "rel-mysqlop-community");

  CHECK(parse({"--leader-elect-lease-duration=10s"}).rc == 2);                // not above the renew deadline
  CHECK(parse({"--leader-elect-renew-deadline=2s"}).rc == 2);                 // not above 1.2 × retry period
  CHECK(parse({"--leader-elect-lease-duration=fifteen"}).rc == 2);            // not a duration
  CHECK(parse({"--leader-elect-retry-period=-1s"}).rc == 2);
  CHECK(parse({"--leader-elect-lease-duration=1m", "--leader-elect-renew-deadline=30s"}).rc == std::nullopt);
}

}  // namespace mysqlop::runtime
