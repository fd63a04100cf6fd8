#include <gtest/gtest.h>

#include <thread>

#include "upstream/lb_test_util.h"
#include "upstream/least_request_lb.h"

namespace sluice::upstream {
namespace {

using testing::countPicks;
using testing::expectBinomial;
using testing::expectShares;
using testing::makeEqualHostSet;
using testing::makeHostSet;

constexpr uint64_t kPicks = 100'000;

void setActive(const HostSet& set, const std::vector<uint32_t>& active) {
  for (size_t i = 0; i < active.size(); ++i) set[i].active_requests.store(active[i]);
}

TEST(LeastRequest, EqualLoadIsUniform) {
  const HostSetPtr set = makeEqualHostSet(10);
  LeastRequestLoadBalancer lb(set, LbConfig{}, 1);
  expectShares(countPicks(lb, *set, kPicks), std::vector<double>(10, 0.1));
}

TEST(LeastRequest, EqualLoadIsUniformOverManyHosts) {
  const HostSetPtr set = makeEqualHostSet(100);
  LeastRequestLoadBalancer lb(set, LbConfig{}, 2);
  expectShares(countPicks(lb, *set, kPicks), std::vector<double>(100, 0.01));
}

TEST(LeastRequest, IdleHostWinsEveryTimeItIsDrawn) {
  // Two distinct draws out of 10: the idle host is among them with
  // probability 2/10, and then always wins.
  const HostSetPtr set = makeEqualHostSet(10);
  setActive(*set, {0, 5, 5, 5, 5, 5, 5, 5, 5, 5});
  LeastRequestLoadBalancer lb(set, LbConfig{}, 3);
  const std::vector<uint64_t> counts = countPicks(lb, *set, kPicks);
  expectBinomial(counts[0], kPicks, 0.2, "idle host");
}

TEST(LeastRequest, IdleHostGetsTheVastMajorityWithMoreChoices) {
  // choice_count 8 of 10 hosts: the idle host is drawn with probability 0.8.
  const HostSetPtr set = makeEqualHostSet(10);
  setActive(*set, {7, 7, 7, 0, 7, 7, 7, 7, 7, 7});
  LeastRequestLoadBalancer lb(set, LbConfig{.least_request_choice_count = 8}, 4);
  const std::vector<uint64_t> counts = countPicks(lb, *set, kPicks);
  expectBinomial(counts[3], kPicks, 0.8, "idle host");
}

TEST(LeastRequest, IdleHostOfTwoIsAlwaysChosen) {
  const HostSetPtr set = makeEqualHostSet(2);
  setActive(*set, {4, 0});
  LeastRequestLoadBalancer lb(set, LbConfig{}, 5);
  EXPECT_EQ(countPicks(lb, *set, 10'000), (std::vector<uint64_t>{0, 10'000}));
}

TEST(LeastRequest, BusiestHostGetsNoRequests) {
  const HostSetPtr set = makeEqualHostSet(10);
  setActive(*set, {1, 2, 3, 1, 2, 3, 1, 2, 3, 9});
  LeastRequestLoadBalancer lb(set, LbConfig{}, 6);
  EXPECT_EQ(countPicks(lb, *set, kPicks)[9], 0u);
}

TEST(LeastRequest, ChoiceCountAboveHostCountPicksTheLeastLoaded) {
  const HostSetPtr set = makeEqualHostSet(4);
  setActive(*set, {3, 1, 2, 3});
  LeastRequestLoadBalancer lb(set, LbConfig{.least_request_choice_count = 10}, 7);
  EXPECT_EQ(countPicks(lb, *set, 1000), (std::vector<uint64_t>{0, 1000, 0, 0}));
}

TEST(LeastRequest, FollowsLoadAsItChanges) {
  const HostSetPtr set = makeEqualHostSet(2);
  LeastRequestLoadBalancer lb(set, LbConfig{}, 8);
  // Each pick starts a request that never ends: the two hosts alternate.
  for (int i = 0; i < 100; ++i) lb.chooseHost(nullptr)->active_requests.fetch_add(1);
  EXPECT_EQ((*set)[0].active_requests.load(), 50u);
  EXPECT_EQ((*set)[1].active_requests.load(), 50u);
}

TEST(LeastRequest, WeightedIdleHostsFollowWeights) {
  const std::vector<uint32_t> weights = {1, 2, 3, 4};
  const HostSetPtr set = makeHostSet(weights);
  LeastRequestLoadBalancer lb(set, LbConfig{}, 9);
  expectShares(countPicks(lb, *set, kPicks), testing::weightShares(weights));
}

TEST(LeastRequest, WeightedSchedulingIsExactOverACycle) {
  // EDF is deterministic: after the first cycle each host is picked its
  // weight's share to within one pick.
  const HostSetPtr set = makeHostSet({3, 1});
  LeastRequestLoadBalancer lb(set, LbConfig{}, 10);
  const std::vector<uint64_t> counts = countPicks(lb, *set, 4000);
  EXPECT_NEAR(static_cast<double>(counts[0]), 3000.0, 1.0);
  EXPECT_NEAR(static_cast<double>(counts[1]), 1000.0, 1.0);
}

TEST(LeastRequest, WeightedLoadLowersEffectiveWeight) {
  // weight / (active + 1): 2 / (3 + 1) = 0.5 against 1 / (0 + 1) = 1.
  const HostSetPtr set = makeHostSet({2, 1});
  setActive(*set, {3, 0});
  LeastRequestLoadBalancer lb(set, LbConfig{}, 11);
  expectShares(countPicks(lb, *set, kPicks), {1.0 / 3, 2.0 / 3});
}

TEST(LeastRequest, ActiveRequestBiasSquaresTheLoad) {
  // bias 2: 8 / (1 + 1)^2 = 2 against 1 / 1 = 1.
  const HostSetPtr set = makeHostSet({8, 1});
  setActive(*set, {1, 0});
  LeastRequestLoadBalancer lb(set, LbConfig{.least_request_active_request_bias = 2.0}, 12);
  expectShares(countPicks(lb, *set, kPicks), {2.0 / 3, 1.0 / 3});
}

TEST(LeastRequest, ZeroBiasIgnoresLoad) {
  const HostSetPtr set = makeHostSet({2, 1});
  setActive(*set, {100, 0});
  LeastRequestLoadBalancer lb(set, LbConfig{.least_request_active_request_bias = 0.0}, 13);
  expectShares(countPicks(lb, *set, kPicks), {2.0 / 3, 1.0 / 3});
}

TEST(LeastRequest, WorkersShareHostCountersWithoutLocks) {
  // Two workers, each with its own instance, start and finish requests on
  // shared hosts; the counters must return to zero and both hosts get work.
  const HostSetPtr set = makeEqualHostSet(4);
  auto worker = [&set](uint64_t seed, std::vector<uint64_t>* counts) {
    LeastRequestLoadBalancer lb(set, LbConfig{}, seed);
    *counts = std::vector<uint64_t>(4, 0);
    for (int i = 0; i < 20000; ++i) {
      const Host* host = lb.chooseHost(nullptr);
      host->active_requests.fetch_add(1, std::memory_order_relaxed);
      (*counts)[static_cast<size_t>(testing::indexOf(*set, host))]++;
      host->active_requests.fetch_sub(1, std::memory_order_relaxed);
    }
  };
  std::vector<uint64_t> a, b;
  std::thread first(worker, 1, &a), second(worker, 2, &b);
  first.join();
  second.join();
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*set)[i].active_requests.load(), 0u);
    EXPECT_GT(a[i] + b[i], 0u);
  }
}

TEST(LeastRequest, EmptySetGivesNull) {
  LeastRequestLoadBalancer lb(std::make_shared<const HostSet>(), LbConfig{}, 1);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);
}

}  // namespace
}  // namespace sluice::upstream
