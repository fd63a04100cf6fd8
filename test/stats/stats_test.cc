#include "stats/stats.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <cmath>
#include <sstream>
#include <thread>
#include <vector>

#include "stats/render.h"

namespace sluice::stats {
namespace {

TEST(StatsTest, CountersSumAcrossWorkerSlots) {
  constexpr uint32_t kWorkers = 4;
  constexpr uint64_t kPerThread = 100000;
  Store store(kWorkers);
  Counter& counter = store.counter("cluster.web.upstream_rq_total");
  Gauge& gauge = store.gauge("cluster.web.upstream_rq_active");
  Histogram& histogram = store.histogram("cluster.web.upstream_rq_time");
  std::vector<std::thread> threads;
  // Worker slots plus two threads sharing the shared slot.
  for (uint32_t i = 0; i < kWorkers + 2; ++i) {
    threads.emplace_back([&, i] {
      if (i < kWorkers) setThreadSlot(i);
      for (uint64_t n = 0; n < kPerThread; ++n) {
        counter.inc();
        gauge.inc();
        histogram.record(n % 100);
        gauge.dec();
      }
      gauge.inc(2);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), (kWorkers + 2) * kPerThread);
  EXPECT_EQ(gauge.value(), 2 * (kWorkers + 2));
  EXPECT_EQ(histogram.snapshot().count, (kWorkers + 2) * kPerThread);
  EXPECT_EQ(&store.counter("cluster.web.upstream_rq_total"), &counter);  // keyed by name
}

TEST(StatsTest, ResetCountersKeepsGauges) {
  Store store(1);
  store.counter("a").inc(5);
  store.gauge("b").set(7);
  uint64_t external = 3;
  store.counterFunction("c", [&] { return external; });
  store.resetCounters();
  store.counter("a").inc();
  external = 10;
  const auto values = store.values();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].counter, 1u);
  EXPECT_EQ(values[1].gauge, 7);
  EXPECT_EQ(values[2].counter, 7u);
}

TEST(StatsTest, RejectedStatsAreNotReported) {
  Store store(1);
  store.setRejector([](std::string_view name) { return name.starts_with("listener."); });
  store.counter("listener.127.0.0.1_80.downstream_cx_total").inc();
  store.counter("http.ingress.downstream_rq_total").inc();
  const auto values = store.values();
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].name, "http.ingress.downstream_rq_total");
}

TEST(HistogramTest, BucketsCoverValuesInOrder) {
  size_t previous = 0;
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{129}, uint64_t{1000},
                     uint64_t{123456}, HistogramBuckets::kMaxValue}) {
    const size_t i = HistogramBuckets::index(v);
    EXPECT_LT(i, HistogramBuckets::kCount);
    EXPECT_LE(HistogramBuckets::lower(i), v);
    EXPECT_GE(HistogramBuckets::upper(i), v);
    // Two significant digits: the bucket is narrower than 1/64 of its values.
    EXPECT_LE(HistogramBuckets::upper(i) - HistogramBuckets::lower(i), v / 64 + 1);
    EXPECT_GE(i, previous);
    previous = i;
  }
  EXPECT_EQ(HistogramBuckets::index(uint64_t{1} << 40), HistogramBuckets::kCount - 1);
}

TEST(HistogramTest, Quantiles) {
  Store store(1);
  Histogram& h = store.histogram("x");
  EXPECT_TRUE(std::isnan(h.snapshot().quantile(0.5)));
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.sum, 5050u);
  EXPECT_NEAR(s.quantile(0), 1, 0.01);
  EXPECT_NEAR(s.quantile(0.5), 50.5, 1);
  EXPECT_NEAR(s.quantile(0.99), 99, 1);
  EXPECT_NEAR(s.quantile(1), 100, 0.01);
  // Large values: within the buckets' 1.6%.
  Histogram& big = store.histogram("y");
  for (uint64_t v = 1; v <= 1000; ++v) big.record(v * 1000);
  const auto b = big.snapshot();
  EXPECT_NEAR(b.quantile(0.5), 500000, 500000 * 0.02);
  EXPECT_NEAR(b.quantile(0.9), 900000, 900000 * 0.02);
  EXPECT_EQ(b.countAtOrBelow(1000), 1u);
  EXPECT_EQ(b.countAtOrBelow(1e12), 1000u);
}

