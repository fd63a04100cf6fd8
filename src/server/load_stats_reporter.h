// sluice's LRS client (Envoy's LoadStatsReporter), configured by
// cluster_manager.load_stats_config: one StreamLoadStats stream to the
// management server over the shared gRPC stream transport
// (config/xds/grpc_transport.h: its threads, reconnects with
// config::jitteredBackoff). Each stream's first LoadStatsRequest carries the
// node (with the client feature envoy.lrs.supports_send_all_clusters); each
// LoadStatsResponse says which clusters to report (`clusters`, or
// `send_all_clusters`) and how often (`load_reporting_interval`) and starts a
// new reporting period; every interval a request carries one ClusterStats per
// such cluster that exists (load_report.h builds them). A response that
// cannot be used (no or a non-positive interval) is counted in errors, logged
// and ignored: the previous one, if any, stays in force.
//
// Stats, Envoy's: cluster_manager.load_reporter.requests (requests written
// to the transport), .responses (usable ones), .errors (bad responses,
// streams that ended or could not open), .retries (the attempts that follow
// such an end).
// Main thread only: the transport posts its events here.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/xds/ads_transport.h"
#include "envoy/service/load_stats/v3/lrs.pb.h"
#include "server/load_report.h"
#include "stats/stats.h"

namespace sluice::server {

using LoadStatsTransport = config::xds::AdsTransportOf<envoy::service::load_stats::v3::LoadStatsRequest,
                                                       envoy::service::load_stats::v3::LoadStatsResponse>;

class LoadStatsReporter final
    : public config::xds::AdsStreamEventsOf<envoy::service::load_stats::v3::LoadStatsResponse> {
 public:
  // The clusters there are now (the cluster manager's).
  using Clusters = std::function<std::vector<LoadReportCluster>()>;
  static constexpr const char* kSendAllClustersFeature = "envoy.lrs.supports_send_all_clusters";

  LoadStatsReporter(asio::io_context& main, std::unique_ptr<LoadStatsTransport> transport,
                    envoy::config::core::v3::Node node, Clusters clusters, stats::Store& store);
  ~LoadStatsReporter() override;

  void start();
  // Stops the stream and the timer; nothing runs after it.
  void stop();

  void onStreamOpen(uint64_t stream, const std::string& peer) override;
  void onResponse(uint64_t stream, envoy::service::load_stats::v3::LoadStatsResponse response,
                  config::xds::ReceivedAt received) override;
  void onStreamClosed(uint64_t stream, const std::string& reason) override;

 private:
  // The clusters the last response asked for that exist now.
  std::vector<LoadReportCluster> selected() const;
  void arm();
  void report();

  asio::io_context& main_;
  std::unique_ptr<LoadStatsTransport> transport_;
  envoy::config::core::v3::Node node_;
  Clusters clusters_;
  stats::Counter& requests_;
  stats::Counter& responses_;
  stats::Counter& errors_;
  stats::Counter& retries_;
  asio::steady_timer timer_;
  LoadReportBuilder builder_;
  uint64_t stream_ = 0;  // the open stream, 0: none
  bool stopped_ = false;
  // From the last usable response of the open stream; none: not reporting.
  bool reporting_ = false;
  bool send_all_ = false;
  std::set<std::string> names_;
  std::chrono::nanoseconds interval_{0};
};

}  // namespace sluice::server
