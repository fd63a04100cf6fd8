#include "proxy/circuit_breakers.h"

namespace sluice::proxy {

bool BreakerResource::tryAcquire(uint32_t max, bool track_remaining) {
  const uint64_t before = count_.fetch_add(1, std::memory_order_relaxed);
  if (before >= max) {
    count_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  if (before + 1 >= max) open_.set(1);
  if (track_remaining) showRemaining(max, before + 1);
  return true;
}

void BreakerResource::release(uint32_t max, bool track_remaining) {
  const uint64_t before = count_.fetch_sub(1, std::memory_order_relaxed);
  if (before >= max && before - 1 < max) open_.set(0);
  if (track_remaining) showRemaining(max, before - 1);
}

void BreakerResource::showRemaining(uint32_t max, uint64_t count) {
  if (auto* gauge = remaining_.load(std::memory_order_acquire)) {
    gauge->set(count >= max ? 0 : static_cast<int64_t>(max - count));
  }
}

}  // namespace sluice::proxy
