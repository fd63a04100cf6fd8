// A token bucket (Envoy's TokenBucketImpl semantics): it starts full with
// `max_tokens`, refills at `fill_rate` tokens per second up to the maximum,
// and a consume takes one token if there is one. The time comes from the
// caller, so tests drive it. Not thread-safe: one owner.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace sluice::config::xds {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(uint32_t max_tokens, double fill_rate, Clock::time_point now)
      : max_(max_tokens), fill_rate_(fill_rate), tokens_(max_tokens), last_(now) {}

  // Takes a token if one is there at `now`.
  bool consume(Clock::time_point now) {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // How long from `now` until a token is there (zero if one is).
  std::chrono::nanoseconds untilNext(Clock::time_point now) {
    refill(now);
    if (tokens_ >= 1.0) return std::chrono::nanoseconds(0);
    return std::chrono::nanoseconds(static_cast<int64_t>((1.0 - tokens_) / fill_rate_ * 1e9) + 1);
  }

 private:
  void refill(Clock::time_point now) {
    if (now <= last_) return;
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(max_, tokens_ + seconds * fill_rate_);
    last_ = now;
  }

  const double max_;
  const double fill_rate_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace sluice::config::xds
