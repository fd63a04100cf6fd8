// Forwarding routes: cluster choice, rewrites, timeouts and upgrades.
#include <gtest/gtest.h>

#include <map>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

// The forward action of the only route of a table built from `route_yaml`
// (the body of one route under `routes:`). Keeps the table alive.
class RouteActionTest : public ::testing::Test {
 protected:
  const RouteAction& action(std::string_view route_action_yaml) {
    table_ = buildTable(
        singleHost("  - name: r\n    match: {prefix: /api}\n    route: " + std::string(route_action_yaml) + "\n"));
    route_ = table_->virtualHosts()[0]->routes()[0].get();
    EXPECT_EQ(route_->kind(), Route::Kind::kForward);
    return deref(route_->forward());
  }
  const Route& route() const { return *route_; }

  std::shared_ptr<const RouteTable> table_;
  const Route* route_ = nullptr;
};

TEST_F(RouteActionTest, SingleCluster) {
  const auto& a = action("{cluster: backend}");
  EXPECT_EQ(a.clusterKind(), RouteAction::ClusterKind::kCluster);
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime::Snapshot(), 12345), "backend");
}

TEST_F(RouteActionTest, WeightedClustersFollowTheRandomValue) {
  const auto& a = action("{weighted_clusters: {clusters: [{name: a, weight: 1}, {name: b, weight: 3}]}}");
  const runtime::Snapshot runtime;
  // random % 4: 0 -> a; 1, 2, 3 -> b.
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime, 0), "a");
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime, 1), "b");
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime, 3), "b");
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime, 4), "a");
}

TEST_F(RouteActionTest, WeightedClustersDistributionOverAFixedSequence) {
  const auto& a =
      action("{weighted_clusters: {clusters: [{name: a, weight: 20}, {name: b, weight: 30}, {name: c, weight: 50}]}}");
  const runtime::Snapshot runtime;
  std::map<std::string, int> counts;
  uint64_t random = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 10000; ++i) {
    random = random * 6364136223846793005ULL + 1442695040888963407ULL;  // fixed LCG sequence
    ++counts[std::string(a.chooseCluster(http::HeaderMap(), runtime, random >> 11))];
  }
  EXPECT_NEAR(counts["a"], 2000, 200);
  EXPECT_NEAR(counts["b"], 3000, 200);
  EXPECT_NEAR(counts["c"], 5000, 200);
  EXPECT_EQ(counts.size(), 3u);
}

TEST_F(RouteActionTest, SpreadPicksCoverTheWeightsEvenlyInEveryWindow) {
  // A zone drain's step: 97 / 2 / 1. Every run of 100 consecutive points of
  // the Weyl sequence gives each cluster its weight within 2 requests; the
  // LCG draws above miss by 10% of 2000 over 10000.
  const auto& a =
      action("{weighted_clusters: {clusters: [{name: a, weight: 97}, {name: b, weight: 2}, {name: c, weight: 1}]}}");
  const runtime::Snapshot runtime;
  for (const uint64_t start : {0ULL, 12345ULL, 0xdeadbeefcafef00dULL}) {
    uint64_t spread = start;
    std::vector<std::string> picks;
    for (int i = 0; i < 2000; ++i) {
      spread += 0x9E3779B97F4A7C15ULL;
      picks.emplace_back(a.chooseClusterSpread(http::HeaderMap(), runtime, spread));
    }
    for (size_t from = 0; from + 100 <= picks.size(); from += 37) {
      std::map<std::string, int> counts;
      for (size_t i = from; i < from + 100; ++i) ++counts[picks[i]];
      EXPECT_NEAR(counts["a"], 97, 2) << "start " << start << " window at " << from;
      EXPECT_NEAR(counts["b"], 2, 2) << "start " << start << " window at " << from;
      EXPECT_NEAR(counts["c"], 1, 1) << "start " << start << " window at " << from;
    }
  }
  // Not weighted: the configured cluster, whatever the point.
  EXPECT_EQ(action("{cluster: backend}").chooseClusterSpread(http::HeaderMap(), runtime, 7), "backend");
}

