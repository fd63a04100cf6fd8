#include "proxy/retry_state.h"

#include <algorithm>

namespace sluice::proxy {

using Kind = UpstreamFailure::Kind;
namespace on = router::retry_on;

namespace {

// Whether a try that failed before a head is retried under `conditions`.
bool retriableFailure(uint32_t conditions, Kind kind) {
  switch (kind) {
    case Kind::ConnectFailure:
    case Kind::ConnectTimeout:
      return (conditions & (on::k5xx | on::kGatewayError | on::kReset | on::kConnectFailure)) != 0;
    case Kind::ConnectionTermination:
    case Kind::PerTryTimeout:
      return (conditions & (on::k5xx | on::kGatewayError | on::kReset)) != 0;
    case Kind::None:
    case Kind::ProtocolError:    // the upstream answered, in a form that does not parse
    case Kind::ResponseTimeout:  // the route's timeout bounds every try
    case Kind::StreamTimeout:
    case Kind::DownstreamGone:
    case Kind::DownstreamMalformed:
    case Kind::Overflow:
      break;
  }
  return false;
}

}  // namespace

RetryState::RetryState(const router::RetryPolicy* policy, const RetryHeaders& headers, bool internal)
    : policy_(policy) {
  if (policy != nullptr) {
    conditions_ = policy->retryOn();
    max_retries_ = policy->numRetries();
    per_try_timeout_ = policy->perTryTimeout();
  } else {
    max_retries_ = kDefaultNumRetries;
  }
  if (!internal) return;
  conditions_ |= headers.retry_on;
  if (headers.max_retries) max_retries_ = *headers.max_retries;
  if (headers.per_try_timeout) per_try_timeout_ = *headers.per_try_timeout;
}

const router::RetryPolicy& RetryState::policy() const {
  return policy_ != nullptr ? *policy_ : router::defaultRetryPolicy();
}

RetryState::Decision RetryState::onFailure(const UpstreamFailure& failure, ClusterStats& stats,
                                           const BreakerLimits& limits) {
  return decide(retriableFailure(conditions_, failure.kind), stats, limits);
}

RetryState::Decision RetryState::onResponse(int status, const http::HeaderMap& headers, ClusterStats& stats,
                                            const BreakerLimits& limits) {
  const bool retriable = conditions_ != 0 && policy().retriableResponse(conditions_, status, headers);
  const Decision decision = decide(retriable, stats, limits);
  if (decision == Decision::No && retries_done_ > 0) stats.upstream_rq_retry_success.inc();
  return decision;
}

RetryState::Decision RetryState::decide(bool retriable, ClusterStats& stats, const BreakerLimits& limits) {
  retry_slot_ = BreakerHold();  // the previous retry's slot (Envoy: resetRetry)
  if (!retriable) return Decision::No;
  if (retries_done_ >= max_retries_) {
    stats.upstream_rq_retry_limit_exceeded.inc();
    return Decision::LimitExceeded;
  }
  const uint32_t limit = retryLimit(limits, stats.requests.count() + stats.pending.count());
  retry_slot_ = tryHold(stats.retries, limits, limit);
  if (!retry_slot_) {
    stats.upstream_rq_retry_overflow.inc();
    return Decision::Overflow;
  }
  ++retries_done_;
  stats.upstream_rq_retry.inc();
  return Decision::Retry;
}

std::chrono::milliseconds RetryState::backOff(uint64_t random) const {
  const uint32_t n = retries_done_ == 0 ? 0 : retries_done_ - 1;
  const auto base = static_cast<uint64_t>(policy().baseInterval().count());
  const auto max = static_cast<uint64_t>(policy().maxInterval().count());
  const uint64_t ceiling = n >= 32 ? max : std::min(max, base << n);
  return std::chrono::milliseconds(ceiling == 0 ? 0 : random % ceiling);
}

void RetryState::tried(const upstream::Host* host) {
  tried_[tried_count_ % tried_.size()] = host;
  ++tried_count_;
}

bool RetryState::triedBefore(const upstream::Host* host) const {
  const size_t known = std::min<size_t>(tried_count_, tried_.size());
  return std::find(tried_.begin(), tried_.begin() + static_cast<std::ptrdiff_t>(known), host) !=
         tried_.begin() + static_cast<std::ptrdiff_t>(known);
}

}  // namespace sluice::proxy
