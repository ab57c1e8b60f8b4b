// Fuzz target: what a MySQL server says first and what it reports of itself (untrusted: a
// tenant's pod may run anything on the port). The greeting, the version's reload statement and a
// GTID set (@@gtid_executed, which the group planner compares) never crash, never throw, and
// every refusal says why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/mysql/gtid.h"
#include "common/mysql/served_certificate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto g = mysqlop::dbclient::parseGreeting(in);
  if (!g && g.error().message.empty()) __builtin_trap();
  if (g && g->serverVersion.size() > 255) __builtin_trap();
  (void)mysqlop::dbclient::tlsReloadStatement(g ? g->serverVersion : std::string(in));
  auto gtids = mysqlop::dbclient::GtidSet::parse(in);
  if (!gtids && gtids.error().message.empty()) __builtin_trap();
  if (gtids) {
    // What the planner does with one: count, compare, print, read back the same.
    (void)gtids->count();
    if (!gtids->contains(*gtids)) __builtin_trap();
    auto again = mysqlop::dbclient::GtidSet::parse(gtids->str());
    if (!again || !(*again == *gtids)) __builtin_trap();
  }
  return 0;
}
