#include "upstream/round_robin_lb.h"

#include <utility>

namespace sluice::upstream {

RoundRobinLoadBalancer::RoundRobinLoadBalancer(HostSetPtr hosts, uint64_t seed)
    : hosts_(hosts ? std::move(hosts) : std::make_shared<const HostSet>()) {
  if (hosts_->empty()) return;
  cursor_ = FastRandom(seed).below(hosts_->size());
  if (!hosts_->allWeightsEqual()) score_.assign(hosts_->size(), 0);
}

const Host* RoundRobinLoadBalancer::chooseHost(const LbContext* /*context*/) {
  if (hosts_->empty()) return nullptr;
  if (!score_.empty()) return chooseWeighted();
  const Host* host = &(*hosts_)[cursor_];
  if (++cursor_ == hosts_->size()) cursor_ = 0;
  return host;
}

const Host* RoundRobinLoadBalancer::chooseWeighted() {
  // Scores sum to 0 after every pick and stay within a small multiple of the
  // total weight (inside +-total in every case the tests try), far from
  // int64_t's limits for uint32_t weights.
  const size_t count = hosts_->size();
  for (size_t i = 0; i < count; ++i) score_[i] += lbWeight((*hosts_)[i]);
  size_t best = cursor_;
  for (size_t step = 1; step < count; ++step) {
    size_t i = cursor_ + step;
    if (i >= count) i -= count;
    if (score_[i] > score_[best]) best = i;
  }
  score_[best] -= static_cast<int64_t>(hosts_->totalWeight());
  return &(*hosts_)[best];
}

}  // namespace sluice::upstream
