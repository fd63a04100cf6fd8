// Deadline: a re-armable timeout that runs an action (typically closing a
// socket, which fails the pending I/O) when it expires. Safe against the usual
// timer races: a callback that fires after disarm(), re-arm or destruction is
// ignored. One per connection or stream; used on its worker thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "network/asio_util.h"

namespace sluice::network {

class Deadline {
 public:
  explicit Deadline(asio::any_io_executor executor) : timer_(std::move(executor)), state_(std::make_shared<State>()) {}
  ~Deadline() { disarm(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Runs `on_expire` after `after` unless disarmed or re-armed first. A zero
  // duration means no deadline.
  void arm(std::chrono::milliseconds after, std::function<void()> on_expire) {
    const uint64_t generation = ++state_->generation;
    state_->expired = false;
    if (after.count() <= 0) return;
    state_->on_expire = std::move(on_expire);
    timer_.expires_after(after);
    timer_.async_wait([state = state_, generation](const std::error_code& ec) {
      if (ec || state->generation != generation) return;
      state->expired = true;
      if (auto action = std::move(state->on_expire)) action();
    });
  }
  void disarm() {
    ++state_->generation;
    state_->on_expire = nullptr;
    timer_.cancel();
  }
  // True when the last armed deadline fired.
  bool expired() const { return state_->expired; }

 private:
  struct State {
    uint64_t generation = 0;
    bool expired = false;
    std::function<void()> on_expire;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace sluice::network
