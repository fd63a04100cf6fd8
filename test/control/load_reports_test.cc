#include "control/load_reports.h"

#include <gtest/gtest.h>

namespace sluice::control {
namespace {

using envoy::service::load_stats::v3::LoadStatsRequest;

LoadStatsRequest hello(const std::string& id, bool send_all) {
  LoadStatsRequest request;
  request.mutable_node()->set_id(id);
  if (send_all) request.mutable_node()->add_client_features("envoy.lrs.supports_send_all_clusters");
  return request;
}

LoadStatsRequest report(const std::string& cluster, const std::string& zone, uint64_t issued, int64_t seconds) {
  LoadStatsRequest request;
  auto* stats = request.add_cluster_stats();
  stats->set_cluster_name(cluster);
  stats->mutable_load_report_interval()->set_seconds(seconds);
  auto* locality = stats->add_upstream_locality_stats();
  locality->mutable_locality()->set_zone(zone);
  locality->set_total_issued_requests(issued);
  return request;
}

LoadReports reports() {
  return LoadReports(std::chrono::milliseconds(1500), [](const envoy::config::core::v3::Node&) {
    return std::vector<std::string>{"a.z1", "a.z2"};
  });
}

TEST(LoadReports, TheFirstRequestIsAnsweredWithTheClustersAndTheIntervalAndOnlyIt) {
  auto loads = reports();
  const uint64_t all = loads.openStream();
  const auto response = loads.onRequest(all, hello("n1", true));
  ASSERT_TRUE(response);
  EXPECT_TRUE(response->send_all_clusters());
  EXPECT_EQ(response->clusters_size(), 0);
  EXPECT_EQ(response->load_reporting_interval().seconds(), 1);
  EXPECT_EQ(response->load_reporting_interval().nanos(), 500'000'000);
  EXPECT_FALSE(loads.onRequest(all, report("a.z1", "z1", 10, 1)));
  const uint64_t named = loads.openStream();
  const auto listed = loads.onRequest(named, hello("n2", false));
  ASSERT_TRUE(listed);
  EXPECT_FALSE(listed->send_all_clusters());
  ASSERT_EQ(listed->clusters_size(), 2);
  EXPECT_EQ(listed->clusters(1), "a.z2");
}

TEST(LoadReports, KeepsTheLatestLoadPerNodeClusterAndLocalityAndSumsZones) {
  auto loads = reports();
  const uint64_t one = loads.openStream();
  const uint64_t two = loads.openStream();
  (void)loads.onRequest(one, hello("n1", true));
  (void)loads.onRequest(two, hello("n2", true));
  (void)loads.onRequest(one, report("a.z1", "z1", 100, 10));
  (void)loads.onRequest(one, report("a.z1", "z1", 40, 10));  // replaces the one before
  (void)loads.onRequest(two, report("a.z1", "z1", 30, 3));
  EXPECT_EQ(loads.loads().at("n1").at("a.z1").at("z1").issued, 40u);
  EXPECT_DOUBLE_EQ(loads.zoneRps("z1"), 4 + 10);
  EXPECT_DOUBLE_EQ(loads.zoneRps("z2"), 0);
  EXPECT_EQ(loads.counters().reports, 3u);
  loads.closeStream(one);
  EXPECT_FALSE(loads.loads().contains("n1"));
  EXPECT_DOUBLE_EQ(loads.zoneRps("z1"), 10);
}

TEST(LoadReports, AReportWithAZeroIntervalCountsNoRate) {
  auto loads = reports();
  const uint64_t s = loads.openStream();
  (void)loads.onRequest(s, hello("n1", true));
  (void)loads.onRequest(s, report("a.z1", "z1", 100, 0));
  EXPECT_DOUBLE_EQ(loads.zoneRps("z1"), 0);
}

TEST(LoadReports, ANodesLocalitiesAreBoundedAndTheRestCounted) {
  auto loads = reports();
  const uint64_t s = loads.openStream();
  (void)loads.onRequest(s, hello("n1", true));
  LoadStatsRequest big;
  for (size_t i = 0; i < LoadReports::kMaxLocalitiesPerNode + 5; ++i) {
    auto* stats = big.add_cluster_stats();
    stats->set_cluster_name("c" + std::to_string(i));
    stats->add_upstream_locality_stats()->mutable_locality()->set_zone("z1");
  }
  (void)loads.onRequest(s, big);
  EXPECT_EQ(loads.loads().at("n1").size(), LoadReports::kMaxLocalitiesPerNode);
  EXPECT_EQ(loads.counters().localities_dropped, 5u);
}

TEST(LoadReports, AStreamWithoutANodeIdIsAnsweredButNotKept) {
  auto loads = reports();
  const uint64_t s = loads.openStream();
  EXPECT_TRUE(loads.onRequest(s, hello("", true)));
  (void)loads.onRequest(s, report("a.z1", "z1", 100, 1));
  EXPECT_TRUE(loads.loads().empty());
  EXPECT_EQ(loads.counters().reports_without_node, 1u);
}

}  // namespace
}  // namespace sluice::control
