// Outlier detection of one cluster (Envoy's Outlier::DetectorImpl), on the
// main thread: it ejects hosts that fail (consecutive 5xx, gateway failures
// or local-origin failures, reported by the workers at the N-th failure; or,
// at every interval, a success rate or failure percentage far from the
// others') and returns them after their ejection time.
//
// Threads: everything here runs on the main thread, including the writes of
// the hosts' /failed_outlier_check flag. Workers count each host's results on
// the host (Host::outlier, upstream/outlier_monitor.h) and post a threshold
// crossing through reporter(); the interval reads and resets the counts.
// An ejection or return calls `changed`: the cluster manager publishes new
// host sets to the workers, as for active health checking. Owned by the
// cluster manager; stop() cancels the interval timer.
//
// The logic takes `now` as an argument so that unit tests drive it with a
// fake clock; start() adds the timer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "envoy/config/cluster/v3/outlier_detection.pb.h"
#include "network/asio_util.h"
#include "runtime/runtime.h"
#include "stats/stats.h"
#include "upstream/host.h"
#include "upstream/outlier_monitor.h"

namespace sluice::upstream::outlier {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// Envoy's OutlierEjectionType.
enum class EjectionType : uint8_t {
  Consecutive5xx,
  ConsecutiveGatewayFailure,
  ConsecutiveLocalOriginFailure,
  SuccessRate,
  LocalOriginSuccessRate,
  FailurePercentage,
  FailurePercentageLocalOrigin,
};
constexpr size_t kEjectionTypes = 7;

// outlier_detection, compiled, with Envoy's defaults.
struct OutlierSettings {
  OutlierThresholds thresholds;
  Millis interval{10000};
  Millis base_ejection_time{30000};
  Millis max_ejection_time{300000};
  uint32_t max_ejection_percent = 10;
  uint32_t enforcing_consecutive_5xx = 100;
  uint32_t enforcing_consecutive_gateway_failure = 0;
  uint32_t enforcing_consecutive_local_origin_failure = 100;
  uint32_t enforcing_success_rate = 100;
  uint32_t enforcing_local_origin_success_rate = 100;
  uint32_t enforcing_failure_percentage = 0;
  uint32_t enforcing_failure_percentage_local_origin = 0;
  uint32_t success_rate_minimum_hosts = 5;
  uint32_t success_rate_request_volume = 100;
  uint32_t success_rate_stdev_factor = 1900;  // thousandths
  uint32_t failure_percentage_threshold = 85;
  uint32_t failure_percentage_minimum_hosts = 5;
  uint32_t failure_percentage_request_volume = 50;
  bool successful_active_health_check_uneject_host = true;
};
OutlierSettings compileOutlierDetection(const envoy::config::cluster::v3::OutlierDetection& proto);

// cluster.<name>.outlier_detection.* (Envoy's names; the deprecated
// ejections_total and ejections_consecutive_5xx are left out).
struct OutlierDetectionStats {
  OutlierDetectionStats(stats::Store& store, const std::string& cluster_stat_name);
  stats::Counter& ejections_enforced_total;
  stats::Gauge& ejections_active;
  stats::Counter& ejections_overflow;
  std::array<stats::Counter*, kEjectionTypes> enforced;  // ejections_enforced_<type>
  std::array<stats::Counter*, kEjectionTypes> detected;  // ejections_detected_<type>
};

class OutlierDetector : public std::enable_shared_from_this<OutlierDetector> {
 public:
  struct Callbacks {
    std::function<void()> changed;                  // some host was ejected or returned
    std::function<runtime::SnapshotPtr()> runtime;  // the enforcing_* keys; may return null
    std::function<uint64_t()> random;               // for the enforcing_* percentages
  };
  OutlierDetector(OutlierSettings settings, std::shared_ptr<OutlierDetectionStats> stats, Callbacks callbacks);
  OutlierDetector(const OutlierDetector&) = delete;
  OutlierDetector& operator=(const OutlierDetector&) = delete;

  // The cluster's hosts now: new ones start unejected, leaving ones are forgotten.
  void setHosts(const HostSet& hosts);
  // A worker saw `host` reach a consecutive-failure threshold.
  void onConsecutiveFailure(const HostPtr& host, ConsecutiveFailure kind, Clock::time_point now);
  // An active health check passed `host`: an ejected one returns at once
  // (successful_active_health_check_uneject_host, Envoy's default).
  void onActiveCheckPassed(const HostPtr& host);
  // Every interval: ejected hosts whose time passed return; success rate and
  // failure percentage over the interval's counts.
  void runInterval(Clock::time_point now);

  // Runs runInterval every `interval` on `executor` until stop().
  void start(asio::any_io_executor executor);
  // Cancels the timer and returns every ejected host (a detector replaced or removed).
  void stop();
  // For the workers (OutlierMonitor); posts to the executor given to start().
  std::shared_ptr<const OutlierReporter> reporter();

  const OutlierSettings& settings() const { return settings_; }
  // The last interval's success rates (admin /clusters), -1 when not computed.
  double successRate(const Host& host) const;
  double localOriginSuccessRate(const Host& host) const;
  // The cluster's last success-rate average and ejection threshold, -1 when not computed.
  double successRateAverage() const { return sr_average_[0]; }
  double successRateEjectionThreshold() const { return sr_threshold_[0]; }
  uint32_t ejectionCount(const Host& host) const;  // how often `host` was ejected
  uint32_t ejected() const { return ejected_; }

 private:
  struct HostState {
    HostPtr host;
    uint32_t num_ejections = 0;
    uint32_t backoff = 0;  // the ejection time multiplier
    std::optional<Clock::time_point> ejected_at;
    double success_rate[2] = {-1, -1};  // external, local origin
  };
  void eject(HostState& state, EjectionType type, Clock::time_point now);
  void returnIfDue(HostState& state, Clock::time_point now);
  void returnHost(HostState& state);
  void rateEjections(bool local_origin, Clock::time_point now);
  bool enforced(EjectionType type) const;
  uint64_t runtimeInteger(const char* key, uint64_t fallback) const;
  void armTimer();

  OutlierSettings settings_;
  std::shared_ptr<OutlierDetectionStats> stats_;
  Callbacks callbacks_;
  std::unordered_map<const Host*, HostState> hosts_;
  uint32_t ejected_ = 0;
  bool changed_ = false;  // within one call: tell `changed` once
  double sr_average_[2] = {-1, -1};
  double sr_threshold_[2] = {-1, -1};
  std::optional<asio::any_io_executor> executor_;
  std::unique_ptr<asio::steady_timer> timer_;
};

}  // namespace sluice::upstream::outlier
