#include "upstream/outlier_monitor.h"

namespace sluice::upstream {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}  // namespace

void OutlierMonitor::putHttpStatus(const HostPtr& host, int status) const {
  auto& c = host->outlier;
  if (status < 500 || status > 599) {
    c.external.fetch_add(OutlierCounters::kRequest | 1, kRelaxed);
    // Stores only when needed: most hosts have no failure streak, and a plain
    // load does not take the cache line exclusive.
    if (c.consecutive_5xx.load(kRelaxed) != 0) c.consecutive_5xx.store(0, kRelaxed);
    if (c.consecutive_gateway_failure.load(kRelaxed) != 0) c.consecutive_gateway_failure.store(0, kRelaxed);
    return;
  }
  c.external.fetch_add(OutlierCounters::kRequest, kRelaxed);
  if (status == 502 || status == 503 || status == 504) {
    // Exactly one worker sees the count reach the threshold: one report per streak.
    if (c.consecutive_gateway_failure.fetch_add(1, kRelaxed) + 1 == thresholds_.consecutive_gateway_failure) {
      reporter_->consecutiveFailure(host, ConsecutiveFailure::GatewayFailure);
    }
  } else if (c.consecutive_gateway_failure.load(kRelaxed) != 0) {
    c.consecutive_gateway_failure.store(0, kRelaxed);
  }
  if (c.consecutive_5xx.fetch_add(1, kRelaxed) + 1 == thresholds_.consecutive_5xx) {
    reporter_->consecutiveFailure(host, ConsecutiveFailure::FiveXx);
  }
}

void OutlierMonitor::putLocalOrigin(const HostPtr& host, LocalOriginResult result) const {
  if (!thresholds_.split_external_local_origin_errors) {
    if (result == LocalOriginResult::ConnectFailed) putHttpStatus(host, 503);
    if (result == LocalOriginResult::Timeout) putHttpStatus(host, 504);
    return;
  }
  auto& c = host->outlier;
  if (result == LocalOriginResult::ConnectSuccess) {
    c.local.fetch_add(OutlierCounters::kRequest | 1, kRelaxed);
    if (c.consecutive_local_origin_failure.load(kRelaxed) != 0) c.consecutive_local_origin_failure.store(0, kRelaxed);
    return;
  }
  localOriginFailure(host);
}

void OutlierMonitor::localOriginFailure(const HostPtr& host) const {
  auto& c = host->outlier;
  c.local.fetch_add(OutlierCounters::kRequest, kRelaxed);
  if (c.consecutive_local_origin_failure.fetch_add(1, kRelaxed) + 1 == thresholds_.consecutive_local_origin_failure) {
    reporter_->consecutiveFailure(host, ConsecutiveFailure::LocalOriginFailure);
  }
}

}  // namespace sluice::upstream
