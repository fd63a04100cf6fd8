#include "upstream/load_balancer_factory.h"

#include <algorithm>
#include <utility>
#include <vector>

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

HealthLoad healthLoad(size_t healthy, size_t degraded, size_t counted, double panic_threshold) {
  HealthLoad out;
  const double threshold = std::clamp(panic_threshold, 0.0, 100.0);
  // Envoy's isHostSetInPanic: healthy% + degraded% of the hosts not excluded.
  const double available = counted == 0 ? 0.0 : 100.0 * static_cast<double>(healthy + degraded) / counted;
  if (threshold > 0 && available < threshold) {
    out.panic = true;
    out.healthy_percent = 100;
    return out;
  }
  if (counted == 0) return out;
  // Envoy's availability per priority with the overprovisioning factor 1.4,
  // then normalised so that the available hosts take all of the load.
  constexpr uint64_t kOverprovisioning = 140;
  const auto health = static_cast<uint32_t>(std::min<uint64_t>(100, kOverprovisioning * healthy / counted));
  const auto degrade = static_cast<uint32_t>(std::min<uint64_t>(100 - health, kOverprovisioning * degraded / counted));
  const uint32_t total = health + degrade;
  if (total == 0) return out;
  out.healthy_percent = health * 100 / total;
  out.degraded_percent = 100 - out.healthy_percent;
  return out;
}

LoadBalancerFactory::LoadBalancerFactory(LbPolicy policy, HostSetPtr hosts, const LbConfig& config)
    : policy_(policy), hosts_(hosts ? std::move(hosts) : std::make_shared<const HostSet>()), config_(config) {
  const HostSet& all = *hosts_;
  std::vector<HostPtr> healthy, degraded;
  std::vector<uint32_t> healthy_weights, degraded_weights;
  size_t excluded = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const uint32_t flags = all[i].healthFlags();
    if (excludedFromLoadBalancing(flags)) {
      ++excluded;
      continue;
    }
    switch (coarseHealth(flags)) {
      case CoarseHealth::Healthy:
        healthy.push_back(all.hosts()[i]);
        healthy_weights.push_back(all.weight(i));
        break;
      case CoarseHealth::Degraded:
        degraded.push_back(all.hosts()[i]);
        degraded_weights.push_back(all.weight(i));
        break;
      case CoarseHealth::Unhealthy:
        break;
    }
  }
  load_ = all.empty()
              ? HealthLoad{false, 100, 0}
              : healthLoad(healthy.size(), degraded.size(), all.size() - excluded, config_.healthy_panic_threshold);
  if (load_.panic || healthy.size() == all.size()) {
    routed_ = hosts_;
  } else {
    routed_ = std::make_shared<const HostSet>(std::move(healthy), std::move(healthy_weights));
  }
  if (!load_.panic && load_.degraded_percent > 0) {
    degraded_ = std::shared_ptr<const LoadBalancerFactory>(new LoadBalancerFactory(
        policy_, std::make_shared<const HostSet>(std::move(degraded), std::move(degraded_weights)), config_,
        Unpartitioned{}));
  }
  prepare();
}

LoadBalancerFactory::LoadBalancerFactory(LbPolicy policy, HostSetPtr hosts, const LbConfig& config, Unpartitioned)
    : policy_(policy), hosts_(std::move(hosts)), routed_(hosts_), config_(config), load_{false, 100, 0} {
  prepare();
}

void LoadBalancerFactory::prepare() {
  if (policy_ == LbPolicy::RingHash) {
    ring_ = HashRing::build(routed_, config_.ring_hash_minimum_ring_size, config_.ring_hash_maximum_ring_size);
  } else if (policy_ == LbPolicy::Maglev) {
    table_ = MaglevTable::build(routed_, config_.maglev_table_size);
  }
}

bool LoadBalancerFactory::sameRouting(const LoadBalancerFactory& other) const {
  if (policy_ != other.policy_ || !(config_ == other.config_) || hosts_ != other.hosts_) return false;
  if (load_.panic != other.load_.panic || load_.healthy_percent != other.load_.healthy_percent) return false;
  if (!routed_->sameAs(*other.routed_)) return false;
  if ((degraded_ == nullptr) != (other.degraded_ == nullptr)) return false;
  return degraded_ == nullptr || degraded_->routed_->sameAs(*other.degraded_->routed_);
}

std::unique_ptr<LoadBalancer> LoadBalancerFactory::create(uint64_t seed) const {
  switch (policy_) {
    case LbPolicy::RoundRobin:
      return std::make_unique<RoundRobinLoadBalancer>(routed_, seed);
    case LbPolicy::LeastRequest:
      return std::make_unique<LeastRequestLoadBalancer>(routed_, config_, seed);
    case LbPolicy::Random:
      return std::make_unique<RandomLoadBalancer>(routed_, seed);
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
