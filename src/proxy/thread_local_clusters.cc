#include "proxy/thread_local_clusters.h"

namespace sluice::proxy {

ClusterState::ClusterState(asio::any_io_executor executor, const ClusterUpdate& update, uint64_t seed)
    : config(update.config),
      balancing(update.hosts),
      lb(update.hosts->create(seed)),
      degraded_lb(update.hosts->degraded() ? update.hosts->degraded()->create(seed + 1) : nullptr),
      random(seed ^ 0x5bd1e995),
      pool(std::move(executor), update.config) {}

void ClusterState::countPanic() { config->stats->lb_healthy_panic.inc(); }

void ClusterState::updateBalancing(const std::shared_ptr<const upstream::LoadBalancerFactory>& next, uint64_t seed) {
  lb->updateHosts(*next);
  if (!next->degraded()) {
    degraded_lb.reset();
  } else if (degraded_lb) {
    degraded_lb->updateHosts(*next->degraded());
  } else {
    degraded_lb = next->degraded()->create(seed + 1);
  }
  balancing = next;
}

void ThreadLocalClusters::applyOne(const ClusterUpdate& update, uint64_t seed) {
  auto& slot = clusters_[update.config->name];
  if (!slot) {
    slot = std::make_shared<ClusterState>(executor_, update, seed);
    return;
  }
  ClusterState& state = *slot;
  if (update.hosts != state.balancing) {
    if (update.hosts->hosts() != state.hosts()) state.pool.retainOnly(*update.hosts->hosts());
    if (sameLoadBalancing(*state.config, *update.config)) {
      state.updateBalancing(update.hosts, seed);
    } else {
      state.balancing = update.hosts;
      state.lb = update.hosts->create(seed);
      state.degraded_lb = update.hosts->degraded() ? update.hosts->degraded()->create(seed + 1) : nullptr;
    }
  } else if (!sameLoadBalancing(*state.config, *update.config)) {
    state.lb = update.hosts->create(seed);
    state.degraded_lb = update.hosts->degraded() ? update.hosts->degraded()->create(seed + 1) : nullptr;
  }
  if (update.config != state.config) {
    state.pool.setCluster(update.config);
    state.config = update.config;
  }
}

void ThreadLocalClusters::remove(const std::string& name) {
  const auto it = clusters_.find(name);
  if (it == clusters_.end()) return;
  it->second->pool.close();
  clusters_.erase(it);
}

ClusterState* ThreadLocalClusters::find(std::string_view name) const {
  const auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.get();
}

std::shared_ptr<ClusterState> ThreadLocalClusters::get(std::string_view name) const {
  const auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second;
}

void ThreadLocalClusters::closeAll() {
  for (auto& [name, state] : clusters_) state->pool.close();
}

}  // namespace sluice::proxy
