// SlotTimer: every timeout of one owner (a connection, a stream) on ONE asio
// timer, armed for the earliest deadline. Re-arming an asio timer costs a
// cancel, a timer-heap update and a completion, and a connection used to
// re-arm several of them on every request; here:
//  - setting a deadline no earlier than the armed one costs no timer operation;
//  - clearing a deadline costs none either: the timer wakes at the old time,
//    finds nothing due and sleeps until the next deadline, if any.
// A due deadline is cleared, marked expired and reported to the owner's
// onDeadline(slot). Slots are the owner's enum values below N. (A template on
// the owner rather than an interface: the call is direct and the owner needs no
// virtual destructor.)
//
// Owned by its connection or stream; worker thread only. A completion still queued when
// the timer is destroyed is ignored (the guard below).
#pragma once

#include <array>
#include <bitset>
#include <chrono>
#include <cstddef>
#include <memory>

#include "network/asio_util.h"

namespace sluice::network {

// `Owner::onDeadline(size_t slot)`: a deadline set for `slot` passed. The owner
// may set or clear slots there.
template <typename Owner, size_t N>
class SlotTimer {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  SlotTimer(asio::io_context& io, Owner& owner) : timer_(io), owner_(owner) { due_.fill(kNever); }
  ~SlotTimer() {
    if (guard_) guard_->timer = nullptr;
  }
  SlotTimer(const SlotTimer&) = delete;
  SlotTimer& operator=(const SlotTimer&) = delete;

  // Due `after` from `now`; a zero (or negative) duration clears the slot.
  void setAfter(size_t slot, std::chrono::milliseconds after, TimePoint now = Clock::now()) {
    if (after.count() <= 0) {
      clear(slot);
      return;
    }
    set(slot, now + after);
  }
  void set(size_t slot, TimePoint when) {
    due_[slot] = when;
    expired_.reset(slot);
    if (!armed_ || when < armed_at_) arm(when);
  }
  void clear(size_t slot) {
    due_[slot] = kNever;
    expired_.reset(slot);
  }
  bool isSet(size_t slot) const { return due_[slot] != kNever; }
  // True when the slot's last deadline passed (until it is set or cleared).
  bool expired(size_t slot) const { return expired_.test(slot); }

 private:
  static constexpr TimePoint kNever = TimePoint::max();
  struct Guard {
    SlotTimer* timer;
  };

  void arm(TimePoint when) {
    armed_ = true;
    armed_at_ = when;
    const uint64_t generation = ++generation_;
    if (!guard_) guard_ = std::make_shared<Guard>(Guard{this});
    timer_.expires_at(when);
    timer_.async_wait([guard = guard_, generation](const std::error_code& ec) {
      if (ec || guard->timer == nullptr || guard->timer->generation_ != generation) return;
      guard->timer->fire();
    });
  }

  void fire() {
    armed_ = false;
    const TimePoint now = Clock::now();
    for (size_t slot = 0; slot < N; ++slot) {
      if (due_[slot] > now) continue;
      due_[slot] = kNever;
      expired_.set(slot);
      owner_.onDeadline(slot);  // may set or clear slots (and arm)
    }
    TimePoint next = kNever;
    for (const TimePoint due : due_) next = std::min(next, due);
    if (next != kNever && (!armed_ || next < armed_at_)) arm(next);
  }

  asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, asio::io_context::executor_type> timer_;
  Owner& owner_;
  std::array<TimePoint, N> due_;
  std::bitset<N> expired_;
  bool armed_ = false;
  TimePoint armed_at_{};
  uint64_t generation_ = 0;
  std::shared_ptr<Guard> guard_;
};

}  // namespace sluice::network
