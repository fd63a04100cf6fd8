// RING_HASH: consistent hashing on a Karger ring (ketama style). The ring is
// immutable and shared by all workers; each worker's RingHashLoadBalancer only
// adds a random generator for requests that carry no hash.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "upstream/load_balancer.h"

namespace sluice::upstream {

// Sorted points on a 64-bit circle, each owned by a host. A request hash maps
// to the first point at or after it, wrapping past the top to the first point.
//
// Size: hosts get replicas in proportion to their weight. The lightest host
// gets ceil(minimum_size * its weight / total weight) replicas (at least 1),
// and every other host that many times its weight ratio, rounded, so the ring
// holds about minimum_size points or more. Hosts with equal weights therefore
// get exactly equal replica counts, and adding or removing a host only moves
// keys to or from that host unless the lightest host's count changes. If that
// would exceed maximum_size, every host gets floor(maximum_size * weight /
// total) replicas instead, and a host whose share rounds to 0 is left off.
//
// Replica j of a host is the point hash64("<address_string>_<j>"), so a host's
// points depend only on its address, not on its position in the set.
//
// Immutable after build(); any thread may call lookup().
class HashRing {
 public:
  struct Entry {
    uint64_t hash;
    const Host* host;
  };

  // Builds in O(points * log points). Meant for the main thread, once per
  // HostSet; the result is shared with every worker.
  static std::shared_ptr<const HashRing> build(HostSetPtr hosts, uint64_t minimum_size, uint64_t maximum_size);

  // nullptr when the ring is empty. O(log points).
  const Host* lookup(uint64_t hash) const;

  const std::vector<Entry>& entries() const { return entries_; }
  const HostSetPtr& hosts() const { return hosts_; }

 private:
  HostSetPtr hosts_;  // keeps the hosts the entries point to alive
  std::vector<Entry> entries_;
};

// One per worker. A context with a hash looks it up; no context or no hash
// looks up a random point, so hosts are still chosen in proportion to weight.
class RingHashLoadBalancer final : public LoadBalancer {
 public:
  RingHashLoadBalancer(std::shared_ptr<const HashRing> ring, uint64_t seed);

  const Host* chooseHost(const LbContext* context) override;
  void updateHosts(const LoadBalancerFactory& next) override;  // takes next's table

 private:
  std::shared_ptr<const HashRing> ring_;
  FastRandom random_;
};

}  // namespace sluice::upstream