TEST_F(RouteActionTest, RuntimeOverridesWeightsUnderThePrefix) {
  const auto& a = action(
      "{weighted_clusters: {runtime_key_prefix: routing.w, clusters: [{name: a, weight: 50}, {name: b, weight: 50}]}}");
  // a -> 0, b -> 10: everything goes to b.
  const runtime::Snapshot runtime = runtimeWith({{"routing.w.a", "0"}, {"routing.w.b", "10"}});
  for (uint64_t random = 0; random < 20; ++random) {
    EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime, random), "b");
  }
  // Without the keys the configured weights apply.
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime::Snapshot(), 10), "a");
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime::Snapshot(), 60), "b");
}

TEST_F(RouteActionTest, AllRuntimeWeightsZeroMeansNoCluster) {
  const auto& a = action("{weighted_clusters: {runtime_key_prefix: w, clusters: [{name: a, weight: 1}]}}");
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtimeWith({{"w.a", "0"}}), 0), "");
}

TEST_F(RouteActionTest, ClusterHeaderNamesTheCluster) {
  const auto& a = action("{cluster_header: X-Target-Cluster}");
  http::HeaderMap headers;
  headers.add("x-target-cluster", "blue");
  EXPECT_EQ(a.chooseCluster(headers, runtime::Snapshot(), 0), "blue");
}

TEST_F(RouteActionTest, MissingClusterHeaderMeansNoClusterAnd503) {
  const auto& a = action("{cluster_header: x-target-cluster}");
  EXPECT_EQ(a.chooseCluster(http::HeaderMap(), runtime::Snapshot(), 0), "");
  EXPECT_EQ(a.clusterNotFoundResponseCode(), 503u);
}

TEST_F(RouteActionTest, ClusterNotFoundResponseCodeIsConfigurable) {
  EXPECT_EQ(action("{cluster_header: x, cluster_not_found_response_code: NOT_FOUND}").clusterNotFoundResponseCode(),
            404u);
}

TEST_F(RouteActionTest, PrefixRewriteReplacesTheMatchedPrefixAndKeepsTheQuery) {
  action("{cluster: c, prefix_rewrite: /v2}");
  EXPECT_EQ(route().rewritePath("/api/users?id=1"), "/v2/users?id=1");
  EXPECT_EQ(route().rewritePath("/api"), "/v2");
}

TEST_F(RouteActionTest, PrefixRewriteOfAnExactPathReplacesThePathOnly) {
  auto table = buildTable(singleHost("  - match: {path: /old}\n    route: {cluster: c, prefix_rewrite: /new}\n"));
  const Route& r = deref(matchRoute(*table, TestRequest("/old?a=b")));
  EXPECT_EQ(r.rewritePath("/old?a=b"), "/new?a=b");
}

TEST_F(RouteActionTest, CaseInsensitivePrefixRewriteReplacesWhatMatched) {
  auto table = buildTable(
      singleHost("  - match: {prefix: /API/, case_sensitive: false}\n    route: {cluster: c, prefix_rewrite: /}\n"));
  const Route& r = deref(matchRoute(*table, TestRequest("/api/x")));
  EXPECT_EQ(r.rewritePath("/api/x"), "/x");
}

TEST_F(RouteActionTest, RegexRewriteAppliesToThePathAndKeepsTheQuery) {
  action(R"({cluster: c, regex_rewrite: {pattern: {regex: '^/api/(\w+)/(\d+)$'}, substitution: '/\2/\1'}})");
  EXPECT_EQ(route().rewritePath("/api/users/42?full=1"), "/42/users?full=1");
  EXPECT_EQ(route().rewritePath("/api/users/x"), "/api/users/x");  // no match: unchanged
}

TEST_F(RouteActionTest, RegexRewriteReplacesEveryMatch) {
  action("{cluster: c, regex_rewrite: {pattern: {regex: 'a'}, substitution: 'b'}}");
  EXPECT_EQ(route().rewritePath("/api/aaa?a=a"), "/bpi/bbb?a=a");
}

TEST_F(RouteActionTest, NoRewriteConfigured) {
  action("{cluster: c}");
  EXPECT_EQ(route().rewritePath("/api/x"), std::nullopt);
}

