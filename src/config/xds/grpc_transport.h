// The ADS transport over libgrpc++ (synchronous API), on threads of its own:
// a stream thread connects to the ADS cluster's endpoints in turn, opens the
// stream (`method`: StreamAggregatedResources, DeltaAggregatedResources, or a
// per-type service's) and reads it; a writer thread per stream
// writes what the main thread queued. Between attempts it waits a jittered
// exponential backoff (a delay drawn from [c/2, c), c = 500 ms doubling to
// 30 s; reset by a stream that got a response). With rate_limit_settings,
// the writer waits for a token before each request. Events are posted to the main io_context; neither the workers
// nor the main thread ever wait on gRPC. Constructed, started and stopped on
// the main thread.
#pragma once

#include <asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/xds/ads_transport.h"
#include "config/xds/token_bucket.h"
#include "envoy/service/load_stats/v3/lrs.pb.h"
#include "stats/stats.h"

namespace grpc {
class ClientContext;
}

namespace sluice::config::xds {

struct GrpcTransportOptions {
  std::vector<std::string> targets;  // gRPC targets ("ipv4:127.0.0.1:18000"), tried in turn
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{30000};
  // The bidi streaming method: ADS by default, or a per-type service's
  // (api_config_source), e.g. "/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters".
  std::string method = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
  // ApiConfigSource.rate_limit_settings: requests are written at most this
  // fast (a token bucket across streams; a request waits for its token).
  struct RateLimit {
    uint32_t max_tokens = 100;  // Envoy's defaults
    double fill_rate = 10;      // tokens per second
  };
  std::optional<RateLimit> rate_limit;
  // Where pending_requests and rate_limit_enforced go ("control_plane." for
  // xDS; the LRS client's are under "cluster_manager.load_reporter.").
  std::string stat_prefix = "control_plane.";
};

template <typename Request, typename Response>
class GrpcAdsTransportOf final : public AdsTransportOf<Request, Response> {
 public:
  // <stat_prefix>pending_requests (requests queued, not yet written) comes from `store`.
  GrpcAdsTransportOf(asio::io_context& main, GrpcTransportOptions options, stats::Store& store);
  ~GrpcAdsTransportOf() override;

  void start(AdsStreamEventsOf<Response>& events) override;
  void send(uint64_t stream, Request request, SharedNames names) override;
  void stop() override;

 private:
  void run();  // the stream thread
  // One stream on `target` until it closes; true if it got a response.
  bool runStream(const std::string& target);
  void writeLoop(uint64_t stream, void* raw_stream);
  // Under `lock`: waits for a token of the rate limit (none: at once); false
  // if the stream ended or stop() came first.
  bool takeToken(std::unique_lock<std::mutex>& lock);
  // Waits `delay` unless stop() comes first; false if it did.
  bool waitFor(std::chrono::milliseconds delay);
  // Posts `event` to the main thread, where it runs unless stop() ran first.
  template <typename Event>
  void post(Event event);

  asio::io_context& main_;
  const GrpcTransportOptions options_;
  AdsStreamEventsOf<Response>* events_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // main thread only
  stats::Gauge& pending_requests_;
  stats::Counter& rate_limit_enforced_;  // a request had to wait for its token

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t stream_ = 0;       // the open stream's number, 0: none
  bool stream_done_ = false;  // the open stream's reader finished: its writer stops
  std::deque<std::pair<Request, SharedNames>> queue_;
  grpc::ClientContext* context_ = nullptr;  // the open stream's, for TryCancel
  std::optional<TokenBucket> bucket_;       // options_.rate_limit's; the writer thread's
  std::thread thread_;
};

using GrpcAdsTransport = GrpcAdsTransportOf<envoy::service::discovery::v3::DiscoveryRequest,
                                            envoy::service::discovery::v3::DiscoveryResponse>;
// The LRS stream (envoy.service.load_stats.v3.LoadReportingService.StreamLoadStats).
using GrpcLoadStatsTransport = GrpcAdsTransportOf<envoy::service::load_stats::v3::LoadStatsRequest,
                                                  envoy::service::load_stats::v3::LoadStatsResponse>;
using GrpcDeltaAdsTransport = GrpcAdsTransportOf<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                                                 envoy::service::discovery::v3::DeltaDiscoveryResponse>;

}  // namespace sluice::config::xds
