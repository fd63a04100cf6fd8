#include "upstream/load_balancer_factory.h"

#include <utility>

#include "upstream/least_request_lb.h"
#include "upstream/random_lb.h"
#include "upstream/round_robin_lb.h"

namespace sluice::upstream {

std::string_view lbPolicyName(LbPolicy policy) {
  switch (policy) {
    case LbPolicy::RoundRobin:
      return "ROUND_ROBIN";
    case LbPolicy::LeastRequest:
      return "LEAST_REQUEST";
    case LbPolicy::Random:
      return "RANDOM";
    case LbPolicy::RingHash:
      return "RING_HASH";
    case LbPolicy::Maglev:
      return "MAGLEV";
  }
  return "UNKNOWN";
}

LoadBalancerFactory::LoadBalancerFactory(LbPolicy policy, HostSetPtr hosts, const LbConfig& config)
    : policy_(policy), hosts_(hosts ? std::move(hosts) : std::make_shared<const HostSet>()), config_(config) {
  if (policy_ == LbPolicy::RingHash) {
    ring_ = HashRing::build(hosts_, config_.ring_hash_minimum_ring_size, config_.ring_hash_maximum_ring_size);
  } else if (policy_ == LbPolicy::Maglev) {
    table_ = MaglevTable::build(hosts_, config_.maglev_table_size);
  }
}

std::unique_ptr<LoadBalancer> LoadBalancerFactory::create(uint64_t seed) const {
  switch (policy_) {
    case LbPolicy::RoundRobin:
      return std::make_unique<RoundRobinLoadBalancer>(hosts_, seed);
    case LbPolicy::LeastRequest:
      return std::make_unique<LeastRequestLoadBalancer>(hosts_, config_, seed);
    case LbPolicy::Random:
      return std::make_unique<RandomLoadBalancer>(hosts_, seed);
    case LbPolicy::RingHash:
      return std::make_unique<RingHashLoadBalancer>(ring_, seed);
    case LbPolicy::Maglev:
      return std::make_unique<MaglevLoadBalancer>(table_, seed);
  }
  return nullptr;
}

std::unique_ptr<LoadBalancer> createLoadBalancer(LbPolicy policy, std::shared_ptr<const HostSet> hosts,
                                                 const LbConfig& config, uint64_t seed) {
  return LoadBalancerFactory(policy, std::move(hosts), config).create(seed);
}

}  // namespace sluice::upstream
