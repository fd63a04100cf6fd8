// Load reported over LRS (envoy.service.load_stats.v3.LoadReportingService,
// issue 14, 3): the latest report of each node per cluster and locality,
// what /v1/zones and /metrics show of it. A stream's first request is
// answered with the clusters to report (send_all_clusters when the node
// says it supports it, else the names of its snapshot's clusters) and the
// reporting interval. Loads are kept per node id while one of its streams is
// open. Main thread only; the gRPC side posts here (lrs_service.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "envoy/service/load_stats/v3/lrs.pb.h"

namespace sluice::control {

// One locality's load in one report (the report's own interval).
struct LocalityLoad {
  uint64_t issued = 0;       // total_issued_requests: Envoy's upstream_rq_total over the interval
  uint64_t successful = 0;   // total_successful_requests
  uint64_t errors = 0;       // total_error_requests
  uint64_t in_progress = 0;  // total_requests_in_progress, at the report
  double interval_seconds = 0;
  std::chrono::system_clock::time_point reported_at;
  double rps() const { return interval_seconds > 0 ? static_cast<double>(issued) / interval_seconds : 0; }
};

struct LoadCounters {
  uint64_t streams = 0;               // LRS streams opened
  uint64_t reports = 0;               // requests that carried cluster_stats
  uint64_t localities_dropped = 0;    // locality entries beyond kMaxLocalitiesPerNode
  uint64_t reports_without_node = 0;  // a stream whose first request had no node.id: not kept
};

class LoadReports {
 public:
  // node id → cluster → locality zone → its latest load.
  using Loads = std::map<std::string, std::map<std::string, std::map<std::string, LocalityLoad>>>;
  // The clusters a node without send_all_clusters support is asked for.
  using ClustersOf = std::function<std::vector<std::string>(const envoy::config::core::v3::Node&)>;

  // A node's reports hold at most this many (cluster, locality) entries.
  static constexpr size_t kMaxLocalitiesPerNode = 10'000;

  LoadReports(std::chrono::milliseconds interval, ClustersOf clusters_of)
      : interval_(interval), clusters_of_(std::move(clusters_of)) {}

  uint64_t openStream();
  // The response to send, for the stream's first request; nothing after.
  std::optional<envoy::service::load_stats::v3::LoadStatsResponse> onRequest(
      uint64_t stream, const envoy::service::load_stats::v3::LoadStatsRequest& request);
  void closeStream(uint64_t stream);

  const Loads& loads() const { return loads_; }
  const LoadCounters& counters() const { return counters_; }
  size_t openStreams() const { return streams_.size(); }
  std::chrono::milliseconds interval() const { return interval_; }
  // The reported requests per second into `zone`, over every node and cluster.
  double zoneRps(const std::string& zone) const;

 private:
  std::chrono::milliseconds interval_;
  ClustersOf clusters_of_;
  std::map<uint64_t, std::string> streams_;  // stream → node id ("" until the first request)
  uint64_t next_stream_ = 1;
  Loads loads_;
  LoadCounters counters_;
};

}  // namespace sluice::control
