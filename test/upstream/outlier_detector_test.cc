// Outlier detection's rules, with a fake clock: the workers' counting
// (OutlierMonitor: a report at exactly the N-th failure in a row), ejection
// and return, the multiplicative back-off and its cap, max_ejection_percent,
// the enforcing percentages, success rate and failure percentage.
#include "upstream/outlier/outlier_detector.h"

#include <gtest/gtest.h>

#include <vector>

#include "upstream/outlier_monitor.h"

namespace sluice::upstream::outlier {
namespace {

using std::chrono::seconds;

// Collects the workers' reports instead of posting them.
struct Reports final : OutlierReporter {
  mutable std::vector<std::pair<HostPtr, ConsecutiveFailure>> seen;
  void consecutiveFailure(HostPtr host, ConsecutiveFailure kind) const override { seen.emplace_back(host, kind); }
};

struct OutlierDetection : ::testing::Test {
  stats::Store store{1};
  std::shared_ptr<OutlierDetectionStats> stats = std::make_shared<OutlierDetectionStats>(store, "c");
  std::vector<HostPtr> hosts;
  HostSetPtr set;
  int changes = 0;
  runtime::SnapshotPtr runtime;
  Clock::time_point t0 = Clock::time_point() + seconds(1000);

  std::shared_ptr<OutlierDetector> detector(OutlierSettings settings, size_t host_count) {
    for (size_t i = 0; i < host_count; ++i) hosts.push_back(makeHost("10.0.0." + std::to_string(i + 1), 80));
    set = std::make_shared<const HostSet>(hosts);
    auto d = std::make_shared<OutlierDetector>(
        settings, stats,
        OutlierDetector::Callbacks{[this] { ++changes; }, [this] { return runtime; }, [] { return uint64_t{42}; }});
    d->setHosts(*set);
    return d;
  }
  bool ejected(size_t i) const { return (hosts[i]->healthFlags() & kFailedOutlierCheck) != 0; }
  uint64_t counter(const std::string& name) { return store.counter("cluster.c.outlier_detection." + name).value(); }
  int64_t active() { return store.gauge("cluster.c.outlier_detection.ejections_active").value(); }
  // `n` results of `status` for host i, as the workers count them, over one interval.
  void traffic(size_t i, int status, int n, const OutlierMonitor& monitor) {
    for (int k = 0; k < n; ++k) monitor.putHttpStatus(hosts[i], status);
  }
};

TEST_F(OutlierDetection, MonitorReportsExactlyAtTheNthConsecutive5xx) {
  detector({}, 1);
  auto reports = std::make_shared<Reports>();
  OutlierMonitor monitor({.consecutive_5xx = 3}, reports);
  traffic(0, 500, 2, monitor);
  traffic(0, 200, 1, monitor);  // a success breaks the streak
  traffic(0, 500, 2, monitor);
  EXPECT_TRUE(reports->seen.empty());
  traffic(0, 500, 1, monitor);
  ASSERT_EQ(reports->seen.size(), 1u);
  EXPECT_EQ(reports->seen[0].second, ConsecutiveFailure::FiveXx);
  traffic(0, 500, 5, monitor);  // past the threshold: no second report until reset
  EXPECT_EQ(reports->seen.size(), 1u);
}

TEST_F(OutlierDetection, GatewayFailuresCountOnly502To504) {
  detector({}, 1);
  auto reports = std::make_shared<Reports>();
  OutlierMonitor monitor({.consecutive_5xx = 100, .consecutive_gateway_failure = 2}, reports);
  traffic(0, 503, 1, monitor);
  traffic(0, 500, 1, monitor);  // a 5xx that is no gateway failure breaks the gateway streak
  traffic(0, 502, 1, monitor);
  EXPECT_TRUE(reports->seen.empty());
  traffic(0, 504, 1, monitor);
  ASSERT_EQ(reports->seen.size(), 1u);
  EXPECT_EQ(reports->seen[0].second, ConsecutiveFailure::GatewayFailure);
}

TEST_F(OutlierDetection, LocalOriginFailuresAreGatewayFailuresWithoutTheSplit) {
  detector({}, 1);
  auto reports = std::make_shared<Reports>();
  OutlierMonitor monitor({.consecutive_5xx = 2, .consecutive_gateway_failure = 100}, reports);
  monitor.putLocalOrigin(hosts[0], LocalOriginResult::ConnectSuccess);  // counts nothing
  monitor.putLocalOrigin(hosts[0], LocalOriginResult::ConnectFailed);
  monitor.putLocalOrigin(hosts[0], LocalOriginResult::Timeout);
  ASSERT_EQ(reports->seen.size(), 1u);
  EXPECT_EQ(reports->seen[0].second, ConsecutiveFailure::FiveXx);
  EXPECT_EQ(hosts[0]->outlier.external.load() >> 32, 2u);
}

TEST_F(OutlierDetection, SplitCountsLocalOriginFailuresApart) {
  detector({}, 1);
  auto reports = std::make_shared<Reports>();
  OutlierMonitor monitor(
      {.consecutive_5xx = 2, .consecutive_local_origin_failure = 2, .split_external_local_origin_errors = true},
      reports);
  monitor.putLocalOrigin(hosts[0], LocalOriginResult::ConnectFailed);
  traffic(0, 500, 1, monitor);  // external: does not break the local streak, nor join it
  monitor.putLocalOrigin(hosts[0], LocalOriginResult::Timeout);
  ASSERT_EQ(reports->seen.size(), 1u);
  EXPECT_EQ(reports->seen[0].second, ConsecutiveFailure::LocalOriginFailure);
  EXPECT_EQ(hosts[0]->outlier.local.load() >> 32, 2u);
  EXPECT_EQ(hosts[0]->outlier.external.load() >> 32, 1u);
}

TEST_F(OutlierDetection, ConsecutiveFailureEjectsAtOnceAndReturnsAfterBaseEjectionTime) {
  OutlierSettings s;
  s.base_ejection_time = seconds(30);
  s.max_ejection_percent = 100;
  auto d = detector(s, 2);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  EXPECT_TRUE(ejected(0));
  EXPECT_FALSE(ejected(1));
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(active(), 1);
  EXPECT_EQ(counter("ejections_enforced_total"), 1u);
  EXPECT_EQ(counter("ejections_enforced_consecutive_5xx"), 1u);
  EXPECT_EQ(counter("ejections_detected_consecutive_5xx"), 1u);
  d->runInterval(t0 + seconds(29));
  EXPECT_TRUE(ejected(0));
  d->runInterval(t0 + seconds(30));
  EXPECT_FALSE(ejected(0));
  EXPECT_EQ(active(), 0);
  EXPECT_EQ(changes, 2);
}

TEST_F(OutlierDetection, EjectionTimeGrowsWithEachEjectionUpToMaxEjectionTime) {
  OutlierSettings s;
  s.base_ejection_time = seconds(10);
  s.max_ejection_time = seconds(25);
  s.max_ejection_percent = 100;
  auto d = detector(s, 1);
  auto t = t0;
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t);
  d->runInterval(t + seconds(10));
  ASSERT_FALSE(ejected(0));
  t += seconds(10);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t);  // again at once: 2 x 10s
  d->runInterval(t + seconds(19));
  EXPECT_TRUE(ejected(0));
  d->runInterval(t + seconds(20));
  ASSERT_FALSE(ejected(0));
  t += seconds(20);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t);  // 3 x 10s, capped at 25s
  d->runInterval(t + seconds(24));
  EXPECT_TRUE(ejected(0));
  d->runInterval(t + seconds(25));
  EXPECT_FALSE(ejected(0));
  EXPECT_EQ(d->ejectionCount(*hosts[0]), 3u);
}

