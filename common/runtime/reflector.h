#pragma once
// The list/watch logic of an informer as a pure state machine (kube-rs' watcher, client-go's
// reflector): it says what to do next — list, watch from a resourceVersion, or wait — and is
// told what happened. No sockets, no sleeps: the informer drives it, tests step it.
//
//   list (paginated) ──ok──▶ watch from the list's RV ──normal end──▶ watch again from the last RV
//        ▲   │failure: backoff, list again      │ 410 Gone: relist at once
//        └───┴──────────────────────────────────┘ other failure, or an empty end within 1 s:
//                                                   backoff, watch again
//
// Backoff 0.8 s → 30 s, factor 2, full jitter, forgotten after 2 min without failures.
// One owner thread.

#include <chrono>
#include <functional>
#include <string>

#include "common/core/backoff.h"
#include "common/core/clock.h"
#include "common/core/result.h"

namespace mysqlop::runtime {

struct ReflectorOptions {
  core::BackoffPolicy backoff{std::chrono::milliseconds{800}, std::chrono::seconds{30}, 2.0, 1.0,
                              std::chrono::minutes{2}};
  // Watches ask the server to end after a random time in [min, 2·min) (client-go: 5–10 min).
  std::chrono::seconds minWatchTimeout{300};
};

class Reflector {
 public:
  enum class Action { kList, kWatch, kWait };
  struct Step {
    Action action;
    std::string resourceVersion;          // kWatch: watch from here
    int64_t timeoutSeconds = 0;           // kWatch: server-side timeout
    std::chrono::nanoseconds wait{0};     // kWait
  };

  Reflector(ReflectorOptions opts, const core::Clock& clock, std::function<double()> random01 = {});

  Step next();

  void listed(const std::string& resourceVersion);
  void listFailed(const core::Error& e);
  // Any event or bookmark with an RV moves the resume point.
  void observed(const std::string& resourceVersion);
  // ok: a normal end (server timeout). Gone → relist. Anything else → backoff, watch again. A
  // watch that ends normally within a second having seen nothing counts as a failure too (a
  // server or proxy closing watches at once must not be re-dialled in a tight loop).
  void watchEnded(const core::Status& result);
  void waited();

  bool hasSynced() const { return synced_; }
  const std::string& resourceVersion() const { return rv_; }
  unsigned consecutiveFailures() const { return backoff_.attempts(); }

 private:
  enum class State { kList, kWatch, kWaitThenList, kWaitThenWatch };
  ReflectorOptions opts_;
  core::Backoff backoff_;
  std::function<double()> random01_;
  const core::Clock& clock_;
  core::MonoTime watchStarted_{};
  bool watchSawEvents_ = false;
  State state_ = State::kList;
  std::chrono::nanoseconds pendingWait_{0};
  std::string rv_;
  bool synced_ = false;
};

}  // namespace mysqlop::runtime
