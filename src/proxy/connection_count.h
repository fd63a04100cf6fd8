// Downstream connection counts for the connection limits: the server's
// total (runtime overload.global_downstream_max_connections) and one per
// listener name (runtime envoy.resource_limits.listener.<name>.connection_limit);
// proxy::StatsRegistry holds them.
// Shared by all workers through relaxed atomics; a worker takes a slot when it
// accepts and gives it back when the connection ends.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

namespace sluice::proxy {

constexpr uint64_t kNoConnectionLimit = std::numeric_limits<uint64_t>::max();

class ConnectionCount {
 public:
  // Takes a slot unless `limit` are taken already.
  bool tryAcquire(uint64_t limit) {
    if (count_.fetch_add(1, std::memory_order_relaxed) < limit) return true;
    count_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void release() { count_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t value() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> count_{0};
};

}  // namespace sluice::proxy
