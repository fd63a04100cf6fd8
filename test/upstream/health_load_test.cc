// What a cluster's load balancers route to given its hosts' health: Envoy's
// healthy / degraded split, the panic threshold, excluded hosts.
#include <gtest/gtest.h>

#include <set>

#include "upstream/load_balancer_factory.h"

namespace sluice::upstream {
namespace {

TEST(HealthLoad, AllHealthyTakesAllTheLoad) {
  const auto load = healthLoad(4, 0, 4, 50);
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.healthy_percent, 100u);
  EXPECT_EQ(load.degraded_percent, 0u);
}

TEST(HealthLoad, OverprovisioningKeepsDegradedHostsIdleAboveSeventyOnePercent) {
  // 3 of 4 healthy: 1.4 * 75% >= 100%.
  EXPECT_EQ(healthLoad(3, 1, 4, 50).healthy_percent, 100u);
  // Half and half: healthy 70, degraded 30.
  const auto load = healthLoad(2, 2, 4, 50);
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.healthy_percent, 70u);
  EXPECT_EQ(load.degraded_percent, 30u);
}

TEST(HealthLoad, OnlyDegradedHostsTakeAllTheLoad) {
  const auto load = healthLoad(0, 3, 3, 50);
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.healthy_percent, 0u);
  EXPECT_EQ(load.degraded_percent, 100u);
}

TEST(HealthLoad, BelowThePanicThresholdIsPanic) {
  EXPECT_TRUE(healthLoad(1, 0, 3, 50).panic);   // 33% < 50%
  EXPECT_FALSE(healthLoad(2, 0, 4, 50).panic);  // 50% is not below
  EXPECT_TRUE(healthLoad(2, 0, 4, 51).panic);
  EXPECT_TRUE(healthLoad(0, 0, 0, 50).panic);   // every host excluded
  EXPECT_FALSE(healthLoad(1, 1, 4, 50).panic);  // degraded hosts count as available
}

TEST(HealthLoad, ZeroThresholdDisablesPanic) {
  const auto load = healthLoad(0, 0, 4, 0);
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.healthy_percent + load.degraded_percent, 0u);
}

std::vector<HostPtr> hosts(size_t n) {
  std::vector<HostPtr> out;
  for (size_t i = 0; i < n; ++i) out.push_back(makeHost("10.0.0." + std::to_string(i + 1), 80));
  return out;
}

std::set<const Host*> picks(const LoadBalancerFactory& factory, int draws = 64) {
  auto lb = factory.create(1);
  std::set<const Host*> out;
  for (int i = 0; i < draws; ++i) out.insert(lb->chooseHost(nullptr));
  return out;
}

TEST(LoadBalancerFactoryHealth, AllHealthyRoutesTheSameHostSet) {
  const auto set = std::make_shared<const HostSet>(hosts(3));
  const LoadBalancerFactory factory(LbPolicy::RoundRobin, set, LbConfig{});
  EXPECT_EQ(factory.routed(), set);  // no copy
  EXPECT_EQ(factory.degraded(), nullptr);
  EXPECT_FALSE(factory.panic());
}

TEST(LoadBalancerFactoryHealth, UnhealthyHostsAreNotRouted) {
  for (const auto policy :
       {LbPolicy::RoundRobin, LbPolicy::LeastRequest, LbPolicy::Random, LbPolicy::RingHash, LbPolicy::Maglev}) {
    auto list = hosts(4);
    list[1]->setHealthFlag(kFailedActiveHc, true);
    const auto set = std::make_shared<const HostSet>(list);
    const LoadBalancerFactory factory(policy, set, LbConfig{});
    EXPECT_EQ(factory.routed()->size(), 3u) << lbPolicyName(policy);
    const auto chosen = picks(factory, 256);
    EXPECT_EQ(chosen.count(list[1].get()), 0u) << lbPolicyName(policy);
    EXPECT_EQ(chosen.size(), 3u) << lbPolicyName(policy);
  }
}

