// A route's or virtual host's retry policy (Envoy's RetryPolicy), compiled:
// which failures and responses are retried (retry_on), how often, each try's
// timeout, the back-off and the host predicate. Immutable once built and
// shared by the routes that use it (a virtual host's policy by every route
// that has none of its own); any worker reads it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "http/header_map.h"
#include "router/matchers.h"

namespace sluice::router {

// retry_on conditions, Envoy's names (x-envoy-retry-on takes the same list).
namespace retry_on {
inline constexpr uint32_t k5xx = 1u << 0;             // "5xx": any 5xx, a reset, a connect failure
inline constexpr uint32_t kGatewayError = 1u << 1;    // "gateway-error": 502, 503, 504, reset, connect failure
inline constexpr uint32_t kReset = 1u << 2;           // "reset": no response at all (reset, close, timeout)
inline constexpr uint32_t kConnectFailure = 1u << 3;  // "connect-failure"
inline constexpr uint32_t kRetriable4xx = 1u << 4;    // "retriable-4xx": 409
inline constexpr uint32_t kRefusedStream = 1u << 5;   // "refused-stream": HTTP/2 REFUSED_STREAM (never over HTTP/1)
inline constexpr uint32_t kRetriableStatusCodes = 1u << 6;  // "retriable-status-codes"
inline constexpr uint32_t kRetriableHeaders = 1u << 7;      // "retriable-headers"
}  // namespace retry_on

// A comma-separated retry_on list (spaces around names allowed). Unknown
// names set `unknown` to the first of them (the config rejects it; the
// request header ignores it, as Envoy).
uint32_t parseRetryOn(std::string_view list, std::string_view* unknown = nullptr);

class RetryPolicy {
 public:
  using Proto = envoy::config::route::v3::RetryPolicy;
  static constexpr std::chrono::milliseconds kDefaultBaseInterval{25};

  // nullptr (with errors at `path`) when the policy is invalid.
  static std::shared_ptr<const RetryPolicy> build(const Proto& config, std::string_view path,
                                                  config::ErrorList& errors);

  uint32_t retryOn() const { return retry_on_; }
  uint32_t numRetries() const { return num_retries_; }
  // 0: none (the route's timeout alone bounds every try).
  std::chrono::milliseconds perTryTimeout() const { return per_try_timeout_; }
  std::chrono::milliseconds perTryIdleTimeout() const { return per_try_idle_timeout_; }
  std::chrono::milliseconds baseInterval() const { return base_interval_; }
  std::chrono::milliseconds maxInterval() const { return max_interval_; }
  // retry_host_predicate envoy.retry_host_predicates.previous_hosts.
  bool previousHosts() const { return previous_hosts_; }
  uint32_t hostSelectionMaxAttempts() const { return host_selection_max_attempts_; }

  // Whether a response head of `status` with `headers` is to be retried
  // under the conditions `conditions` (the policy's, or the request header's).
  bool retriableResponse(uint32_t conditions, int status, const http::HeaderMap& headers) const;

 private:
  RetryPolicy() = default;

  uint32_t retry_on_ = 0;
  uint32_t num_retries_ = 1;
  std::chrono::milliseconds per_try_timeout_{0};
  std::chrono::milliseconds per_try_idle_timeout_{0};
  std::chrono::milliseconds base_interval_ = kDefaultBaseInterval;
  std::chrono::milliseconds max_interval_ = kDefaultBaseInterval * 10;
  bool previous_hosts_ = false;
  uint32_t host_selection_max_attempts_ = 1;
  std::vector<uint32_t> retriable_status_codes_;
  std::vector<HeaderMatcher> retriable_headers_;
};

// Without any configured policy, what a request's x-envoy-retry-on header is
// judged by (Envoy's defaults: one retry, 25 ms back-off).
const RetryPolicy& defaultRetryPolicy();

}  // namespace sluice::router