TEST_F(RouteActionTest, HostRewriteLiteralAndAutoHostRewrite) {
  EXPECT_EQ(action("{cluster: c, host_rewrite_literal: upstream.internal}").hostRewrite(), "upstream.internal");
  EXPECT_FALSE(action("{cluster: c, host_rewrite_literal: upstream.internal}").autoHostRewrite());
  EXPECT_TRUE(action("{cluster: c, auto_host_rewrite: true}").autoHostRewrite());
  EXPECT_EQ(action("{cluster: c, auto_host_rewrite: true}").hostRewrite(), std::nullopt);
}

TEST_F(RouteActionTest, TimeoutDefaultsTo15sAndZeroDisablesIt) {
  using std::chrono::milliseconds;
  EXPECT_EQ(action("{cluster: c}").timeout(), milliseconds(15000));
  EXPECT_EQ(action("{cluster: c, timeout: 2.5s}").timeout(), milliseconds(2500));
  EXPECT_EQ(action("{cluster: c, timeout: 0s}").timeout(), std::nullopt);
}

TEST_F(RouteActionTest, IdleTimeoutIsUnsetUnlessConfigured) {
  using std::chrono::milliseconds;
  EXPECT_EQ(action("{cluster: c}").idleTimeout(), std::nullopt);
  EXPECT_EQ(action("{cluster: c, idle_timeout: 30s}").idleTimeout(), milliseconds(30000));
  EXPECT_EQ(action("{cluster: c, idle_timeout: 0s}").idleTimeout(), milliseconds(0));
}

TEST_F(RouteActionTest, UpgradeConfigsPerRoute) {
  const auto& a =
      action("{cluster: c, upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: h2c, enabled: false}]}");
  EXPECT_EQ(a.upgradeEnabled("WebSocket"), true);
  EXPECT_EQ(a.upgradeEnabled("h2c"), false);
  EXPECT_EQ(a.upgradeEnabled("other"), std::nullopt);
}

TEST(RouteActionBuild, DuplicateUpgradeIsAnError) {
  auto errors = buildErrors(singleHost(
      "  - match: {prefix: /}\n    route: {cluster: c, upgrade_configs: [{upgrade_type: ws}, {upgrade_type: WS}]}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].route.upgrade_configs[1].upgrade_type");
}

TEST(RouteActionBuild, WeightsMustAddUpToTotalWeight) {
  auto errors =
      buildErrors(singleHost("  - match: {prefix: /}\n    route: {weighted_clusters: {total_weight: 100, clusters: "
                             "[{name: a, weight: 10}]}}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "virtual_hosts[0].routes[0].route.weighted_clusters.total_weight: the weights add up to 10, not 100");
}

TEST(RouteActionBuild, WeightsMustNotAddUpToZero) {
  auto errors = buildErrors(
      singleHost("  - match: {prefix: /}\n    route: {weighted_clusters: {clusters: [{name: a, weight: 0}]}}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].route.weighted_clusters.clusters");
}

TEST(RouteActionBuild, MatchingTotalWeightIsAccepted) {
  auto table =
      buildTable(singleHost("  - match: {prefix: /}\n    route: {weighted_clusters: {total_weight: 10, clusters: "
                            "[{name: a, weight: 10}]}}\n"));
  ASSERT_NE(table, nullptr);
}

TEST(RouteActionBuild, BadRegexRewriteAndSubstitutionAreReported) {
  auto errors = buildErrors(singleHost(
      "  - match: {prefix: /}\n    route: {cluster: c, regex_rewrite: {pattern: {regex: '(a'}, substitution: x}}\n"
      "  - match: {prefix: /}\n    route: {cluster: c, regex_rewrite: {pattern: {regex: 'a'}, substitution: "
      "'\\1'}}\n"));
  ASSERT_EQ(errors.size(), 2u) << errors.toString();
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].route.regex_rewrite.pattern.regex");
  EXPECT_EQ(errors.errors()[1].path, "virtual_hosts[0].routes[1].route.regex_rewrite.substitution");
}

TEST(RouteActionBuild, PrefixAndRegexRewriteTogetherAreAnError) {
  auto errors = buildErrors(singleHost(
      "  - match: {prefix: /}\n    route: {cluster: c, prefix_rewrite: /x, regex_rewrite: {pattern: {regex: a}, "
      "substitution: b}}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].route.regex_rewrite");
}

}  // namespace
}  // namespace sluice::router::test
