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

TEST_CASE("a watcher of a quiet kind resumes past other kinds' changes, not from its last own change",
          "[sandbox][store]") {
  ObjectStore store(3);
  int64_t cursor = 0;
  {
    auto tx = store.begin();
    tx.put("/cm", obj("a", "x", 0));
    cursor = tx.rv();
  }
  bool ended = false;
  int64_t scanned = 0;
  for (int i = 0; i < 10; ++i) {  // other kinds write; the history (3) soon lost the ConfigMap
    {
      auto tx = store.begin();
      tx.put("/secrets", obj("a", "s" + std::to_string(i), 0));
    }
    auto got = store.changesSince(cursor, "/cm", std::chrono::milliseconds(0), store.watchEpoch(), ended, &scanned);
    REQUIRE(got);  // not Gone: the cursor kept up
    CHECK(got->empty());
    CHECK(scanned == store.currentRv());
    cursor = scanned;
  }
  {
    auto tx = store.begin();
    tx.put("/cm", obj("a", "y", 0));
  }
  auto got = store.changesSince(cursor, "/cm", std::chrono::milliseconds(0), store.watchEpoch(), ended, &scanned);
  REQUIRE(got);
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].rv == store.currentRv());
}

}  // namespace
}  // namespace mysqlop::sandbox