TEST(RenderTest, TagExtraction) {
  auto t = extractTags("cluster.web.upstream_rq_200");
  EXPECT_EQ(t.name, "cluster.upstream_rq");
  ASSERT_EQ(t.tags.size(), 2u);
  EXPECT_EQ(t.tags[0].name, "envoy_response_code");
  EXPECT_EQ(t.tags[0].value, "200");
  EXPECT_EQ(t.tags[1].name, "envoy_cluster_name");
  EXPECT_EQ(t.tags[1].value, "web");

  t = extractTags("cluster.web.upstream_rq_2xx");
  EXPECT_EQ(t.name, "cluster.upstream_rq_xx");
  ASSERT_EQ(t.tags.size(), 2u);
  EXPECT_EQ(t.tags[0].name, "envoy_response_code_class");
  EXPECT_EQ(t.tags[0].value, "2");

  t = extractTags("http.ingress_http.downstream_rq_5xx");
  EXPECT_EQ(t.name, "http.downstream_rq_xx");
  EXPECT_EQ(t.tags[1].name, "envoy_http_conn_manager_prefix");
  EXPECT_EQ(t.tags[1].value, "ingress_http");

  t = extractTags("listener.127.0.0.1_10000.downstream_cx_total");
  EXPECT_EQ(t.name, "listener.downstream_cx_total");
  ASSERT_EQ(t.tags.size(), 1u);
  EXPECT_EQ(t.tags[0].name, "envoy_listener_address");
  EXPECT_EQ(t.tags[0].value, "127.0.0.1_10000");

  t = extractTags("listener.[__1]_80.downstream_cx_active");
  EXPECT_EQ(t.tags[0].value, "[__1]_80");
  t = extractTags("listener.admin.downstream_cx_total");
  EXPECT_TRUE(t.tags.empty());
  t = extractTags("server.live");
  EXPECT_EQ(t.name, "server.live");
  EXPECT_TRUE(t.tags.empty());
  EXPECT_EQ(prometheusName("cluster.upstream_rq_xx"), "envoy_cluster_upstream_rq_xx");
  EXPECT_EQ(prometheusName("a-b.c"), "envoy_a_b_c");
}

TEST(RenderTest, TextAndJson) {
  Store store(1);
  store.counter("cluster.web.upstream_rq_total").inc(3);
  store.counter("cluster.web.upstream_rq_timeout");
  store.gauge("server.live").set(1);
  store.histogram("cluster.web.upstream_rq_time").record(5);
  store.histogram("http.x.downstream_rq_time");
  RenderOptions all;
  EXPECT_EQ(renderText(store, all),
            "cluster.web.upstream_rq_timeout: 0\n"
            "cluster.web.upstream_rq_total: 3\n"
            "server.live: 1\n"
            "cluster.web.upstream_rq_time: P0(nan,5) P25(nan,5) P50(nan,5) P75(nan,5) P90(nan,5) P95(nan,5) "
            "P99(nan,5) P99.5(nan,5) P99.9(nan,5) P100(nan,5)\n"
            "http.x.downstream_rq_time: No recorded values\n");
  RenderOptions used;
  used.used_only = true;
  const re2::RE2 filter("upstream_rq_t");
  used.filter = &filter;
  EXPECT_EQ(renderJson(store, used),
            "{\"stats\":[{\"name\":\"cluster.web.upstream_rq_total\",\"value\":3},{\"histograms\":{\"supported_"
            "quantiles\":[0,25,50,75,90,95,99,99.5,99.9,100],\"computed_quantiles\":[{\"name\":\"cluster.web."
            "upstream_rq_time\",\"values\":[{\"interval\":null,\"cumulative\":5},{\"interval\":null,\"cumulative\":5},"
            "{\"interval\":null,\"cumulative\":5},{\"interval\":null,\"cumulative\":5},{\"interval\":null,"
            "\"cumulative\":5},{\"interval\":null,\"cumulative\":5},{\"interval\":null,\"cumulative\":5},{"
            "\"interval\":null,\"cumulative\":5},{\"interval\":null,\"cumulative\":5},{\"interval\":null,"
            "\"cumulative\":5}]}]}}]}\n");
}

