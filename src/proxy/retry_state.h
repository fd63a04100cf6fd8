// One request's retries under its route's retry policy (Envoy's
// RetryStateImpl): the conditions in force (the policy's, with an internal
// request's x-envoy-retry-on), the retries left, the per-try timeout, the
// back-off, the hosts tried (previous_hosts) and the cluster's max_retries /
// retry_budget slot a retry holds. It lives on forward()'s coroutine frame
// (no heap allocation); worker thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "http/header_map.h"
#include "proxy/circuit_breakers.h"
#include "proxy/proxy_headers.h"
#include "proxy/proxy_stats.h"
#include "proxy/upstream_failure.h"
#include "router/retry_policy.h"
#include "upstream/host.h"

namespace sluice::proxy {

class RetryState {
 public:
  // From the route's policy (null: none) and the request's retry headers
  // (taken off it by stripHopByHopHeaders), which count only when the
  // request is internal (Envoy sanitises them on external requests).
  RetryState(const router::RetryPolicy* policy, const RetryHeaders& headers, bool internal);

  // Whether any retry may happen (a condition is set and a retry is allowed).
  bool enabled() const { return conditions_ != 0 && max_retries_ > 0; }
  // The body could not be kept to send again: no retry from now on.
  void disable() { conditions_ = 0; }
  std::chrono::milliseconds perTryTimeout() const { return per_try_timeout_; }
  std::chrono::milliseconds perTryIdleTimeout() const { return policy().perTryIdleTimeout(); }
  uint32_t retriesDone() const { return retries_done_; }

  enum class Decision : uint8_t {
    No,             // not retriable: answer it
    Retry,          // retry, after backOff()
    LimitExceeded,  // retriable, but num_retries are used up (URX)
    Overflow,       // retriable, but the cluster's max_retries / retry_budget refused it
  };
  // A try failed before a head / a try's head arrived. A Retry takes the
  // cluster's retry slot (held until the next decision or the end).
  Decision onFailure(const UpstreamFailure& failure, ClusterStats& stats, const BreakerLimits& limits);
  Decision onResponse(int status, const http::HeaderMap& headers, ClusterStats& stats, const BreakerLimits& limits);

  // The wait before the next retry: Envoy's full jitter, a random value in
  // [0, min(base_interval * 2^n, max_interval)) for the n-th retry (from 0).
  std::chrono::milliseconds backOff(uint64_t random) const;

  // previous_hosts: remembers a host tried, and whether a pick was tried before.
  void tried(const upstream::Host* host);
  bool triedBefore(const upstream::Host* host) const;
  bool previousHosts() const { return policy().previousHosts(); }
  uint32_t hostSelectionMaxAttempts() const { return policy().hostSelectionMaxAttempts(); }

 private:
  static constexpr uint32_t kDefaultNumRetries = 1;  // Envoy's, for x-envoy-retry-on without a policy

  Decision decide(bool retriable, ClusterStats& stats, const BreakerLimits& limits);
  // The route's policy, or Envoy's defaults for the request headers alone.
  const router::RetryPolicy& policy() const;

  const router::RetryPolicy* policy_;  // null: the route has none
  uint32_t conditions_ = 0;
  uint32_t max_retries_ = 0;
  uint32_t retries_done_ = 0;
  std::chrono::milliseconds per_try_timeout_{0};
  BreakerHold retry_slot_;
  // The hosts tried, most recent last (previous_hosts); a request retried
  // more often than this remembers the latest ones.
  std::array<const upstream::Host*, 8> tried_{};
  uint32_t tried_count_ = 0;
};

}  // namespace sluice::proxy
