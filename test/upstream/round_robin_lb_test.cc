#include <gtest/gtest.h>

#include <set>
#include <string>

#include "upstream/lb_test_util.h"
#include "upstream/round_robin_lb.h"

namespace sluice::upstream {
namespace {

using testing::indexOf;
using testing::makeEqualHostSet;
using testing::makeHostSet;

// Host indices of `picks` choices.
std::vector<int> sequence(LoadBalancer& lb, const HostSet& set, size_t picks) {
  std::vector<int> out;
  for (size_t i = 0; i < picks; ++i) out.push_back(indexOf(set, lb.chooseHost(nullptr)));
  return out;
}

TEST(RoundRobin, EqualWeightsRotateThroughEveryHostInOrder) {
  const HostSetPtr set = makeEqualHostSet(5);
  RoundRobinLoadBalancer lb(set, 42);
  const std::vector<int> picks = sequence(lb, *set, 15);
  for (size_t i = 1; i < picks.size(); ++i) EXPECT_EQ(picks[i], (picks[i - 1] + 1) % 5) << "pick " << i;
}

TEST(RoundRobin, StartingHostDependsOnSeed) {
  const HostSetPtr set = makeEqualHostSet(10);
  std::set<int> starts;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    RoundRobinLoadBalancer lb(set, seed);
    starts.insert(indexOf(*set, lb.chooseHost(nullptr)));
  }
  // 64 workers over 10 hosts: all starting at one host would be the bug.
  EXPECT_GE(starts.size(), 5u);
}

TEST(RoundRobin, SingleHostIsAlwaysChosen) {
  const HostSetPtr set = makeEqualHostSet(1);
  RoundRobinLoadBalancer lb(set, 7);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lb.chooseHost(nullptr), &(*set)[0]);
}

TEST(RoundRobin, EmptySetGivesNull) {
  RoundRobinLoadBalancer lb(std::make_shared<const HostSet>(), 1);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);
  RoundRobinLoadBalancer null_set(nullptr, 1);
  EXPECT_EQ(null_set.chooseHost(nullptr), nullptr);
}

TEST(RoundRobin, WeightedCycleHasExactProportions) {
  const HostSetPtr set = makeHostSet({5, 1, 1});
  for (uint64_t seed = 0; seed < 8; ++seed) {
    RoundRobinLoadBalancer lb(set, seed);
    for (int cycle = 0; cycle < 100; ++cycle) {
      std::vector<int> counts(3, 0);
      for (int pick : sequence(lb, *set, 7)) counts[pick]++;
      EXPECT_EQ(counts, (std::vector<int>{5, 1, 1})) << "seed " << seed << " cycle " << cycle;
    }
  }
}

TEST(RoundRobin, FiveOneOneIsInterleavedSmoothly) {
  // The smooth order is A A B A C A A (B and C may swap with the seed), not
  // A A A A A B C: the light hosts are spread between the heavy host's picks.
  const HostSetPtr set = makeHostSet({5, 1, 1});
  for (uint64_t seed = 0; seed < 8; ++seed) {
    RoundRobinLoadBalancer lb(set, seed);
    const std::vector<int> cycle = sequence(lb, *set, 7);
    EXPECT_EQ(cycle[0], 0);
    EXPECT_EQ(cycle[1], 0);
    EXPECT_EQ(cycle[3], 0);
    EXPECT_EQ(cycle[5], 0);
    EXPECT_EQ(cycle[6], 0);
    EXPECT_EQ(std::set<int>({cycle[2], cycle[4]}), std::set<int>({1, 2})) << "seed " << seed;
  }
}

// Smooth WRR keeps every host within one pick of its exact share after every
// prefix of picks: |picks_i(k) - k * w_i / W| < 1. (Plain WRR, which serves a
// host's whole weight in a row, breaks this as soon as a weight exceeds 1.)
void expectSmooth(const std::vector<uint32_t>& weights, uint64_t seed) {
  const HostSetPtr set = makeHostSet(weights);
  RoundRobinLoadBalancer lb(set, seed);
  const double total = static_cast<double>(set->totalWeight());
  std::vector<uint64_t> counts(weights.size(), 0);
  for (uint64_t k = 1; k <= 3 * set->totalWeight(); ++k) {
    counts[indexOf(*set, lb.chooseHost(nullptr))]++;
    for (size_t i = 0; i < weights.size(); ++i) {
      const double deviation = static_cast<double>(counts[i]) - static_cast<double>(k) * weights[i] / total;
      ASSERT_LT(std::abs(deviation), 1.0) << "host " << i << " after " << k << " picks, seed " << seed;
    }
  }
  for (size_t i = 0; i < weights.size(); ++i) EXPECT_EQ(counts[i], 3u * weights[i]);
}

TEST(RoundRobin, EveryPrefixStaysWithinOnePickOfItsShare) {
  for (uint64_t seed = 0; seed < 4; ++seed) {
    expectSmooth({5, 1, 1}, seed);
    expectSmooth({1000, 1, 1, 1}, seed);
    expectSmooth({4, 3, 2, 1}, seed);
    expectSmooth({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}, seed);
    std::vector<uint32_t> mixed;
    for (uint32_t i = 1; i <= 40; ++i) mixed.push_back(i % 7 + 1);
    expectSmooth(mixed, seed);
  }
}

TEST(RoundRobin, HeavyHostRunsAreBoundedByItsShare) {
  // With weights 5:1:1, A never runs more than 4 in a row even across cycle
  // boundaries (A A | A A), while plain WRR would give 5.
  const HostSetPtr set = makeHostSet({5, 1, 1});
  RoundRobinLoadBalancer lb(set, 3);
  int run = 0, longest = 0;
  for (int pick : sequence(lb, *set, 700)) {
    run = pick == 0 ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_EQ(longest, 4);
}

TEST(RoundRobin, IgnoresContext) {
  const HostSetPtr set = makeEqualHostSet(3);
  RoundRobinLoadBalancer lb(set, 0);
  LbContext context{.hash = 12345};
  const Host* first = lb.chooseHost(&context);
  const Host* second = lb.chooseHost(&context);
  EXPECT_NE(first, second);
}

}  // namespace
}  // namespace sluice::upstream