// ?histogram_buckets=detailed: Envoy's "details" form; every non-empty bucket
// with its lower bound, width and count (what bench/xds_eds.mjs diffs).
TEST(RenderTest, JsonDetailedHistogramBuckets) {
  Store store(1);
  auto& h = store.histogram("cluster_manager.eds_propagation_us");
  h.record(5);
  h.record(5);
  h.record(200);
  RenderOptions detailed;
  detailed.detailed_histograms = true;
  const std::string json = renderJson(store, detailed);
  EXPECT_NE(json.find("\"supported_percentiles\":[0,25,50,75,90,95,99,99.5,99.9,100],\"details\":[{\"name\":"
                      "\"cluster_manager.eds_propagation_us\",\"percentiles\":[{\"interval\":null,\"cumulative\":5}"),
            std::string::npos)
      << json;
  const size_t b200 = HistogramBuckets::index(200);
  const std::string totals = "\"totals\":[{\"lower_bound\":5,\"width\":1,\"count\":2},{\"lower_bound\":" +
                             std::to_string(HistogramBuckets::lower(b200)) + ",\"width\":" +
                             std::to_string(HistogramBuckets::upper(b200) - HistogramBuckets::lower(b200) + 1) +
                             ",\"count\":1}],\"intervals\":[]}]}}]}\n";
  EXPECT_NE(json.find(totals), std::string::npos) << json;
  EXPECT_GT(HistogramBuckets::upper(b200), HistogramBuckets::lower(b200));  // a bucket wider than one value
}

TEST(RenderTest, Prometheus) {
  Store store(1);
  store.counter("cluster.web.upstream_rq_200").inc(2);
  store.counter("cluster.api.upstream_rq_200").inc(1);
  store.counter("cluster.web.upstream_rq_2xx").inc(2);
  store.gauge("listener.127.0.0.1_8080.downstream_cx_active").set(4);
  store.histogram("cluster.web.upstream_rq_time").record(3);
  store.histogram("cluster.web.upstream_rq_time").record(70);
  const std::string out = renderPrometheus(store, {});
  EXPECT_NE(out.find("# TYPE envoy_cluster_upstream_rq counter\n"
                     "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"api\"} 1\n"
                     "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"web\"} 2\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"2\",envoy_cluster_name=\"web\"} 2\n"),
            std::string::npos);
  EXPECT_NE(out.find("# TYPE envoy_listener_downstream_cx_active gauge\n"
                     "envoy_listener_downstream_cx_active{envoy_listener_address=\"127.0.0.1_8080\"} 4\n"),
            std::string::npos);
  EXPECT_NE(out.find("# TYPE envoy_cluster_upstream_rq_time histogram\n"), std::string::npos);
  EXPECT_NE(out.find("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"web\",le=\"1\"} 0\n"
                     "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"web\",le=\"5\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"web\",le=\"100\"} 2\n"),
            std::string::npos);
  EXPECT_NE(out.find("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"web\",le=\"+Inf\"} 2\n"
                     "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"web\"} 73\n"
                     "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"web\"} 2\n"),
            std::string::npos);
  RenderOptions untagged;  // stats_config.use_all_default_tags: false
  untagged.default_tags = false;
  EXPECT_NE(renderPrometheus(store, untagged).find("envoy_cluster_web_upstream_rq_200{} 2\n"), std::string::npos);
  // Every line is a TYPE comment or `name{labels} value`.
  std::istringstream lines(out);
  const re2::RE2 sample(R"re([a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\} -?[0-9]+)re");
  const re2::RE2 type(R"(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))");
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(re2::RE2::FullMatch(line, sample) || re2::RE2::FullMatch(line, type)) << line;
  }
}

}  // namespace
}  // namespace sluice::stats