TEST_F(OutlierDetection, HealthyIntervalsShortenTheNextEjection) {
  OutlierSettings s;
  s.base_ejection_time = seconds(10);
  s.max_ejection_percent = 100;
  auto d = detector(s, 1);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  d->runInterval(t0 + seconds(10));  // back; multiplier 1
  d->runInterval(t0 + seconds(20));  // one interval not ejected: multiplier 0
  const auto t = t0 + seconds(25);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t);  // multiplier 1 again: 10s
  d->runInterval(t + seconds(10));
  EXPECT_FALSE(ejected(0));
}

TEST_F(OutlierDetection, MaxEjectionPercentCapsEjections) {
  OutlierSettings s;
  s.max_ejection_percent = 30;  // of 4 hosts: 0% and 25% ejected allow one more, 50% does not
  auto d = detector(s, 4);
  for (size_t i = 0; i < 4; ++i) d->onConsecutiveFailure(hosts[i], ConsecutiveFailure::FiveXx, t0);
  EXPECT_TRUE(ejected(0));
  EXPECT_TRUE(ejected(1));
  EXPECT_FALSE(ejected(2));
  EXPECT_FALSE(ejected(3));
  EXPECT_EQ(counter("ejections_overflow"), 2u);
  EXPECT_EQ(counter("ejections_detected_consecutive_5xx"), 4u);
  EXPECT_EQ(active(), 2);
}

