#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "upstream/lb_test_util.h"
#include "upstream/load_balancer_factory.h"
#include "upstream/ring_hash_lb.h"

namespace sluice::upstream {
namespace {

using testing::countPicks;
using testing::expectShares;
using testing::makeEqualHostSet;
using testing::makeHostSet;
using testing::requestHash;

constexpr uint64_t kPicks = 100'000;
constexpr double kTwoTo64 = 18446744073709551616.0;

std::shared_ptr<const HashRing> buildRing(HostSetPtr set, uint64_t minimum = 1024, uint64_t maximum = 8 << 20) {
  return HashRing::build(std::move(set), minimum, maximum);
}

// The exact probability that a uniform hash lands on each host: the arcs
// (previous point, point] the host owns, the first point owning the wrap.
std::vector<double> arcShares(const HashRing& ring, const HostSet& set) {
  std::vector<double> shares(set.size(), 0.0);
  const auto& entries = ring.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint64_t previous = i == 0 ? entries.back().hash : entries[i - 1].hash;
    const uint64_t arc = entries[i].hash - previous;  // wraps modulo 2^64 for the first point
    shares[static_cast<size_t>(testing::indexOf(set, entries[i].host))] += static_cast<double>(arc) / kTwoTo64;
  }
  return shares;
}

std::map<const Host*, uint64_t> pointsPerHost(const HashRing& ring) {
  std::map<const Host*, uint64_t> points;
  for (const auto& entry : ring.entries()) points[entry.host]++;
  return points;
}

// Which address each of `keys` request hashes maps to.
std::vector<std::string> keyOwners(const HashRing& ring, uint64_t keys) {
  std::vector<std::string> owners;
  for (uint64_t i = 0; i < keys; ++i) owners.push_back(ring.lookup(requestHash(i))->address_string);
  return owners;
}

TEST(RingHash, DefaultRingGivesEqualHostsEqualPoints) {
  const HostSetPtr set = makeEqualHostSet(10);
  const auto ring = buildRing(set);
  EXPECT_EQ(ring->entries().size(), 1030u);  // ceil(1024 / 10) = 103 points per host
  for (const auto& [host, points] : pointsPerHost(*ring)) EXPECT_EQ(points, 103u) << host->address_string;
}

TEST(RingHash, SmallestHostGetsAtLeastOnePoint) {
  const HostSetPtr set = makeHostSet({1, 5000});
  const auto ring = buildRing(set, 16);
  const auto points = pointsPerHost(*ring);
  EXPECT_EQ(points.at(&(*set)[0]), 1u);
  EXPECT_EQ(points.at(&(*set)[1]), 5000u);
}

TEST(RingHash, MaximumSizeCapsTheRing) {
  const HostSetPtr set = makeHostSet({1, 3});
  const auto ring = buildRing(set, 4096, 400);
  const auto points = pointsPerHost(*ring);
  EXPECT_EQ(points.at(&(*set)[0]), 100u);
  EXPECT_EQ(points.at(&(*set)[1]), 300u);
}

TEST(RingHash, EntriesAreSortedAndLookupTakesTheNextPoint) {
  const HostSetPtr set = makeEqualHostSet(5);
  const auto ring = buildRing(set);
  const auto& entries = ring->entries();
  for (size_t i = 1; i < entries.size(); ++i) ASSERT_LE(entries[i - 1].hash, entries[i].hash);
  EXPECT_EQ(ring->lookup(entries[7].hash), entries[7].host);
  EXPECT_EQ(ring->lookup(entries[7].hash + 1), entries[8].host);
  EXPECT_EQ(ring->lookup(entries.back().hash + 1), entries.front().host);  // wraps
  EXPECT_EQ(ring->lookup(0), entries.front().host);
}

TEST(RingHash, PicksFollowTheRingOverTenHosts) {
  const HostSetPtr set = makeEqualHostSet(10);
  const auto ring = buildRing(set);
  RingHashLoadBalancer lb(ring, 1);
  expectShares(countPicks(lb, *set, kPicks), arcShares(*ring, *set));
}

TEST(RingHash, PicksFollowTheRingOverHundredHosts) {
  const HostSetPtr set = makeEqualHostSet(100);
  const auto ring = buildRing(set);
  RingHashLoadBalancer lb(ring, 2);
  std::vector<uint64_t> counts(100, 0);
  for (uint64_t i = 0; i < kPicks; ++i) {
    const LbContext context{.hash = requestHash(i)};
    counts[static_cast<size_t>(testing::indexOf(*set, lb.chooseHost(&context)))]++;
  }
  expectShares(counts, arcShares(*ring, *set));
}

TEST(RingHash, ArcsAreBalancedWithEnoughPoints) {
  // The ring's own imbalance shrinks as 1/sqrt(points per host): with 10,240
  // points per host a share's standard deviation is about 1% of 0.1, and
  // the bound allows 5%.
  // (Deterministic: hash64 is fixed, nothing random is involved.)
  const HostSetPtr set = makeEqualHostSet(10);
  const auto ring = buildRing(set, 10 * 10'240);
  for (const double share : arcShares(*ring, *set)) EXPECT_NEAR(share, 0.1, 0.005);
}

TEST(RingHash, DefaultRingIsRoughlyBalanced) {
  // 103 points per host: each share is within about 1/sqrt(103) = 10% of
  // 0.1 (one standard deviation); 30% leaves room for the worst of the ten.
  const HostSetPtr set = makeEqualHostSet(10);
  const auto ring = buildRing(set);
  for (const double share : arcShares(*ring, *set)) EXPECT_NEAR(share, 0.1, 0.03);
}

TEST(RingHash, ThreeToOneWeights) {
  const HostSetPtr set = makeHostSet({3, 1});
  const auto ring = buildRing(set);
  const auto points = pointsPerHost(*ring);
  EXPECT_EQ(points.at(&(*set)[0]), 768u);
  EXPECT_EQ(points.at(&(*set)[1]), 256u);
  const std::vector<double> shares = arcShares(*ring, *set);
  EXPECT_NEAR(shares[0], 0.75, 0.03);
  RingHashLoadBalancer lb(ring, 3);
  expectShares(countPicks(lb, *set, kPicks), shares);
}

TEST(RingHash, SameHashSameHostOnEveryWorker) {
  const HostSetPtr set = makeEqualHostSet(100);
  const LoadBalancerFactory factory(LbPolicy::RingHash, set, LbConfig{});
  auto worker_a = factory.create(1);
  auto worker_b = factory.create(2);
  // A separately built ring (another proxy, or after a config push with the
  // same hosts) agrees too.
  auto other_proxy = createLoadBalancer(LbPolicy::RingHash, makeEqualHostSet(100), LbConfig{}, 3);
  for (uint64_t i = 0; i < 10'000; ++i) {
    const LbContext context{.hash = requestHash(i)};
    const Host* host = worker_a->chooseHost(&context);
    ASSERT_EQ(worker_b->chooseHost(&context), host);
    ASSERT_EQ(other_proxy->chooseHost(&context)->address_string, host->address_string);
  }
}

TEST(RingHash, AddingOneHostToHundredMovesAboutOnePercent) {
  const auto before = keyOwners(*buildRing(makeEqualHostSet(100)), kPicks);
  const HostSetPtr grown = makeEqualHostSet(101);
  const auto after = keyOwners(*buildRing(grown), kPicks);
  const std::string added = (*grown)[100].address_string;
  uint64_t moved = 0;
  for (uint64_t i = 0; i < kPicks; ++i) {
    if (before[i] == after[i]) continue;
    ++moved;
    EXPECT_EQ(after[i], added) << "key " << i << " moved between two old hosts";
  }
  std::printf("ring hash: adding 1 host to 100 moved %.2f%% of keys\n", 100.0 * moved / kPicks);
  EXPECT_GT(moved, 0u);
  EXPECT_LT(moved, kPicks * 3 / 100);
}

TEST(RingHash, RemovingAHostMovesOnlyItsKeys) {
  const HostSetPtr full = makeEqualHostSet(100);
  std::vector<HostPtr> remaining;
  for (size_t i = 0; i < full->size(); ++i) {
    if (i != 37) remaining.push_back(full->hosts()[i]);
  }
  const auto before = keyOwners(*buildRing(full), kPicks);
  const auto after = keyOwners(*buildRing(std::make_shared<const HostSet>(remaining)), kPicks);
  const std::string removed = (*full)[37].address_string;
  uint64_t moved = 0;
  for (uint64_t i = 0; i < kPicks; ++i) {
    if (before[i] == removed) {
      ++moved;
      EXPECT_NE(after[i], removed);
    } else {
      EXPECT_EQ(after[i], before[i]) << "key " << i;
    }
  }
  EXPECT_GT(moved, 0u);
}

TEST(RingHash, NullContextOrNoHashPicksAHost) {
  const HostSetPtr set = makeEqualHostSet(3);
  RingHashLoadBalancer lb(buildRing(set), 4);
  EXPECT_NE(lb.chooseHost(nullptr), nullptr);
  const LbContext no_hash;
  EXPECT_NE(lb.chooseHost(&no_hash), nullptr);
}

TEST(RingHash, EmptySetGivesNull) {
  RingHashLoadBalancer lb(buildRing(std::make_shared<const HostSet>()), 5);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);
  const LbContext context{.hash = 1};
  EXPECT_EQ(lb.chooseHost(&context), nullptr);
  RingHashLoadBalancer no_ring(nullptr, 5);
  EXPECT_EQ(no_ring.chooseHost(&context), nullptr);
}

TEST(RingHash, BuildTimeForThousandHosts) {
  const HostSetPtr set = makeEqualHostSet(1000);
  for (const uint64_t minimum : {uint64_t{1024}, uint64_t{100'000}, uint64_t{1'000'000}}) {
    const auto start = std::chrono::steady_clock::now();
    const auto ring = buildRing(set, minimum);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    std::printf("ring hash: 1000 hosts, %zu points built in %.3f ms\n", ring->entries().size(),
                std::chrono::duration<double, std::milli>(elapsed).count());
    EXPECT_GE(ring->entries().size(), minimum);
  }
}

}  // namespace
}  // namespace sluice::upstream
