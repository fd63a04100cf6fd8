// RANDOM: a uniformly random host, or weighted by load_balancing_weight when
// the weights differ. One instance per worker (the generator is per-worker).
#pragma once

#include <cstdint>
#include <vector>

#include "upstream/load_balancer.h"

namespace sluice::upstream {

// Equal weights: O(1). Unequal weights: a draw in [0, total weight) located by
// binary search over the running weight sums, O(log hosts).
class RandomLoadBalancer final : public LoadBalancer {
 public:
  RandomLoadBalancer(HostSetPtr hosts, uint64_t seed);

  const Host* chooseHost(const LbContext* context) override;
  void updateHosts(const LoadBalancerFactory& next) override;  // keeps the random stream

 private:
  void index();  // weight_ends_ for hosts_

  HostSetPtr hosts_;
  FastRandom random_;
  std::vector<uint64_t> weight_ends_;  // weight_ends_[i] = sum of weights 0..i; empty when weights are equal
};

}  // namespace sluice::upstream