TEST_F(OutlierDetection, DefaultTenPercentStillEjectsTheFirstHost) {
  auto d = detector({}, 3);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  d->onConsecutiveFailure(hosts[1], ConsecutiveFailure::FiveXx, t0);
  EXPECT_TRUE(ejected(0));
  EXPECT_FALSE(ejected(1));
}

TEST_F(OutlierDetection, GatewayFailureIsDetectedButNotEnforcedByDefault) {
  auto d = detector({}, 2);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::GatewayFailure, t0);
  EXPECT_FALSE(ejected(0));
  EXPECT_EQ(counter("ejections_detected_consecutive_gateway_failure"), 1u);
  EXPECT_EQ(counter("ejections_enforced_consecutive_gateway_failure"), 0u);
}

TEST_F(OutlierDetection, RuntimeOverridesTheEnforcingPercentage) {
  auto d = detector({}, 2);
  runtime = std::make_shared<runtime::Snapshot>(std::map<std::string, std::string, std::less<>>{
      {"outlier_detection.enforcing_consecutive_5xx", "0"},
      {"outlier_detection.enforcing_consecutive_gateway_failure", "100"}});
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  EXPECT_FALSE(ejected(0));
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::GatewayFailure, t0);
  EXPECT_TRUE(ejected(0));
}

TEST_F(OutlierDetection, SuccessRateEjectsTheHostFarBelowTheOthers) {
  OutlierSettings s;
  s.success_rate_minimum_hosts = 5;
  s.success_rate_request_volume = 100;
  s.max_ejection_percent = 100;
  auto d = detector(s, 5);
  OutlierMonitor monitor({.consecutive_5xx = 1000000}, std::make_shared<Reports>());
  for (size_t i = 1; i < 5; ++i) traffic(i, 200, 100, monitor);
  traffic(0, 200, 50, monitor);
  traffic(0, 500, 50, monitor);  // 50% against four at 100%: threshold 90 - 1.9 * 20 = 52
  d->runInterval(t0);
  EXPECT_TRUE(ejected(0));
  for (size_t i = 1; i < 5; ++i) EXPECT_FALSE(ejected(i)) << i;
  EXPECT_DOUBLE_EQ(d->successRateAverage(), 90);
  EXPECT_DOUBLE_EQ(d->successRateEjectionThreshold(), 52);
  EXPECT_DOUBLE_EQ(d->successRate(*hosts[0]), 50);
  EXPECT_DOUBLE_EQ(d->successRate(*hosts[1]), 100);
  EXPECT_EQ(counter("ejections_enforced_success_rate"), 1u);
  // The next interval starts from zero: no volume, no rate.
  d->runInterval(t0 + seconds(1));
  EXPECT_DOUBLE_EQ(d->successRate(*hosts[1]), -1);
}

