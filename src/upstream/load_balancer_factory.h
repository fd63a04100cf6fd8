// Builds per-worker load balancers for one cluster.
//
// The main thread creates one LoadBalancerFactory per cluster and HostSet; it
// builds what the policy can share between workers (the ring or the Maglev
// table) once. Each worker then calls create() for its own instance, which is
// cheap for every policy. The factory is immutable, so create() is safe from
// any thread.
#pragma once

#include <cstdint>
#include <memory>

#include "upstream/load_balancer.h"
#include "upstream/maglev_lb.h"
#include "upstream/ring_hash_lb.h"

namespace sluice::upstream {

class LoadBalancerFactory {
 public:
  // A null `hosts` counts as empty: every load balancer then returns nullptr.
  LoadBalancerFactory(LbPolicy policy, HostSetPtr hosts, const LbConfig& config);

  // A new instance owned by the calling worker. Give each worker a different
  // seed (for example its index) so that their rotations and random streams
  // differ.
  std::unique_ptr<LoadBalancer> create(uint64_t seed) const;

  LbPolicy policy() const { return policy_; }
  const LbConfig& config() const { return config_; }
  const HostSetPtr& hosts() const { return hosts_; }
  const std::shared_ptr<const HashRing>& ring() const { return ring_; }       // RingHash only, else null
  const std::shared_ptr<const MaglevTable>& table() const { return table_; }  // Maglev only, else null

 private:
  LbPolicy policy_;
  HostSetPtr hosts_;
  LbConfig config_;
  std::shared_ptr<const HashRing> ring_;      // RingHash only
  std::shared_ptr<const MaglevTable> table_;  // Maglev only
};

// One load balancer with nothing shared: builds the ring or Maglev table for
// this instance alone. Fine for tests and one-off use; a cluster with many
// workers should use a LoadBalancerFactory.
std::unique_ptr<LoadBalancer> createLoadBalancer(LbPolicy policy, std::shared_ptr<const HostSet> hosts,
                                                 const LbConfig& config, uint64_t seed);

}  // namespace sluice::upstream
