#include <gtest/gtest.h>

#include <thread>

#include "upstream/host.h"
#include "upstream/lb_test_util.h"

namespace sluice::upstream {
namespace {

TEST(Host, AddressStringOfIpv4IsIpColonPort) { EXPECT_EQ(formatAddress("10.0.0.1", 8080), "10.0.0.1:8080"); }

TEST(Host, AddressStringOfIpv6HasBrackets) {
  EXPECT_EQ(formatAddress("::1", 80), "[::1]:80");
  EXPECT_EQ(formatAddress("2001:db8::5", 443), "[2001:db8::5]:443");
}

TEST(Host, MakeHostFillsEveryField) {
  const HostPtr host = makeHost("::1", 9000, "eu", "eu-west-1a", "rack3");
  EXPECT_EQ(host->address, "::1");
  EXPECT_EQ(host->port, 9000);
  EXPECT_EQ(host->address_string, "[::1]:9000");
  EXPECT_EQ(host->region, "eu");
  EXPECT_EQ(host->zone, "eu-west-1a");
  EXPECT_EQ(host->sub_zone, "rack3");
  EXPECT_EQ(host->active_requests.load(), 0u);
  EXPECT_EQ(host->active_connections.load(), 0u);
}

TEST(HostSet, ZeroOrMissingWeightCountsAsOne) {
  const HostSet set({makeHost("10.0.0.1", 80), makeHost("10.0.0.2", 80), makeHost("10.0.0.3", 80)}, {0, 7});
  EXPECT_EQ(set.weight(0), 1u);
  EXPECT_EQ(set.weight(1), 7u);
  EXPECT_EQ(set.weight(2), 1u);
  EXPECT_EQ(set.totalWeight(), 9u);
}

TEST(HostSet, NullHostsAreDroppedWithTheirWeights) {
  const HostSet set({nullptr, makeHost("10.0.0.2", 80)}, {5, 3});
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.weight(0), 3u);
}

TEST(Host, CountersAreSharedThroughConstPointerAcrossThreads) {
  const HostPtr host = makeHost("10.0.0.1", 80);
  auto work = [&host] {
    for (int i = 0; i < 10000; ++i) {
      host->active_requests.fetch_add(1, std::memory_order_relaxed);
      host->active_connections.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(host->active_requests.load(), 20000u);
  EXPECT_EQ(host->active_connections.load(), 20000u);
}

TEST(HostSet, EmptySetHasNoWeight) {
  const HostSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.size(), 0u);
  EXPECT_EQ(set.totalWeight(), 0u);
  EXPECT_TRUE(set.allWeightsEqual());
}

TEST(HostSet, EqualWeightsAreDetected) {
  const HostSetPtr set = testing::makeHostSet({3, 3, 3});
  EXPECT_EQ(set->size(), 3u);
  EXPECT_EQ(set->totalWeight(), 9u);
  EXPECT_TRUE(set->allWeightsEqual());
  EXPECT_EQ(set->minWeight(), 3u);
  EXPECT_EQ(set->maxWeight(), 3u);
}

TEST(HostSet, UnequalWeightsAreDetected) {
  const HostSetPtr set = testing::makeHostSet({5, 1, 2});
  EXPECT_EQ(set->totalWeight(), 8u);
  EXPECT_FALSE(set->allWeightsEqual());
  EXPECT_EQ(set->minWeight(), 1u);
  EXPECT_EQ(set->maxWeight(), 5u);
}

TEST(HostSet, TotalWeightDoesNotOverflowThirtyTwoBits) {
  const HostSetPtr set = testing::makeHostSet({4'000'000'000u, 4'000'000'000u});
  EXPECT_EQ(set->totalWeight(), 8'000'000'000ull);
}

TEST(HostSet, KeepsConfigOrderAndDropsNullHosts) {
  const HostPtr a = makeHost("10.0.0.1", 80);
  const HostPtr b = makeHost("10.0.0.2", 80);
  const HostSet set({a, nullptr, b});
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(&set[0], a.get());
  EXPECT_EQ(&set[1], b.get());
}

}  // namespace
}  // namespace sluice::upstream
