// LoadBalancer::updateHosts: an endpoint update continues each policy's state
// for the hosts that stay instead of starting over.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "upstream/lb_test_util.h"
#include "upstream/load_balancer_factory.h"

namespace sluice::upstream {
namespace {

using testing::indexOf;

// The same Host objects as `set` (for the indices in `keep`), plus `extra` new ones.
HostSetPtr reshuffle(const HostSet& set, const std::vector<size_t>& keep, std::vector<uint32_t> weights,
                     size_t extra = 0) {
  std::vector<HostPtr> hosts;
  for (size_t i : keep) hosts.push_back(set.hosts()[i]);
  for (size_t i = 0; i < extra; ++i) hosts.push_back(makeHost("10.9.9." + std::to_string(i + 1), 80));
  return std::make_shared<const HostSet>(std::move(hosts), std::move(weights));
}

TEST(UpdateHosts, RoundRobinGoesOnAtTheHostThatWasNext) {
  const HostSetPtr set = testing::makeEqualHostSet(4);
  for (uint64_t seed = 0; seed < 8; ++seed) {
    auto lb = LoadBalancerFactory(LbPolicy::RoundRobin, set, {}).create(seed);
    const int first = indexOf(*set, lb->chooseHost(nullptr));
    const Host* was_next = &(*set)[(first + 1) % 4];
    // Drop the host just picked, add one: the rotation goes on at was_next.
    std::vector<size_t> keep;
    for (size_t i = 0; i < 4; ++i) {
      if (static_cast<int>(i) != first) keep.push_back(i);
    }
    const HostSetPtr next = reshuffle(*set, keep, {}, 1);
    lb->updateHosts(LoadBalancerFactory(LbPolicy::RoundRobin, next, {}));
    EXPECT_EQ(lb->chooseHost(nullptr), was_next) << "seed " << seed;
  }
}

TEST(UpdateHosts, SmoothWeightedRoundRobinKeepsProportionsAcrossAnUpdate) {
  const HostSetPtr set = testing::makeHostSet({5, 1, 1});
  auto lb = LoadBalancerFactory(LbPolicy::RoundRobin, set, {}).create(3);
  for (int i = 0; i < 3; ++i) lb->chooseHost(nullptr);
  // Same hosts, new weights 1:1:2: the picks after the update follow them
  // (to within the carried-over scores, a few picks).
  const HostSetPtr next = reshuffle(*set, {0, 1, 2}, {1, 1, 2});
  lb->updateHosts(LoadBalancerFactory(LbPolicy::RoundRobin, next, {}));
  std::map<int, int> counts;
  for (int i = 0; i < 400; ++i) counts[indexOf(*next, lb->chooseHost(nullptr))]++;
  EXPECT_NEAR(counts[0], 100, 3);
  EXPECT_NEAR(counts[1], 100, 3);
  EXPECT_NEAR(counts[2], 200, 3);
}

TEST(UpdateHosts, LeastRequestSeesTheActiveCountsOfSurvivingHosts) {
  const HostSetPtr set = testing::makeEqualHostSet(2);
  auto lb = LoadBalancerFactory(LbPolicy::LeastRequest, set, {}).create(5);
  set->hosts()[0]->active_requests = 3;  // busy
  const HostSetPtr next = reshuffle(*set, {0, 1}, {});
  lb->updateHosts(LoadBalancerFactory(LbPolicy::LeastRequest, next, {}));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(lb->chooseHost(nullptr), &(*set)[1]);
  set->hosts()[0]->active_requests = 0;
}

TEST(UpdateHosts, WeightedLeastRequestServesNewHostsAndKeepsTheOthers) {
  const HostSetPtr set = testing::makeHostSet({2, 1});
  auto lb = LoadBalancerFactory(LbPolicy::LeastRequest, set, {}).create(9);
  for (int i = 0; i < 10; ++i) lb->chooseHost(nullptr);
  const HostSetPtr next = reshuffle(*set, {0, 1}, {2, 1, 1}, 1);
  lb->updateHosts(LoadBalancerFactory(LbPolicy::LeastRequest, next, {}));
  std::map<int, int> counts;
  for (int i = 0; i < 4000; ++i) counts[indexOf(*next, lb->chooseHost(nullptr))]++;
  EXPECT_NEAR(counts[0], 2000, 10);
  EXPECT_NEAR(counts[1], 1000, 10);
  EXPECT_NEAR(counts[2], 1000, 10);
}

TEST(UpdateHosts, RandomPicksOnlyFromTheNewSet) {
  const HostSetPtr set = testing::makeHostSet({1, 3});
  auto lb = LoadBalancerFactory(LbPolicy::Random, set, {}).create(1);
  const HostSetPtr next = reshuffle(*set, {1}, {7}, 1);
  lb->updateHosts(LoadBalancerFactory(LbPolicy::Random, next, {}));
  for (int i = 0; i < 200; ++i) EXPECT_GE(indexOf(*next, lb->chooseHost(nullptr)), 0);
}

TEST(UpdateHosts, ConsistentHashingTakesTheTableBuiltForTheNewSet) {
  for (const auto policy : {LbPolicy::RingHash, LbPolicy::Maglev}) {
    const HostSetPtr set = testing::makeEqualHostSet(3);
    auto lb = LoadBalancerFactory(policy, set, {}).create(1);
    const HostSetPtr next = reshuffle(*set, {2}, {});
    const LoadBalancerFactory factory(policy, next, {});
    lb->updateHosts(factory);
    const LbContext context{12345};
    EXPECT_EQ(lb->chooseHost(&context), &(*set)[2]) << lbPolicyName(policy);
  }
}

}  // namespace
}  // namespace sluice::upstream
