// Building LRS load reports (envoy.service.load_stats.v3 LoadStatsRequest
// cluster_stats) from what the request path already counts: each Host's
// HostStats (rq_success, rq_error, rq_active, relaxed atomics that any worker
// updates; upstream_request.cc charges them) and each cluster's
// upstream_rq_pending_overflow (circuit breaking: total_dropped_requests).
// Nothing is added to the request path; the builder keeps, per host, the
// values it last reported and reports the difference.
//
// Counting rules (Envoy's UpstreamLocalityStats): successful = responses
// below 500; error = 5xx, connect failures and timeouts, resets (everything
// else that ended on the host); in_progress = rq_active now; issued =
// requests begun on the host in the interval (ended + in progress, less
// what was reported before). A host that left its cluster during an interval takes its
// last counts with it. Main thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "envoy/service/load_stats/v3/lrs.pb.h"
#include "upstream/host.h"

namespace sluice::server {

// One cluster as the cluster manager has it now.
struct LoadReportCluster {
  std::string name;
  std::string service_name;    // its EDS service_name when set (cluster_service_name)
  upstream::HostSetPtr hosts;  // every host, whatever its health; may be null
  uint64_t dropped_total = 0;  // upstream_rq_pending_overflow's value
};

class LoadReportBuilder {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts reporting `clusters` at `now`: what they counted before is not
  // reported. Clusters already reported keep their baselines; others are forgotten.
  void startPeriod(const std::vector<LoadReportCluster>& clusters, Clock::time_point now);

  // Appends to `out` one ClusterStats per cluster of `clusters`: the load
  // since its last report (or the period's start; a cluster or host first
  // seen here: since it was created), with load_report_interval the time
  // that passed. Localities with nothing to say are left out, as Envoy
  // does. Then takes these values as the new baselines.
  void build(const std::vector<LoadReportCluster>& clusters, Clock::time_point now,
             envoy::service::load_stats::v3::LoadStatsRequest& out);

  size_t trackedClusters() const { return clusters_.size(); }

 private:
  struct HostBase {
    std::shared_ptr<upstream::HostStats> stats;  // held: the key cannot be reused while tracked
    uint64_t success = 0;
    uint64_t error = 0;
    // Requests begun (ended + in progress) as last reported; it never goes
    // down (see build).
    uint64_t begun = 0;
    uint64_t pass = 0;  // the last build that saw it
  };
  struct ClusterBase {
    Clock::time_point since;
    uint64_t dropped = 0;
    std::unordered_map<const upstream::HostStats*, HostBase> hosts;
  };
  static void baseline(const LoadReportCluster& cluster, ClusterBase& base);

  std::map<std::string, ClusterBase> clusters_;
  Clock::time_point period_start_{};
  uint64_t pass_ = 0;
};

}  // namespace sluice::server
