// Builds per-worker load balancers for one cluster.
//
// The main thread creates one LoadBalancerFactory per cluster, HostSet and
// health state; it reads its hosts' health flags there, once, and decides
// what the load balancers balance over (the routed hosts: the healthy ones, or
// every host in panic), how much of the load goes to degraded hosts, and
// builds what the policy can share between workers (the ring or the Maglev
// table) once. Each worker then calls create() for its own instance, which is
// cheap for every policy. The factory is immutable, so create() and every
// accessor are safe from any thread; a health change is a new factory.
#pragma once

#include <cstdint>
#include <memory>

#include "upstream/load_balancer.h"
#include "upstream/maglev_lb.h"
#include "upstream/ring_hash_lb.h"

namespace sluice::upstream {

// Envoy's load split for one priority (overprovisioning factor 1.4) between
// healthy and degraded hosts, and its panic rule. `counted` is the number of
// hosts less the excluded ones; `healthy` and `degraded` are counts (Envoy
// counts hosts, not weights). `panic_threshold` is a percentage; 0 disables
// panic.
struct HealthLoad {
  bool panic = false;             // balance over every host
  uint32_t healthy_percent = 0;   // of the requests, to the healthy hosts
  uint32_t degraded_percent = 0;  // to the degraded hosts; healthy + degraded is 100, or 0 when none is available
};
HealthLoad healthLoad(size_t healthy, size_t degraded, size_t counted, double panic_threshold);

class LoadBalancerFactory {
 public:
  // A null `hosts` counts as empty: every load balancer then returns nullptr.
  // Reads the hosts' health flags: main thread only (tests: any one thread).
  LoadBalancerFactory(LbPolicy policy, HostSetPtr hosts, const LbConfig& config);

  // A new instance owned by the calling worker, balancing over routed().
  // Give each worker a different seed (for example its index) so that their
  // rotations and random streams differ.
  std::unique_ptr<LoadBalancer> create(uint64_t seed) const;

  LbPolicy policy() const { return policy_; }
  const LbConfig& config() const { return config_; }
  // Every host of the cluster, whatever its health (pools, admin).
  const HostSetPtr& hosts() const { return hosts_; }
  // What the load balancers pick from: the healthy hosts, or every host in
  // panic. The same object as hosts() when every host is healthy.
  const HostSetPtr& routed() const { return routed_; }
  // The degraded hosts' own factory, when some load goes to them; else null.
  const std::shared_ptr<const LoadBalancerFactory>& degraded() const { return degraded_; }
  const HealthLoad& load() const { return load_; }
  bool panic() const { return load_.panic; }
  const std::shared_ptr<const HashRing>& ring() const { return ring_; }       // RingHash only, else null
  const std::shared_ptr<const MaglevTable>& table() const { return table_; }  // Maglev only, else null

  // Same hosts, and the same hosts routed with the same split: workers would
  // pick exactly as they do now.
  bool sameRouting(const LoadBalancerFactory& other) const;

 private:
  struct Unpartitioned {};
  // Balances over all of `hosts`, whatever their health (the degraded part).
  LoadBalancerFactory(LbPolicy policy, HostSetPtr hosts, const LbConfig& config, Unpartitioned);
  void prepare();

  LbPolicy policy_;
  HostSetPtr hosts_;
  HostSetPtr routed_;
  LbConfig config_;
  HealthLoad load_;
  std::shared_ptr<const LoadBalancerFactory> degraded_;
  std::shared_ptr<const HashRing> ring_;      // RingHash only
  std::shared_ptr<const MaglevTable> table_;  // Maglev only
};

// One load balancer with nothing shared: builds the ring or Maglev table for
// this instance alone. Fine for tests and one-off use; a cluster with many
// workers should use a LoadBalancerFactory.
std::unique_ptr<LoadBalancer> createLoadBalancer(LbPolicy policy, std::shared_ptr<const HostSet> hosts,
                                                 const LbConfig& config, uint64_t seed);

}  // namespace sluice::upstream
