// The clusters as one worker sees them (Envoy's ThreadLocalClusterManager):
// per cluster its settings, its current hosts, its own load balancer and its
// connection pool. The main thread's cluster manager sends a ClusterDelta of
// what changed; apply() touches only those clusters, so an endpoint update
// costs this worker O(hosts of that cluster), whatever the number of clusters.
// Owned by a Worker; worker thread only (tests drive it on one io_context).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "network/asio_util.h"
#include "proxy/proxy_config.h"
#include "proxy/upstream_pool.h"

namespace sluice::proxy {

// A cluster as one worker sees it. The request path holds a shared_ptr for
// the length of a request, so a cluster removed meanwhile stays valid.
struct ClusterState {
  ClusterState(asio::any_io_executor executor, const ClusterUpdate& update, uint64_t seed);
  std::shared_ptr<const ClusterConfig> config;
  std::shared_ptr<const upstream::LoadBalancerFactory> balancing;  // the current hosts and health, prepared
  std::unique_ptr<upstream::LoadBalancer> lb;                      // over balancing->routed()
  std::unique_ptr<upstream::LoadBalancer> degraded_lb;             // over balancing->degraded(), when it is set
  upstream::FastRandom random;                                     // the healthy / degraded split
  UpstreamPool pool;

  const upstream::HostSetPtr& hosts() const { return balancing->hosts(); }

  // The host for the next request (nullptr: none is available). Envoy's
  // split: balancing->load() says which share of requests goes to the
  // degraded hosts (by the request's hash when it has one); in panic every
  // host is routed and cluster.<name>.lb_healthy_panic counts the pick.
  const upstream::Host* chooseHost(const upstream::LbContext* context) {
    if (degraded_lb) [[unlikely]] {
      const uint64_t draw = context != nullptr && context->hash ? *context->hash % 100 : random.below(100);
      if (draw >= balancing->load().healthy_percent) return degraded_lb->chooseHost(context);
    }
    if (balancing->panic()) [[unlikely]]
      countPanic();
    return lb->chooseHost(context);
  }
  // Takes `next`'s hosts and health: the load balancers update in place.
  void updateBalancing(const std::shared_ptr<const upstream::LoadBalancerFactory>& next, uint64_t seed);

 private:
  void countPanic();
};

class ThreadLocalClusters {
 public:
  explicit ThreadLocalClusters(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  ThreadLocalClusters(const ThreadLocalClusters&) = delete;
  ThreadLocalClusters& operator=(const ThreadLocalClusters&) = delete;

  // For each updated cluster:
  // - new: a load balancer (seeded from `seed`) and an empty pool;
  // - same settings, new hosts: the load balancer updates in place (see
  //   LoadBalancer::updateHosts) and the pool closes the idle connections of
  //   hosts that left; surviving hosts keep theirs;
  // - new settings, same load balancing policy and tuning: the same, and the
  //   pool takes the new settings for new connections;
  // - new policy or tuning: a new load balancer; the pool stays.
  // Removed clusters close their idle connections; requests in flight finish
  // on the state they hold. `seed` draws one seed per new load balancer.
  template <typename Seed>
  void apply(const ClusterDelta& delta, Seed&& seed) {
    for (const auto& update : delta.updated) applyOne(update, seed());
    for (const auto& name : delta.removed) remove(name);
  }

  ClusterState* find(std::string_view name) const;
  std::shared_ptr<ClusterState> get(std::string_view name) const;
  size_t size() const { return clusters_.size(); }
  // Closes every pool (worker stop).
  void closeAll();

 private:
  void applyOne(const ClusterUpdate& update, uint64_t seed);
  void remove(const std::string& name);

  // Looked up by string_view (transparent): the request path builds no string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
  };
  asio::any_io_executor executor_;
  std::unordered_map<std::string, std::shared_ptr<ClusterState>, NameHash, std::equal_to<>> clusters_;
};

}  // namespace sluice::proxy
