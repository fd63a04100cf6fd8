// Envoy's circuit breakers of one cluster (its ResourceManagerImpl, DEFAULT
// priority): counts of connections, requests waiting for a connection, and
// requests, across every worker, each against its limit. A count is one
// relaxed atomic shared by the workers (a fetch_add to take, a fetch_sub to
// give back; no lock); it lives in the cluster's stats (ClusterStats), so it
// carries across config versions of the same cluster as Envoy's does. The
// limits belong to the config version (ClusterConfig::breakers).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "stats/stats.h"

namespace sluice::proxy {

// circuit_breakers.thresholds (priority DEFAULT), with Envoy's defaults.
struct BreakerLimits {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
  // retry_budget: when set, replaces max_retries by
  // max(min_retry_concurrency, budget_percent% of the requests active and pending).
  bool retry_budget = false;
  double budget_percent = 20.0;
  uint32_t min_retry_concurrency = 3;
  bool track_remaining = false;
  bool operator==(const BreakerLimits&) const = default;
};

// One resource: its count, its circuit_breakers.default.<x>_open gauge (1
// while the count is at its limit) and, with track_remaining, its remaining_<x>.
class BreakerResource {
 public:
  explicit BreakerResource(stats::Gauge& open) : open_(open) {}
  // Any worker. False (and nothing taken) when the count is at `max`.
  bool tryAcquire(uint32_t max, bool track_remaining);
  void release(uint32_t max, bool track_remaining);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Main thread (config compiling), once, for track_remaining.
  void setRemainingGauge(stats::Gauge& gauge) { remaining_.store(&gauge, std::memory_order_release); }

 private:
  void showRemaining(uint32_t max, uint64_t count);

  std::atomic<uint64_t> count_{0};
  stats::Gauge& open_;
  std::atomic<stats::Gauge*> remaining_{nullptr};
};

// A request, taken for the stream's life and given back by the destructor.
class BreakerHold {
 public:
  BreakerHold() = default;
  BreakerHold(BreakerResource& resource, const BreakerLimits& limits, uint32_t max)
      : resource_(&resource), max_(max), track_(limits.track_remaining) {}
  ~BreakerHold() {
    if (resource_ != nullptr) resource_->release(max_, track_);
  }
  BreakerHold(BreakerHold&& other) noexcept : resource_(other.resource_), max_(other.max_), track_(other.track_) {
    other.resource_ = nullptr;
  }
  BreakerHold& operator=(BreakerHold&& other) noexcept {
    if (this != &other) {
      if (resource_ != nullptr) resource_->release(max_, track_);
      resource_ = other.resource_;
      max_ = other.max_;
      track_ = other.track_;
      other.resource_ = nullptr;
    }
    return *this;
  }
  explicit operator bool() const { return resource_ != nullptr; }

 private:
  BreakerResource* resource_ = nullptr;
  uint32_t max_ = 0;
  bool track_ = false;
};

// The retries allowed in flight now, given the cluster's active and pending requests.
inline uint32_t retryLimit(const BreakerLimits& limits, uint64_t active_and_pending) {
  if (!limits.retry_budget) return limits.max_retries;
  const auto budget = static_cast<uint64_t>(limits.budget_percent * static_cast<double>(active_and_pending) / 100.0);
  return static_cast<uint32_t>(
      std::min<uint64_t>(UINT32_MAX, std::max<uint64_t>(limits.min_retry_concurrency, budget)));
}

// Takes one of `resource` under `max`: a hold, or an empty one when the breaker is open.
inline BreakerHold tryHold(BreakerResource& resource, const BreakerLimits& limits, uint32_t max) {
  if (!resource.tryAcquire(max, limits.track_remaining)) return {};
  return BreakerHold(resource, limits, max);
}

}  // namespace sluice::proxy
