#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "upstream/lb_test_util.h"
#include "upstream/load_balancer_factory.h"
#include "upstream/maglev_lb.h"

namespace sluice::upstream {
namespace {

using testing::countPicks;
using testing::expectShares;
using testing::makeEqualHostSet;
using testing::makeHostSet;
using testing::requestHash;

constexpr uint64_t kPicks = 100'000;
constexpr uint64_t kDefaultSize = 65537;

std::vector<uint64_t> slotsPerHost(const MaglevTable& table, const HostSet& set) {
  std::vector<uint64_t> slots(set.size(), 0);
  for (const Host* host : table.slots()) slots[static_cast<size_t>(testing::indexOf(set, host))]++;
  return slots;
}

// The exact probability that a uniform 64-bit hash lands on each host. 2^64
// is not a multiple of M, but the bias that leaves is below M / 2^64.
std::vector<double> slotShares(const MaglevTable& table, const HostSet& set) {
  std::vector<double> shares;
  for (const uint64_t slots : slotsPerHost(table, set)) {
    shares.push_back(static_cast<double>(slots) / static_cast<double>(table.slots().size()));
  }
  return shares;
}

std::vector<std::string> keyOwners(const MaglevTable& table, uint64_t keys) {
  std::vector<std::string> owners;
  for (uint64_t i = 0; i < keys; ++i) owners.push_back(table.lookup(requestHash(i))->address_string);
  return owners;
}

TEST(Maglev, NextPrime) {
  EXPECT_EQ(nextPrime(0), 2u);
  EXPECT_EQ(nextPrime(2), 2u);
  EXPECT_EQ(nextPrime(4), 5u);
  EXPECT_EQ(nextPrime(65536), 65537u);
  EXPECT_EQ(nextPrime(65537), 65537u);
}

TEST(Maglev, TableHasTheConfiguredPrimeSize) {
  EXPECT_EQ(MaglevTable::build(makeEqualHostSet(3), kDefaultSize)->slots().size(), kDefaultSize);
  EXPECT_EQ(MaglevTable::build(makeEqualHostSet(3), 251)->slots().size(), 251u);
  // A size that is not prime is raised to the next prime.
  EXPECT_EQ(MaglevTable::build(makeEqualHostSet(3), 1000)->slots().size(), 1009u);
}

TEST(Maglev, EqualHostsGetSlotCountsWithinOne) {
  // Each turn every host places one entry, so the counts differ by at most 1.
  for (const size_t hosts : {size_t{10}, size_t{100}, size_t{1000}}) {
    const HostSetPtr set = makeEqualHostSet(hosts);
    const std::vector<uint64_t> slots = slotsPerHost(*MaglevTable::build(set, kDefaultSize), *set);
    const auto [low, high] = std::minmax_element(slots.begin(), slots.end());
    EXPECT_LE(*high - *low, 1u) << hosts << " hosts";
  }
}

TEST(Maglev, ThreeToOneWeightsFillThreeToOneSlots) {
  const HostSetPtr set = makeHostSet({3, 1});
  const auto table = MaglevTable::build(set, kDefaultSize);
  const std::vector<uint64_t> slots = slotsPerHost(*table, *set);
  EXPECT_NEAR(static_cast<double>(slots[0]), kDefaultSize * 0.75, 2.0);
  EXPECT_NEAR(static_cast<double>(slots[1]), kDefaultSize * 0.25, 2.0);
  MaglevLoadBalancer lb(table, 1);
  expectShares(countPicks(lb, *set, kPicks), {0.75, 0.25});
}

TEST(Maglev, ManyWeightsFillProportionalSlots) {
  std::vector<uint32_t> weights;
  for (uint32_t i = 1; i <= 20; ++i) weights.push_back(i);
  const HostSetPtr set = makeHostSet(weights);
  const std::vector<uint64_t> slots = slotsPerHost(*MaglevTable::build(set, kDefaultSize), *set);
  const std::vector<double> shares = testing::weightShares(weights);
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(slots[i]), shares[i] * kDefaultSize, 2.0) << "host " << i;
  }
}

TEST(Maglev, PicksAreUniformOverTenHosts) {
  const HostSetPtr set = makeEqualHostSet(10);
  const auto table = MaglevTable::build(set, kDefaultSize);
  MaglevLoadBalancer lb(table, 2);
  expectShares(countPicks(lb, *set, kPicks), slotShares(*table, *set));
  expectShares(countPicks(lb, *set, kPicks), std::vector<double>(10, 0.1));
}

TEST(Maglev, RequestHashesAreUniformOverHundredHosts) {
  const HostSetPtr set = makeEqualHostSet(100);
  const auto table = MaglevTable::build(set, kDefaultSize);
  MaglevLoadBalancer lb(table, 3);
  std::vector<uint64_t> counts(100, 0);
  for (uint64_t i = 0; i < kPicks; ++i) {
    const LbContext context{.hash = requestHash(i)};
    counts[static_cast<size_t>(testing::indexOf(*set, lb.chooseHost(&context)))]++;
  }
  expectShares(counts, slotShares(*table, *set));
}

