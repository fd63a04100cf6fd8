// The reconnect delay of sluice's gRPC clients (xDS, the access-log service):
// jittered exponential backoff, uniform in [c/2, c) with
// c = min(max, base * 2^failures).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace sluice::config {

inline std::chrono::milliseconds jitteredBackoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
                                                 uint32_t failures, std::mt19937_64& random) {
  const auto ceiling = std::min<int64_t>(max.count(), base.count() << std::min<uint32_t>(failures, 16));
  return std::chrono::milliseconds(
      std::uniform_int_distribution<int64_t>(ceiling / 2, std::max<int64_t>(ceiling / 2, ceiling - 1))(random));
}

}  // namespace sluice::config
