#include "server/load_stats_reporter.h"

#include <google/protobuf/util/time_util.h>

#include "log/logger.h"

namespace sluice::server {

using envoy::service::load_stats::v3::LoadStatsRequest;
using envoy::service::load_stats::v3::LoadStatsResponse;

LoadStatsReporter::LoadStatsReporter(asio::io_context& main, std::unique_ptr<LoadStatsTransport> transport,
                                     envoy::config::core::v3::Node node, Clusters clusters, stats::Store& store)
    : main_(main),
      transport_(std::move(transport)),
      node_(std::move(node)),
      clusters_(std::move(clusters)),
      requests_(store.counter("cluster_manager.load_reporter.requests")),
      responses_(store.counter("cluster_manager.load_reporter.responses")),
      errors_(store.counter("cluster_manager.load_reporter.errors")),
      retries_(store.counter("cluster_manager.load_reporter.retries")),
      timer_(main) {
  node_.add_client_features(kSendAllClustersFeature);
}

LoadStatsReporter::~LoadStatsReporter() { stop(); }

void LoadStatsReporter::start() { transport_->start(*this); }

void LoadStatsReporter::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  transport_->stop();
}

void LoadStatsReporter::onStreamOpen(uint64_t stream, const std::string& peer) {
  stream_ = stream;
  reporting_ = false;
  timer_.cancel();
  SLUICE_LOG(upstream, info, "lrs: stream open to {}", peer);
  LoadStatsRequest request;
  *request.mutable_node() = node_;
  requests_.inc();
  transport_->send(stream, std::move(request), nullptr);
}

void LoadStatsReporter::onResponse(uint64_t stream, LoadStatsResponse response, config::xds::ReceivedAt) {
  if (stream != stream_) return;  // a stream that has since closed
  const auto& interval = response.load_reporting_interval();
  // Positive, a valid Duration, and at most a year (in nanoseconds it fits an int64).
  constexpr int64_t kMaxSeconds = 365LL * 24 * 3600;
  const bool valid = interval.seconds() >= 0 && interval.seconds() <= kMaxSeconds && interval.nanos() >= 0 &&
                     interval.nanos() < 1'000'000'000 && (interval.seconds() > 0 || interval.nanos() > 0);
  if (!response.has_load_reporting_interval() || !valid) {
    errors_.inc();
    SLUICE_LOG(upstream, warn,
               "lrs: response ignored: load_reporting_interval must be set, positive and at most a year (got {})",
               google::protobuf::util::TimeUtil::ToString(response.load_reporting_interval()));
    return;
  }
  responses_.inc();
  send_all_ = response.send_all_clusters();
  names_ = std::set<std::string>(response.clusters().begin(), response.clusters().end());
  interval_ = std::chrono::nanoseconds(
      google::protobuf::util::TimeUtil::DurationToNanoseconds(response.load_reporting_interval()));
  reporting_ = true;
  builder_.startPeriod(selected(), LoadReportBuilder::Clock::now());
  SLUICE_LOG(upstream, debug, "lrs: reporting {} every {}",
             send_all_ ? "all clusters" : std::to_string(names_.size()) + " clusters",
             google::protobuf::util::TimeUtil::ToString(response.load_reporting_interval()));
  arm();
}

void LoadStatsReporter::onStreamClosed(uint64_t stream, const std::string& reason) {
  if (stream != 0 && stream != stream_) return;
  errors_.inc();
  retries_.inc();  // the transport opens another after its backoff
  if (stream != 0) {
    SLUICE_LOG(upstream, warn, "lrs: stream closed: {}", reason);
  } else {
    SLUICE_LOG(upstream, debug, "lrs: {}", reason);
  }
  stream_ = 0;
  reporting_ = false;
  timer_.cancel();
}

std::vector<LoadReportCluster> LoadStatsReporter::selected() const {
  auto all = clusters_();
  if (send_all_) return all;
  std::erase_if(all, [this](const LoadReportCluster& c) { return names_.count(c.name) == 0; });
  return all;
}

void LoadStatsReporter::arm() {
  timer_.cancel();
  timer_.expires_after(interval_);
  timer_.async_wait([this, stream = stream_](const std::error_code& ec) {
    if (ec || stopped_ || stream != stream_ || !reporting_) return;
    report();
    arm();
  });
}

void LoadStatsReporter::report() {
  LoadStatsRequest request;
  *request.mutable_node() = node_;
  builder_.build(selected(), LoadReportBuilder::Clock::now(), request);
  requests_.inc();
  transport_->send(stream_, std::move(request), nullptr);
}

}  // namespace sluice::server
