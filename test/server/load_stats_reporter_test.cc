// LoadStatsReporter with a fake transport: the first request of a stream,
// the response rules (bad ones counted and ignored, stale ones dropped), and
// reports at the interval for the clusters asked for.
#include "server/load_stats_reporter.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

namespace sluice::server {
namespace {

using envoy::service::load_stats::v3::LoadStatsRequest;
using envoy::service::load_stats::v3::LoadStatsResponse;

struct FakeTransport final : LoadStatsTransport {
  std::vector<std::pair<uint64_t, LoadStatsRequest>>* sent;
  bool* stopped;
  FakeTransport(std::vector<std::pair<uint64_t, LoadStatsRequest>>* s, bool* st) : sent(s), stopped(st) {}
  void start(config::xds::AdsStreamEventsOf<LoadStatsResponse>&) override {}
  void send(uint64_t stream, LoadStatsRequest request, config::xds::SharedNames) override {
    sent->emplace_back(stream, std::move(request));
  }
  void stop() override { *stopped = true; }
};

class LoadStatsReporterTest : public ::testing::Test {
 protected:
  LoadStatsReporterTest() {
    envoy::config::core::v3::Node node;
    node.set_id("edge-1");
    reporter_ = std::make_unique<LoadStatsReporter>(
        io_, std::make_unique<FakeTransport>(&sent_, &stopped_), node,
        [this] {
          std::vector<LoadReportCluster> clusters;
          for (const auto& name : clusters_) clusters.push_back({name, "", nullptr, 0});
          return clusters;
        },
        store_);
    reporter_->start();
  }
  uint64_t stat(const std::string& name) { return store_.counter("cluster_manager.load_reporter." + name).value(); }
  static LoadStatsResponse response(std::vector<std::string> clusters, int64_t interval_ms, bool all = false) {
    LoadStatsResponse r;
    for (auto& c : clusters) r.add_clusters(c);
    r.set_send_all_clusters(all);
    if (interval_ms >= 0) {
      r.mutable_load_reporting_interval()->set_seconds(interval_ms / 1000);
      r.mutable_load_reporting_interval()->set_nanos(static_cast<int32_t>(interval_ms % 1000) * 1'000'000);
    }
    return r;
  }
  // Runs the main loop until `n` requests were sent.
  void runUntilSent(size_t n) {
    while (sent_.size() < n) io_.run_one();
  }
  static std::vector<std::string> names(const LoadStatsRequest& r) {
    std::vector<std::string> out;
    for (const auto& c : r.cluster_stats()) out.push_back(c.cluster_name());
    return out;
  }

  asio::io_context io_;
  stats::Store store_{1};
  std::vector<std::pair<uint64_t, LoadStatsRequest>> sent_;
  bool stopped_ = false;
  std::vector<std::string> clusters_{"a", "b", "c"};
  std::unique_ptr<LoadStatsReporter> reporter_;
};

TEST_F(LoadStatsReporterTest, TheFirstRequestOfAStreamCarriesTheNodeAndItsSendAllClustersFeature) {
  reporter_->onStreamOpen(1, "ipv4:127.0.0.1:1");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].first, 1u);
  EXPECT_EQ(sent_[0].second.node().id(), "edge-1");
  ASSERT_EQ(sent_[0].second.node().client_features_size(), 1);
  EXPECT_EQ(sent_[0].second.node().client_features(0), "envoy.lrs.supports_send_all_clusters");
  EXPECT_EQ(sent_[0].second.cluster_stats_size(), 0);
  EXPECT_EQ(stat("requests"), 1u);
}

TEST_F(LoadStatsReporterTest, ReportsTheNamedClustersThatExistAtTheInterval) {
  reporter_->onStreamOpen(1, "x");
  reporter_->onResponse(1, response({"c", "a", "nosuch"}, 5), {});
  EXPECT_EQ(stat("responses"), 1u);
  runUntilSent(3);
  EXPECT_EQ(names(sent_[1].second), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(names(sent_[2].second), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(sent_[2].second.node().id(), "edge-1");
  reporter_->onResponse(1, response({}, 5, true), {});
  runUntilSent(4);
  EXPECT_EQ(names(sent_[3].second), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(LoadStatsReporterTest, ABadResponseIsCountedAndTheLastOneStaysInForce) {
  reporter_->onStreamOpen(1, "x");
  reporter_->onResponse(1, response({"b"}, 5), {});
  reporter_->onResponse(1, response({"a"}, -1), {});  // no interval
  auto zero = response({"a"}, 0);
  reporter_->onResponse(1, zero, {});
  auto negative = response({"a"}, 0);
  negative.mutable_load_reporting_interval()->set_seconds(-3);
  reporter_->onResponse(1, negative, {});
  auto too_long = response({"a"}, 0);
  too_long.mutable_load_reporting_interval()->set_seconds(400LL * 24 * 3600);
  reporter_->onResponse(1, too_long, {});
  EXPECT_EQ(stat("errors"), 4u);
  EXPECT_EQ(stat("responses"), 1u);
  runUntilSent(2);
  EXPECT_EQ(names(sent_[1].second), (std::vector<std::string>{"b"}));
}

TEST_F(LoadStatsReporterTest, AClosedStreamStopsReportingAndItsLateResponseIsDropped) {
  reporter_->onStreamOpen(1, "x");
  reporter_->onStreamClosed(1, "gone");
  EXPECT_EQ(stat("errors"), 1u);
  EXPECT_EQ(stat("retries"), 1u);
  reporter_->onResponse(1, response({"a"}, 1), {});  // posted before the close
  EXPECT_EQ(stat("responses"), 0u);
  reporter_->onStreamClosed(0, "cannot connect");  // an attempt that never opened
  EXPECT_EQ(stat("retries"), 2u);
  reporter_->onStreamOpen(2, "x");
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].first, 2u);
  EXPECT_EQ(sent_[1].second.cluster_stats_size(), 0);
  reporter_->stop();
  EXPECT_TRUE(stopped_);
}

}  // namespace
}  // namespace sluice::server
