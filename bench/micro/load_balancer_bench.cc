// Each load balancer's pick over 10 / 100 / 1,000 equal hosts. Hash-based ones
// get a different request hash per pick (as routes with a hash policy give).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "upstream/host.h"
#include "upstream/load_balancer.h"
#include "upstream/load_balancer_factory.h"

namespace {

using namespace sluice::upstream;

HostSetPtr hosts(int64_t count) {
  std::vector<HostPtr> list;
  for (int64_t i = 0; i < count; ++i) {
    list.push_back(makeHost("10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1", 8080));
  }
  return std::make_shared<const HostSet>(std::move(list));
}

void pick(benchmark::State& state, LbPolicy policy) {
  const LbConfig config;
  const auto lb = createLoadBalancer(policy, hosts(state.range(0)), config, 42);
  uint64_t hash = 0x9e3779b97f4a7c15ULL;
  for (auto _ : state) {
    hash = hash * 6364136223846793005ULL + 1442695040888963407ULL;
    const LbContext context{hash};
    benchmark::DoNotOptimize(lb->chooseHost(&context));
  }
}

#define SLUICE_LB_BENCH(name, policy)                         \
  void name(benchmark::State& state) { pick(state, policy); } \
  BENCHMARK(name)->Arg(10)->Arg(100)->Arg(1000)

SLUICE_LB_BENCH(BM_PickRoundRobin, LbPolicy::RoundRobin);
SLUICE_LB_BENCH(BM_PickLeastRequest, LbPolicy::LeastRequest);
SLUICE_LB_BENCH(BM_PickRandom, LbPolicy::Random);
SLUICE_LB_BENCH(BM_PickRingHash, LbPolicy::RingHash);
SLUICE_LB_BENCH(BM_PickMaglev, LbPolicy::Maglev);

// Round robin with unequal weights takes the weighted path.
void BM_PickRoundRobinWeighted(benchmark::State& state) {
  std::vector<HostPtr> list;
  std::vector<uint32_t> weights;
  for (int64_t i = 0; i < state.range(0); ++i) {
    list.push_back(makeHost("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250), 8080));
    weights.push_back(static_cast<uint32_t>(1 + i % 5));
  }
  const auto lb = createLoadBalancer(
      LbPolicy::RoundRobin, std::make_shared<const HostSet>(std::move(list), std::move(weights)), LbConfig{}, 42);
  for (auto _ : state) benchmark::DoNotOptimize(lb->chooseHost(nullptr));
}
BENCHMARK(BM_PickRoundRobinWeighted)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
