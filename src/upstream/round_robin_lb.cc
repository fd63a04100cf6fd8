#include "upstream/round_robin_lb.h"

#include <numeric>
#include <unordered_map>
#include <utility>

#include "upstream/load_balancer_factory.h"

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
  for (size_t i = 0; i < count; ++i) score_[i] += hosts_->weight(i);
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

namespace sluice::upstream {

void RoundRobinLoadBalancer::updateHosts(const LoadBalancerFactory& next) {
  const HostSetPtr& hosts = next.routed();
  const HostSet& now = *hosts;
  const Host* was_next = hosts_->empty() ? nullptr : &(*hosts_)[cursor_ % hosts_->size()];
  std::unordered_map<const Host*, int64_t> scores;
  for (size_t i = 0; i < score_.size(); ++i) scores.emplace(&(*hosts_)[i], score_[i]);
  size_t cursor = now.empty() ? 0 : cursor_ % now.size();
  for (size_t i = 0; i < now.size(); ++i) {
    if (&now[i] == was_next) cursor = i;
  }
  score_.clear();
  if (!now.allWeightsEqual()) {
    score_.resize(now.size(), 0);
    for (size_t i = 0; i < now.size(); ++i) {
      if (const auto it = scores.find(&now[i]); it != scores.end()) score_[i] = it->second;
    }
    const int64_t sum = std::accumulate(score_.begin(), score_.end(), int64_t{0});
    const auto count = static_cast<int64_t>(now.size());
    for (int64_t& score : score_) score -= sum / count;
    score_[0] -= sum % count;
  }
  hosts_ = hosts;
  cursor_ = cursor;
}

}  // namespace sluice::upstream