TEST(LoadBalancerFactoryHealth, PanicRoutesEveryHost) {
  auto list = hosts(4);
  for (int i = 0; i < 3; ++i) list[i]->setHealthFlag(kFailedEdsHealth, true);
  const LoadBalancerFactory factory(LbPolicy::RoundRobin, std::make_shared<const HostSet>(list), LbConfig{});
  EXPECT_TRUE(factory.panic());
  EXPECT_EQ(picks(factory).size(), 4u);
}

TEST(LoadBalancerFactoryHealth, PanicThresholdZeroRoutesNothingWhenNoneIsHealthy) {
  auto list = hosts(2);
  for (auto& h : list) h->setHealthFlag(kFailedActiveHc, true);
  LbConfig config;
  config.healthy_panic_threshold = 0;
  const LoadBalancerFactory factory(LbPolicy::RoundRobin, std::make_shared<const HostSet>(list), config);
  EXPECT_FALSE(factory.panic());
  EXPECT_EQ(factory.create(1)->chooseHost(nullptr), nullptr);
}

TEST(LoadBalancerFactoryHealth, DegradedHostsGetTheirOwnFactoryWhenTheySplitTheLoad) {
  auto list = hosts(4);
  list[2]->setHealthFlag(kDegradedEdsHealth, true);
  list[3]->setHealthFlag(kDegradedEdsHealth, true);
  const LoadBalancerFactory factory(LbPolicy::RoundRobin, std::make_shared<const HostSet>(list), LbConfig{});
  ASSERT_NE(factory.degraded(), nullptr);
  EXPECT_EQ(factory.load().healthy_percent, 70u);
  EXPECT_EQ(factory.routed()->size(), 2u);
  EXPECT_EQ(factory.degraded()->routed()->size(), 2u);
  EXPECT_EQ(picks(*factory.degraded()), (std::set<const Host*>{list[2].get(), list[3].get()}));
}

TEST(LoadBalancerFactoryHealth, DrainingAndImmediatelyFailedHostsAreExcluded) {
  auto list = hosts(4);
  list[0]->setHealthFlag(kEdsStatusDraining, true);
  list[1]->setHealthFlag(kExcludedViaImmediateHcFail | kFailedActiveHc, true);
  // 2 healthy of 2 counted: no panic, though half the hosts are out.
  LbConfig config;
  config.healthy_panic_threshold = 60;
  const LoadBalancerFactory factory(LbPolicy::Random, std::make_shared<const HostSet>(list), config);
  EXPECT_FALSE(factory.panic());
  EXPECT_EQ(picks(factory), (std::set<const Host*>{list[2].get(), list[3].get()}));
}

TEST(LoadBalancerFactoryHealth, SameRoutingTellsAHealthChange) {
  auto list = hosts(3);
  const auto set = std::make_shared<const HostSet>(list);
  const LoadBalancerFactory before(LbPolicy::RoundRobin, set, LbConfig{});
  EXPECT_TRUE(before.sameRouting(LoadBalancerFactory(LbPolicy::RoundRobin, set, LbConfig{})));
  list[0]->setHealthFlag(kFailedActiveHc, true);
  EXPECT_FALSE(before.sameRouting(LoadBalancerFactory(LbPolicy::RoundRobin, set, LbConfig{})));
  // A flag that does not change routing (a timeout noted on a failed host) is the same routing.
  const LoadBalancerFactory failed(LbPolicy::RoundRobin, set, LbConfig{});
  list[0]->setHealthFlag(kActiveHcTimeout, true);
  EXPECT_TRUE(failed.sameRouting(LoadBalancerFactory(LbPolicy::RoundRobin, set, LbConfig{})));
}

TEST(HealthFlags, PrintAsEnvoyDoes) {
  EXPECT_EQ(healthFlagsString(0), "healthy");
  EXPECT_EQ(healthFlagsString(kFailedActiveHc | kFailedEdsHealth), "/failed_active_hc/failed_eds_health");
  EXPECT_EQ(healthFlagsString(kDegradedEdsHealth), "/degraded_eds_health");
  EXPECT_EQ(healthFlagsString(kEdsStatusDraining), "/eds_status_draining");
  EXPECT_EQ(healthFlagsString(kExcludedViaImmediateHcFail | kFailedActiveHc),
            "/failed_active_hc/excluded_via_immediate_hc_fail");
}

}  // namespace
}  // namespace sluice::upstream
