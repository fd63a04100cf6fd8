// LoadReportBuilder: LRS cluster_stats from the hosts' counters, as deltas
// since the last report, per locality, with the time that passed.
#include "server/load_report.h"

#include <gtest/gtest.h>

#include <google/protobuf/util/time_util.h>

namespace sluice::server {
namespace {

using Clock = LoadReportBuilder::Clock;
using envoy::service::load_stats::v3::LoadStatsRequest;
using std::chrono::milliseconds;

struct Fixture {
  upstream::HostPtr a = upstream::makeHost("10.0.0.1", 80, "r", "z1");
  upstream::HostPtr b = upstream::makeHost("10.0.0.2", 80, "r", "z1");
  upstream::HostPtr c = upstream::makeHost("10.0.0.3", 80, "r", "z2", "s");
  LoadReportCluster cluster(std::vector<upstream::HostPtr> hosts, uint64_t dropped = 0) const {
    return {"web", "", std::make_shared<upstream::HostSet>(std::move(hosts)), dropped};
  }
};

// What the request path does: an UpstreamRequest begun, then ended with `status` (0: no response).
void begin(const upstream::HostPtr& h, int n = 1) { h->stats->rq_active += n; }
void end(const upstream::HostPtr& h, int status, int n = 1) {
  h->stats->rq_active -= n;
  (status > 0 && status < 500 ? h->stats->rq_success : h->stats->rq_error) += n;
}
void serve(const upstream::HostPtr& h, int status, int n = 1) {
  begin(h, n);
  end(h, status, n);
}

const envoy::config::endpoint::v3::UpstreamLocalityStats* locality(const LoadStatsRequest& r, const std::string& zone) {
  for (const auto& l : r.cluster_stats(0).upstream_locality_stats()) {
    if (l.locality().zone() == zone) return &l;
  }
  return nullptr;
}

TEST(LoadReport, SumsHostsPerLocalityAndReportsDeltas) {
  Fixture f;
  serve(f.a, 200, 7);  // before the period: not reported
  LoadReportBuilder builder;
  const auto t0 = Clock::now();
  builder.startPeriod({f.cluster({f.a, f.b, f.c})}, t0);
  serve(f.a, 200, 2);
  serve(f.b, 503);
  serve(f.b, 0);  // a connect failure
  serve(f.c, 404, 3);
  begin(f.c, 2);  // still in progress
  LoadStatsRequest r;
  builder.build({f.cluster({f.a, f.b, f.c}, 4)}, t0 + milliseconds(1500), r);
  ASSERT_EQ(r.cluster_stats_size(), 1);
  EXPECT_EQ(r.cluster_stats(0).cluster_name(), "web");
  EXPECT_EQ(google::protobuf::util::TimeUtil::DurationToMilliseconds(r.cluster_stats(0).load_report_interval()), 1500);
  EXPECT_EQ(r.cluster_stats(0).total_dropped_requests(), 4u);  // circuit-breaker overflows since the start
  ASSERT_EQ(r.cluster_stats(0).upstream_locality_stats_size(), 2);
  const auto* z1 = locality(r, "z1");
  ASSERT_NE(z1, nullptr);
  EXPECT_EQ(z1->locality().region(), "r");
  EXPECT_EQ(z1->total_successful_requests(), 2u);
  EXPECT_EQ(z1->total_error_requests(), 2u);  // the 503 and the connect failure
  EXPECT_EQ(z1->total_issued_requests(), 4u);
  EXPECT_EQ(z1->total_requests_in_progress(), 0u);
  const auto* z2 = locality(r, "z2");
  ASSERT_NE(z2, nullptr);
  EXPECT_EQ(z2->locality().sub_zone(), "s");
  EXPECT_EQ(z2->total_successful_requests(), 3u);  // a 404 is the client's error, the host's success
  EXPECT_EQ(z2->total_issued_requests(), 5u);      // 3 ended, 2 begun
  EXPECT_EQ(z2->total_requests_in_progress(), 2u);

  // The next report: only what happened since; the two in progress end.
  end(f.c, 200, 2);
  serve(f.a, 500);
  LoadStatsRequest next;
  builder.build({f.cluster({f.a, f.b, f.c}, 6)}, t0 + milliseconds(2500), next);
  EXPECT_EQ(google::protobuf::util::TimeUtil::DurationToMilliseconds(next.cluster_stats(0).load_report_interval()),
            1000);
  EXPECT_EQ(next.cluster_stats(0).total_dropped_requests(), 2u);
  z2 = locality(next, "z2");
  ASSERT_NE(z2, nullptr);
  EXPECT_EQ(z2->total_successful_requests(), 2u);
  EXPECT_EQ(z2->total_issued_requests(), 0u);  // they were issued in the interval before
  EXPECT_EQ(z2->total_requests_in_progress(), 0u);
  z1 = locality(next, "z1");
  ASSERT_NE(z1, nullptr);
  EXPECT_EQ(z1->total_error_requests(), 1u);
  EXPECT_EQ(z1->total_issued_requests(), 1u);
}

TEST(LoadReport, LeavesOutLocalitiesWithNothingToSay) {
  Fixture f;
  LoadReportBuilder builder;
  const auto t0 = Clock::now();
  builder.startPeriod({f.cluster({f.a, f.c})}, t0);
  serve(f.c, 200);
  LoadStatsRequest r;
  builder.build({f.cluster({f.a, f.c})}, t0 + milliseconds(10), r);
  ASSERT_EQ(r.cluster_stats(0).upstream_locality_stats_size(), 1);
  EXPECT_EQ(r.cluster_stats(0).upstream_locality_stats(0).locality().zone(), "z2");
  LoadStatsRequest quiet;
  builder.build({f.cluster({f.a, f.c})}, t0 + milliseconds(20), quiet);
  ASSERT_EQ(quiet.cluster_stats_size(), 1);  // the cluster is still reported, with its interval
  EXPECT_EQ(quiet.cluster_stats(0).upstream_locality_stats_size(), 0);
}

TEST(LoadReport, AHostOrClusterFirstSeenCountsFromItsCreation) {
  Fixture f;
  LoadReportBuilder builder;
  const auto t0 = Clock::now();
  builder.startPeriod({}, t0);
  serve(f.a, 200, 3);  // 'web' appears after the period started (CDS after the LRS response)
  LoadStatsRequest r;
  builder.build({f.cluster({f.a})}, t0 + milliseconds(100), r);
  EXPECT_EQ(google::protobuf::util::TimeUtil::DurationToMilliseconds(r.cluster_stats(0).load_report_interval()), 100);
  EXPECT_EQ(locality(r, "z1")->total_successful_requests(), 3u);
  serve(f.c, 200);  // a new host (EDS) joins
  LoadStatsRequest next;
  builder.build({f.cluster({f.a, f.c})}, t0 + milliseconds(200), next);
  ASSERT_NE(locality(next, "z2"), nullptr);
  EXPECT_EQ(locality(next, "z2")->total_successful_requests(), 1u);
  EXPECT_EQ(locality(next, "z1"), nullptr);
}

TEST(LoadReport, ANewPeriodKeepsTheClustersAlreadyReported) {
  Fixture f;
  LoadReportBuilder builder;
  const auto t0 = Clock::now();
  builder.startPeriod({f.cluster({f.a})}, t0);
  serve(f.a, 200);
  builder.startPeriod({f.cluster({f.a})}, t0 + milliseconds(50));  // a second response: nothing is lost
  LoadStatsRequest r;
  builder.build({f.cluster({f.a})}, t0 + milliseconds(100), r);
  EXPECT_EQ(locality(r, "z1")->total_successful_requests(), 1u);
  EXPECT_EQ(google::protobuf::util::TimeUtil::DurationToMilliseconds(r.cluster_stats(0).load_report_interval()), 100);
  EXPECT_EQ(builder.trackedClusters(), 1u);
  builder.startPeriod({}, t0 + milliseconds(150));  // no longer asked for: forgotten
  EXPECT_EQ(builder.trackedClusters(), 0u);
}

TEST(LoadReport, AReadBetweenARequestsTwoEndCountersCountsItOnce) {
  Fixture f;
  LoadReportBuilder builder;
  const auto t0 = Clock::now();
  builder.startPeriod({f.cluster({f.a})}, t0);
  begin(f.a);
  LoadStatsRequest first;
  builder.build({f.cluster({f.a})}, t0 + milliseconds(10), first);
  EXPECT_EQ(locality(first, "z1")->total_issued_requests(), 1u);
  // The request ends: rq_active drops, and a report reads before rq_success rises.
  f.a->stats->rq_active -= 1;
  LoadStatsRequest between;
  builder.build({f.cluster({f.a})}, t0 + milliseconds(20), between);
  EXPECT_EQ(locality(between, "z1"), nullptr);  // nothing to say yet, and never a negative count
  f.a->stats->rq_success += 1;
  LoadStatsRequest after;
  builder.build({f.cluster({f.a})}, t0 + milliseconds(30), after);
  ASSERT_NE(locality(after, "z1"), nullptr);
  EXPECT_EQ(locality(after, "z1")->total_successful_requests(), 1u);
  EXPECT_EQ(locality(after, "z1")->total_issued_requests(), 0u);  // issued once, in the first report
}

}  // namespace
}  // namespace sluice::server
