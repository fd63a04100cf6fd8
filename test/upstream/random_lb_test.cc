#include <gtest/gtest.h>

#include "upstream/lb_test_util.h"
#include "upstream/random_lb.h"

namespace sluice::upstream {
namespace {

using testing::countPicks;
using testing::expectShares;
using testing::makeEqualHostSet;
using testing::makeHostSet;

constexpr uint64_t kPicks = 100'000;

TEST(FastRandom, SameSeedSameStreamDifferentSeedDifferentStream) {
  FastRandom a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    const uint64_t value = a.next();
    EXPECT_EQ(value, b.next());
    EXPECT_NE(value, c.next());
  }
}

TEST(FastRandom, BelowStaysInRangeAndUnitInZeroOne) {
  FastRandom random(1);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(random.below(7), 7u);
    EXPECT_EQ(random.below(1), 0u);
    const double unit = random.unit();
    EXPECT_GE(unit, 0.0);
    EXPECT_LT(unit, 1.0);
  }
}

TEST(RandomLb, UniformOverTenHosts) {
  const HostSetPtr set = makeEqualHostSet(10);
  RandomLoadBalancer lb(set, 1);
  expectShares(countPicks(lb, *set, kPicks), std::vector<double>(10, 0.1));
}

TEST(RandomLb, UniformOverHundredHosts) {
  const HostSetPtr set = makeEqualHostSet(100);
  RandomLoadBalancer lb(set, 2);
  expectShares(countPicks(lb, *set, kPicks), std::vector<double>(100, 0.01));
}

TEST(RandomLb, ThreeToOneWeights) {
  const HostSetPtr set = makeHostSet({3, 1});
  RandomLoadBalancer lb(set, 3);
  expectShares(countPicks(lb, *set, kPicks), {0.75, 0.25});
}

TEST(RandomLb, ManyDifferentWeights) {
  std::vector<uint32_t> weights;
  for (uint32_t i = 1; i <= 10; ++i) weights.push_back(i * i);
  const HostSetPtr set = makeHostSet(weights);
  RandomLoadBalancer lb(set, 4);
  expectShares(countPicks(lb, *set, kPicks), testing::weightShares(weights));
}

TEST(RandomLb, WorkersWithDifferentSeedsPickDifferently) {
  const HostSetPtr set = makeEqualHostSet(100);
  RandomLoadBalancer a(set, 1), b(set, 2);
  int same = 0;
  for (int i = 0; i < 1000; ++i) same += a.chooseHost(nullptr) == b.chooseHost(nullptr) ? 1 : 0;
  EXPECT_LT(same, 100);  // about 10 expected
}

TEST(RandomLb, EmptySetGivesNull) {
  RandomLoadBalancer lb(std::make_shared<const HostSet>(), 1);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);
}

}  // namespace
}  // namespace sluice::upstream