TEST_F(OutlierDetection, SuccessRateNeedsMinimumHostsWithRequestVolume) {
  OutlierSettings s;
  s.max_ejection_percent = 100;
  auto d = detector(s, 5);
  OutlierMonitor monitor({.consecutive_5xx = 1000000}, std::make_shared<Reports>());
  for (size_t i = 1; i < 4; ++i) traffic(i, 200, 100, monitor);
  traffic(4, 200, 99, monitor);  // below success_rate_request_volume: four hosts count, not five
  traffic(0, 500, 100, monitor);
  d->runInterval(t0);
  EXPECT_FALSE(ejected(0));
  EXPECT_DOUBLE_EQ(d->successRateAverage(), -1);
}

TEST_F(OutlierDetection, FailurePercentageEjectsWhenEnforced) {
  OutlierSettings s;
  s.enforcing_failure_percentage = 100;
  s.failure_percentage_minimum_hosts = 3;
  s.failure_percentage_request_volume = 10;
  s.success_rate_minimum_hosts = 100;  // success rate out of the way
  s.max_ejection_percent = 100;
  auto d = detector(s, 3);
  OutlierMonitor monitor({.consecutive_5xx = 1000000}, std::make_shared<Reports>());
  traffic(0, 500, 9, monitor);
  traffic(0, 200, 1, monitor);  // 90% failures >= 85
  traffic(1, 500, 8, monitor);
  traffic(1, 200, 2, monitor);  // 80%: stays
  traffic(2, 200, 10, monitor);
  d->runInterval(t0);
  EXPECT_TRUE(ejected(0));
  EXPECT_FALSE(ejected(1));
  EXPECT_FALSE(ejected(2));
  EXPECT_EQ(counter("ejections_enforced_failure_percentage"), 1u);
  EXPECT_EQ(counter("ejections_detected_failure_percentage"), 1u);
}

TEST_F(OutlierDetection, HostThatLeavesIsNoLongerCountedAsEjected) {
  OutlierSettings s;
  s.max_ejection_percent = 100;
  auto d = detector(s, 2);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  ASSERT_EQ(active(), 1);
  d->setHosts(HostSet({hosts[1]}));
  EXPECT_EQ(active(), 0);
  EXPECT_EQ(d->ejected(), 0u);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);  // a late report of a gone host
  EXPECT_EQ(active(), 0);
}

TEST_F(OutlierDetection, PassingActiveCheckReturnsAnEjectedHostUnlessTurnedOff) {
  OutlierSettings s;
  s.max_ejection_percent = 100;
  auto d = detector(s, 1);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  d->onActiveCheckPassed(hosts[0]);
  EXPECT_FALSE(ejected(0));
  EXPECT_EQ(active(), 0);
  EXPECT_EQ(changes, 2);
  s.successful_active_health_check_uneject_host = false;
  auto kept = detector(s, 0);  // the same hosts, a detector with the setting off
  kept->setHosts(*set);
  kept->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  kept->onActiveCheckPassed(hosts[0]);
  EXPECT_TRUE(ejected(0));
}

TEST_F(OutlierDetection, StopReturnsEveryEjectedHost) {
  OutlierSettings s;
  s.max_ejection_percent = 100;
  auto d = detector(s, 2);
  d->onConsecutiveFailure(hosts[0], ConsecutiveFailure::FiveXx, t0);
  d->stop();
  EXPECT_FALSE(ejected(0));
  EXPECT_EQ(active(), 0);
}

}  // namespace
}  // namespace sluice::upstream::outlier
