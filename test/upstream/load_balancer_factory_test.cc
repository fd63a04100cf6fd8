#include <gtest/gtest.h>

#include "upstream/lb_test_util.h"
#include "upstream/least_request_lb.h"
#include "upstream/load_balancer_factory.h"
#include "upstream/random_lb.h"
#include "upstream/round_robin_lb.h"

namespace sluice::upstream {
namespace {

constexpr LbPolicy kAllPolicies[] = {LbPolicy::RoundRobin, LbPolicy::LeastRequest, LbPolicy::Random, LbPolicy::RingHash,
                                     LbPolicy::Maglev};

TEST(LoadBalancerFactory, PolicyNamesMatchEnvoy) {
  EXPECT_EQ(lbPolicyName(LbPolicy::RoundRobin), "ROUND_ROBIN");
  EXPECT_EQ(lbPolicyName(LbPolicy::LeastRequest), "LEAST_REQUEST");
  EXPECT_EQ(lbPolicyName(LbPolicy::Random), "RANDOM");
  EXPECT_EQ(lbPolicyName(LbPolicy::RingHash), "RING_HASH");
  EXPECT_EQ(lbPolicyName(LbPolicy::Maglev), "MAGLEV");
}

TEST(LoadBalancerFactory, CreatesTheRequestedPolicy) {
  const HostSetPtr set = testing::makeEqualHostSet(3);
  EXPECT_NE(dynamic_cast<RoundRobinLoadBalancer*>(createLoadBalancer(LbPolicy::RoundRobin, set, {}, 1).get()), nullptr);
  EXPECT_NE(dynamic_cast<LeastRequestLoadBalancer*>(createLoadBalancer(LbPolicy::LeastRequest, set, {}, 1).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<RandomLoadBalancer*>(createLoadBalancer(LbPolicy::Random, set, {}, 1).get()), nullptr);
  EXPECT_NE(dynamic_cast<RingHashLoadBalancer*>(createLoadBalancer(LbPolicy::RingHash, set, {}, 1).get()), nullptr);
  EXPECT_NE(dynamic_cast<MaglevLoadBalancer*>(createLoadBalancer(LbPolicy::Maglev, set, {}, 1).get()), nullptr);
}

TEST(LoadBalancerFactory, EveryPolicyPicksAHostOfTheSet) {
  const HostSetPtr set = testing::makeHostSet({1, 2, 3});
  const LbContext context{.hash = 99};
  for (const LbPolicy policy : kAllPolicies) {
    auto lb = createLoadBalancer(policy, set, LbConfig{}, 7);
    for (int i = 0; i < 100; ++i) {
      EXPECT_GE(testing::indexOf(*set, lb->chooseHost(nullptr)), 0) << lbPolicyName(policy);
      EXPECT_GE(testing::indexOf(*set, lb->chooseHost(&context)), 0) << lbPolicyName(policy);
    }
  }
}

TEST(LoadBalancerFactory, EmptySetGivesNullForEveryPolicy) {
  const LbContext context{.hash = 42};
  for (const LbPolicy policy : kAllPolicies) {
    for (const HostSetPtr& set : {std::make_shared<const HostSet>(), HostSetPtr()}) {
      const LoadBalancerFactory factory(policy, set, LbConfig{});
      auto lb = factory.create(1);
      ASSERT_NE(lb, nullptr);
      EXPECT_EQ(lb->chooseHost(nullptr), nullptr) << lbPolicyName(policy);
      EXPECT_EQ(lb->chooseHost(&context), nullptr) << lbPolicyName(policy);
    }
  }
}

TEST(LoadBalancerFactory, HostsOutliveTheirHostSetPointer) {
  // Workers keep using their instance after the main thread drops its
  // reference (a new HostSet was published); the instance keeps the old one.
  HostSetPtr set = testing::makeEqualHostSet(4);
  const LoadBalancerFactory factory(LbPolicy::RingHash, set, LbConfig{});
  auto lb = factory.create(1);
  set.reset();
  const LbContext context{.hash = 5};
  ASSERT_NE(lb->chooseHost(&context), nullptr);
  EXPECT_FALSE(lb->chooseHost(&context)->address_string.empty());
}

}  // namespace
}  // namespace sluice::upstream
