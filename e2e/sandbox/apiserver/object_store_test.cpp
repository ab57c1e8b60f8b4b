#include "e2e/sandbox/apiserver/object_store.h"

#include <catch2/catch.hpp>

namespace mysqlop::sandbox {
namespace {

Json obj(const std::string& ns, const std::string& name, int v) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"uid", ns + "/" + name}}}, {"v", v}};
}

TEST_CASE("snapshots at an older RV are rebuilt from history", "[sandbox][store]") {
  ObjectStore store(100);
  int64_t rv1, rv2;
  {
    auto tx = store.begin();
    tx.put("/cm", obj("a", "x", 1));
    tx.put("/cm", obj("b", "y", 1));
    rv1 = tx.rv();
    tx.put("/cm", obj("a", "x", 2));
    tx.remove("/cm", "b", "y");
    tx.put("/cm", obj("a", "z", 1));
    rv2 = tx.rv();
  }
  auto at1 = store.listAt("/cm", "", rv1);
  REQUIRE(at1);
  REQUIRE(at1->size() == 2);
  CHECK((*(*at1)[0])["v"] == 1);
  CHECK((*(*at1)[1])["metadata"]["name"] == "y");
  auto at2 = store.listAt("/cm", "a", rv2);
  REQUIRE(at2);
  CHECK(at2->size() == 2);
  auto future = store.listAt("/cm", "", rv2 + 5);
  REQUIRE_FALSE(future);
  CHECK(future.error().code == core::ErrorCode::kTimeout);
  store.compact();
  auto gone = store.listAt("/cm", "", rv1);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == core::ErrorCode::kGone);
}

TEST_CASE("history is bounded and changesSince reports what fell out", "[sandbox][store]") {
  ObjectStore store(3);
  {
    auto tx = store.begin();
    for (int i = 0; i < 5; ++i) tx.put("/cm", obj("a", "x", i));
  }
  bool ended = false;
  auto tooOld = store.changesSince(1, "/cm", std::chrono::milliseconds(0), store.watchEpoch(), ended);
  REQUIRE_FALSE(tooOld);
  CHECK(tooOld.error().message == "too old resource version: 1 (3)");
  auto recent = store.changesSince(3, "/cm", std::chrono::milliseconds(0), store.watchEpoch(), ended);
  REQUIRE(recent);
  REQUIRE(recent->size() == 2);
  CHECK((*recent)[0].rv == 4);
  CHECK((*recent)[1].type == ChangeType::kModified);
  // A waiter sees nothing new until the timeout, and is ended by dropWatches.
  auto none = store.changesSince(5, "/cm", std::chrono::milliseconds(10), store.watchEpoch(), ended);
  REQUIRE(none);
  CHECK(none->empty());
  uint64_t epoch = store.watchEpoch();
  store.dropWatches();
  auto dropped = store.changesSince(5, "/cm", std::chrono::milliseconds(10), epoch, ended);
  CHECK(ended);
}

}  // namespace
}  // namespace mysqlop::sandbox
