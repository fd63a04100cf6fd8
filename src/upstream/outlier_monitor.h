// The workers' side of outlier detection (Envoy's DetectorHostMonitor): what
// the router reports of each attempt on a host, counted on the host with
// relaxed atomics (Host::outlier), and the N-th consecutive failure posted to
// the main thread's detector at once (Envoy ejects then, not at the next
// interval). Built by the main thread, shared immutable by every worker
// through ClusterConfig::outlier; any thread may call it. No lock: a post
// happens only at a threshold crossing, which is rare.
#pragma once

#include <cstdint>
#include <memory>

#include "upstream/host.h"

namespace sluice::upstream {

// The consecutive-failure kinds (Envoy's OutlierEjectionType, the consecutive ones).
enum class ConsecutiveFailure : uint8_t { FiveXx, GatewayFailure, LocalOriginFailure };

// A local-origin event of one attempt (Envoy's Outlier::Result, local ones).
enum class LocalOriginResult : uint8_t {
  ConnectSuccess,  // a connection to the host is ready (counted only with split_external_local_origin_errors)
  ConnectFailed,   // refused, connect timeout, reset or closed before a response, protocol error
  Timeout,         // the route's timeout passed waiting for the response
};

// Where a threshold crossing goes (the detector on the main thread).
class OutlierReporter {
 public:
  virtual ~OutlierReporter() = default;
  // Any thread; posts to the detector's thread.
  virtual void consecutiveFailure(HostPtr host, ConsecutiveFailure kind) const = 0;
};

// The thresholds the workers compare against (outlier_detection's
// consecutive_* fields and split_external_local_origin_errors).
struct OutlierThresholds {
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failure = 5;
  uint32_t consecutive_local_origin_failure = 5;
  bool split_external_local_origin_errors = false;
};

class OutlierMonitor {
 public:
  OutlierMonitor(OutlierThresholds thresholds, std::shared_ptr<const OutlierReporter> reporter)
      : thresholds_(thresholds), reporter_(std::move(reporter)) {}

  // The host answered with `status` (an upstream response head).
  void putHttpStatus(const HostPtr& host, int status) const;
  // A local-origin event. Without split_external_local_origin_errors it
  // counts as an HTTP status, as in Envoy (connect failure 503, timeout 504;
  // a connect success counts nothing).
  void putLocalOrigin(const HostPtr& host, LocalOriginResult result) const;

  const OutlierThresholds& thresholds() const { return thresholds_; }

 private:
  void localOriginFailure(const HostPtr& host) const;

  OutlierThresholds thresholds_;
  std::shared_ptr<const OutlierReporter> reporter_;
};

}  // namespace sluice::upstream
