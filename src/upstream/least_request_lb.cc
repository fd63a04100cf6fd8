#include "upstream/least_request_lb.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>

#include "upstream/load_balancer_factory.h"

namespace sluice::upstream {

LeastRequestLoadBalancer::LeastRequestLoadBalancer(HostSetPtr hosts, const LbConfig& config, uint64_t seed)
    : hosts_(hosts ? std::move(hosts) : std::make_shared<const HostSet>()),
      choice_count_(std::max<uint32_t>(config.least_request_choice_count, 1)),
      active_request_bias_(std::isfinite(config.least_request_active_request_bias)
                               ? std::max(config.least_request_active_request_bias, 0.0)
                               : 1.0),
      random_(seed) {
  schedule({});
}

void LeastRequestLoadBalancer::schedule(const std::vector<std::pair<const Host*, double>>& kept) {
  order_.clear();
  schedule_ = {};
  if (hosts_->allWeightsEqual()) {
    order_.resize(hosts_->size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
    return;
  }
  const std::unordered_map<const Host*, double> deadlines(kept.begin(), kept.end());
  std::vector<Deadline> initial;
  initial.reserve(hosts_->size());
  for (size_t i = 0; i < hosts_->size(); ++i) {
    const auto it = deadlines.find(&(*hosts_)[i]);
    const double time = it != deadlines.end() ? it->second : now_ + random_.unit() / effectiveWeight(i);
    initial.push_back({time, next_order_++, i});
  }
  schedule_ = decltype(schedule_)(std::greater<>(), std::move(initial));
}

void LeastRequestLoadBalancer::updateHosts(const LoadBalancerFactory& next) {
  std::vector<std::pair<const Host*, double>> kept;
  auto queue = schedule_;
  while (!queue.empty()) {
    kept.emplace_back(&(*hosts_)[queue.top().index], queue.top().time);
    queue.pop();
  }
  hosts_ = next.routed();
  schedule(kept);
}

const Host* LeastRequestLoadBalancer::chooseHost(const LbContext* /*context*/) {
  if (hosts_->empty()) return nullptr;
  return schedule_.empty() ? chooseUnweighted() : chooseWeighted();
}

const Host* LeastRequestLoadBalancer::chooseUnweighted() {
  // A partial Fisher-Yates shuffle: step k swaps a uniformly chosen index from
  // [k, count) into place k. Whatever order earlier picks left behind, the
  // first `choices` places then hold a uniform random sample in random order.
  const size_t count = order_.size();
  const size_t choices = std::min<size_t>(choice_count_, count);
  const Host* best = nullptr;
  uint32_t best_active = 0;
  for (size_t k = 0; k < choices; ++k) {
    std::swap(order_[k], order_[k + random_.below(count - k)]);
    const Host* candidate = &(*hosts_)[order_[k]];
    const uint32_t active = candidate->active_requests.load(std::memory_order_relaxed);
    if (best == nullptr || active < best_active) {
      best = candidate;
      best_active = active;
    }
  }
  return best;
}

const Host* LeastRequestLoadBalancer::chooseWeighted() {
  Deadline next = schedule_.top();
  schedule_.pop();
  now_ = next.time;
  schedule_.push({now_ + 1.0 / effectiveWeight(next.index), next_order_++, next.index});
  return &(*hosts_)[next.index];
}

double LeastRequestLoadBalancer::effectiveWeight(size_t index) const {
  const double weight = hosts_->weight(index);
  if (active_request_bias_ == 0.0) return weight;
  const double load = 1.0 + (*hosts_)[index].active_requests.load(std::memory_order_relaxed);
  // The common bias of 1.0 skips pow().
  return active_request_bias_ == 1.0 ? weight / load : weight / std::pow(load, active_request_bias_);
}

}  // namespace sluice::upstream
