// IdleTimer: runs an action once nothing has happened for `timeout`. Activity
// only stamps the time (touch()); the timer re-arms itself for the remainder,
// so busy streams and tunnels cost no timer operation per read or write. A
// zero timeout never fires. Worker thread only.
#pragma once

#include <chrono>
#include <functional>

#include "network/deadline.h"

namespace sluice::network {

class IdleTimer {
 public:
  IdleTimer(asio::any_io_executor executor, std::chrono::milliseconds timeout, std::function<void()> on_idle)
      : deadline_(std::move(executor)), timeout_(timeout), on_idle_(std::move(on_idle)) {
    touch();
    schedule(timeout_);
  }
  void touch() { last_ = std::chrono::steady_clock::now(); }

 private:
  void schedule(std::chrono::milliseconds after) {
    deadline_.arm(after, [this] {
      const auto quiet = std::chrono::steady_clock::now() - last_;
      if (quiet >= timeout_) {
        on_idle_();
      } else {
        schedule(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_ - quiet) +
                 std::chrono::milliseconds(1));
      }
    });
  }

  Deadline deadline_;
  std::chrono::milliseconds timeout_;
  std::function<void()> on_idle_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace sluice::network
