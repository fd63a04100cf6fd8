#include "upstream/random_lb.h"

#include <algorithm>
#include <utility>

#include "upstream/load_balancer_factory.h"

namespace sluice::upstream {

RandomLoadBalancer::RandomLoadBalancer(HostSetPtr hosts, uint64_t seed)
    : hosts_(hosts ? std::move(hosts) : std::make_shared<const HostSet>()), random_(seed) {
  index();
}

void RandomLoadBalancer::index() {
  weight_ends_.clear();
  if (hosts_->allWeightsEqual()) return;
  weight_ends_.reserve(hosts_->size());
  uint64_t sum = 0;
  for (size_t i = 0; i < hosts_->size(); ++i) weight_ends_.push_back(sum += hosts_->weight(i));
}

void RandomLoadBalancer::updateHosts(const LoadBalancerFactory& next) {
  hosts_ = next.routed();
  index();
}

const Host* RandomLoadBalancer::chooseHost(const LbContext* /*context*/) {
  if (hosts_->empty()) return nullptr;
  if (weight_ends_.empty()) return &(*hosts_)[random_.below(hosts_->size())];
  const uint64_t point = random_.below(weight_ends_.back());
  // The first host whose range [previous end, end) contains the point.
  const auto it = std::upper_bound(weight_ends_.begin(), weight_ends_.end(), point);
  return &(*hosts_)[static_cast<size_t>(it - weight_ends_.begin())];
}

}  // namespace sluice::upstream