TEST(Maglev, SameHashSameHostOnEveryWorker) {
  const HostSetPtr set = makeEqualHostSet(100);
  const LoadBalancerFactory factory(LbPolicy::Maglev, set, LbConfig{});
  auto worker_a = factory.create(1);
  auto worker_b = factory.create(2);
  auto other_proxy = createLoadBalancer(LbPolicy::Maglev, makeEqualHostSet(100), LbConfig{}, 3);
  for (uint64_t i = 0; i < 10'000; ++i) {
    const LbContext context{.hash = requestHash(i)};
    const Host* host = worker_a->chooseHost(&context);
    ASSERT_EQ(worker_b->chooseHost(&context), host);
    ASSERT_EQ(other_proxy->chooseHost(&context)->address_string, host->address_string);
  }
}

TEST(Maglev, AddingOneHostToHundredMovesAboutOnePercent) {
  const auto before = keyOwners(*MaglevTable::build(makeEqualHostSet(100), kDefaultSize), kPicks);
  const HostSetPtr grown = makeEqualHostSet(101);
  const auto after = keyOwners(*MaglevTable::build(grown, kDefaultSize), kPicks);
  const std::string added = (*grown)[100].address_string;
  uint64_t moved = 0, moved_to_new = 0;
  for (uint64_t i = 0; i < kPicks; ++i) {
    if (before[i] == after[i]) continue;
    ++moved;
    moved_to_new += after[i] == added ? 1 : 0;
  }
  std::printf("maglev: adding 1 host to 100 moved %.2f%% of keys (%.2f%% to the new host)\n", 100.0 * moved / kPicks,
              100.0 * moved_to_new / kPicks);
  // The new host takes about 1/101 of the keys; Maglev also reshuffles a
  // little among old hosts, which the paper accepts for its even balance.
  EXPECT_GT(moved_to_new, kPicks / 200);
  EXPECT_LT(moved, kPicks * 3 / 100);
}

TEST(Maglev, RemovingOneHostOfHundredMovesAboutOnePercent) {
  const HostSetPtr full = makeEqualHostSet(100);
  std::vector<HostPtr> remaining;
  for (size_t i = 0; i < full->size(); ++i) {
    if (i != 37) remaining.push_back(full->hosts()[i]);
  }
  const auto before = keyOwners(*MaglevTable::build(full, kDefaultSize), kPicks);
  const auto after = keyOwners(*MaglevTable::build(std::make_shared<const HostSet>(remaining), kDefaultSize), kPicks);
  const std::string removed = (*full)[37].address_string;
  uint64_t moved = 0;
  for (uint64_t i = 0; i < kPicks; ++i) {
    EXPECT_NE(after[i], removed);
    moved += before[i] != after[i] ? 1 : 0;
  }
  std::printf("maglev: removing 1 host of 100 moved %.2f%% of keys\n", 100.0 * moved / kPicks);
  EXPECT_LT(moved, kPicks * 3 / 100);
}

TEST(Maglev, NullContextOrNoHashPicksAHost) {
  const HostSetPtr set = makeEqualHostSet(3);
  MaglevLoadBalancer lb(MaglevTable::build(set, kDefaultSize), 4);
  EXPECT_NE(lb.chooseHost(nullptr), nullptr);
  const LbContext no_hash;
  EXPECT_NE(lb.chooseHost(&no_hash), nullptr);
}

TEST(Maglev, EmptySetGivesNull) {
  MaglevLoadBalancer lb(MaglevTable::build(std::make_shared<const HostSet>(), kDefaultSize), 5);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);
  const LbContext context{.hash = 1};
  EXPECT_EQ(lb.chooseHost(&context), nullptr);
  MaglevLoadBalancer no_table(nullptr, 5);
  EXPECT_EQ(no_table.chooseHost(&context), nullptr);
}

TEST(Maglev, MoreHostsThanSlotsStillFillsTheTable) {
  const HostSetPtr set = makeEqualHostSet(20);
  const auto table = MaglevTable::build(set, 7);
  for (const Host* host : table->slots()) EXPECT_NE(host, nullptr);
}

TEST(Maglev, BuildTimeForThousandHosts) {
  const HostSetPtr set = makeEqualHostSet(1000);
  std::vector<uint32_t> skewed(1000, 1);
  skewed[0] = 1000;
  const HostSetPtr skewed_set = makeHostSet(skewed);
  for (const auto& [name, hosts] : {std::pair{"equal weights", set}, std::pair{"one host weight 1000", skewed_set}}) {
    const auto start = std::chrono::steady_clock::now();
    const auto table = MaglevTable::build(hosts, kDefaultSize);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    std::printf("maglev: 1000 hosts (%s), %zu slots built in %.3f ms\n", name, table->slots().size(),
                std::chrono::duration<double, std::milli>(elapsed).count());
    EXPECT_EQ(table->slots().size(), kDefaultSize);
  }
}

}  // namespace
}  // namespace sluice::upstream
