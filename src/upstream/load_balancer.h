// The load balancer seam: given a request's context, pick one host of a cluster.
//
// Threads: each worker owns its own LoadBalancer per cluster (built from the
// shared, immutable HostSet by a LoadBalancerFactory), so chooseHost() takes
// no lock and must only be called from that worker. Hosts are shared; their
// stats atomics are the only state written across threads.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

#include "upstream/host.h"

namespace sluice::upstream {

// What the router knows about a request that a load balancer may use.
struct LbContext {
  std::optional<uint64_t> hash;  // from the route's hash_policy; unset when no policy produced one
};

class LoadBalancerFactory;

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;

  // The host for the next request, or nullptr when the host set is empty.
  // `context` may be null (Envoy tolerates a missing context); hash-based load
  // balancers then pick a random host. The pointer stays valid as long as the
  // HostSet the load balancer was built from. Owning worker thread only.
  virtual const Host* chooseHost(const LbContext* context) = 0;

  // The cluster's hosts or their health changed: go on with `next`'s routed
  // hosts, keeping what the policy tracks for the hosts that stay (the
  // round-robin position and smooth-WRR scores, least-request deadlines) and
  // the random stream; the consistent-hash policies take `next`'s table,
  // built once on the main thread. `next` has this load balancer's policy.
  // Costs O(hosts of this cluster). Owning worker thread only.
  virtual void updateHosts(const LoadBalancerFactory& next) = 0;
};

enum class LbPolicy { RoundRobin, LeastRequest, Random, RingHash, Maglev };

std::string_view lbPolicyName(LbPolicy policy);  // "ROUND_ROBIN", ... as in Envoy's Cluster.LbPolicy

// Per-cluster tuning. Defaults are Envoy's documented defaults.
struct LbConfig {
  uint32_t least_request_choice_count = 2;                 // least_request_lb_config.choice_count
  double least_request_active_request_bias = 1.0;          // least_request_lb_config.active_request_bias
  uint64_t ring_hash_minimum_ring_size = 1024;             // ring_hash_lb_config.minimum_ring_size
  uint64_t ring_hash_maximum_ring_size = 8 * 1024 * 1024;  // ring_hash_lb_config.maximum_ring_size
  uint64_t maglev_table_size = 65537;                      // maglev_lb_config.table_size, must be prime
  double healthy_panic_threshold = 50.0;                   // common_lb_config.healthy_panic_threshold, percent

  bool operator==(const LbConfig&) const = default;
};

// xoshiro256** (Blackman & Vigna), seeded through splitmix64. Fast, small and
// lock-free; one per load balancer instance, hence per worker. Not for security.
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) {
    for (uint64_t& word : state_) word = splitMix64(seed);
  }

  uint64_t next() {
    const uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound) for bound >= 1, by the multiply-high reduction. Its
  // bias is below bound / 2^64, far under anything a load balancer can notice.
  uint64_t below(uint64_t bound) {
    __extension__ using Uint128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<Uint128>(next()) * bound) >> 64);
  }

  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t splitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace sluice::upstream
