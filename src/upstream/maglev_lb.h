// MAGLEV: consistent hashing through a Maglev lookup table (Eisenbud et al.,
// NSDI 2016). The table is immutable and shared by all workers; each worker's
// MaglevLoadBalancer only adds a random generator for requests with no hash.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "upstream/load_balancer.h"

namespace sluice::upstream {

// A table of M slots (M prime) that hosts fill in turns, each host walking
// its own permutation of the slots: offset = hash64(address_string) mod M,
// skip = hash64(address_string, kSkipSeed) mod (M - 1) + 1, slot j of the walk
// = (offset + j * skip) mod M, claiming the first slot still free.
//
// Weights: the fill goes in turns; by the end of turn t a host has placed
// floor(t * weight / max weight) entries, so the heaviest host places one
// entry every turn and a host of half that weight every other turn, and slot
// counts end up proportional to weight to within one entry. With equal
// weights this is the paper's plain round-robin fill. Integer arithmetic, so
// every build of the same host set gives the same table.
//
// A lookup is table[hash mod M]. Immutable after build(); any thread may read.
class MaglevTable {
 public:
  static constexpr uint64_t kSkipSeed = 0x6d61676c65760001ULL;

  // `table_size` should be prime (Envoy rejects other values); a value that is
  // not is raised to the next prime so every permutation covers the table.
  // O(M log M) expected (the probes) plus O(M log hosts) (the turns). Main
  // thread, once per HostSet; the result is shared with every worker.
  static std::shared_ptr<const MaglevTable> build(HostSetPtr hosts, uint64_t table_size);

  // nullptr when the host set is empty.
  const Host* lookup(uint64_t hash) const { return table_.empty() ? nullptr : table_[hash % table_.size()]; }

  const std::vector<const Host*>& slots() const { return table_; }
  const HostSetPtr& hosts() const { return hosts_; }

 private:
  HostSetPtr hosts_;  // keeps the hosts the table points to alive
  std::vector<const Host*> table_;
};

// Smallest prime >= value (2 for value <= 2).
uint64_t nextPrime(uint64_t value);

// One per worker. A context with a hash looks it up; no context or no hash
// looks up a random slot, so hosts are still chosen in proportion to weight.
class MaglevLoadBalancer final : public LoadBalancer {
 public:
  MaglevLoadBalancer(std::shared_ptr<const MaglevTable> table, uint64_t seed);

  const Host* chooseHost(const LbContext* context) override;
  void updateHosts(const LoadBalancerFactory& next) override;  // takes next's table

 private:
  std::shared_ptr<const MaglevTable> table_;
  FastRandom random_;
};

}  // namespace sluice::upstream
