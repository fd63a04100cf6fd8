// ROUND_ROBIN: every host in turn; with unequal weights, smooth weighted round
// robin. One instance per worker (the cursor is per-worker state).
#pragma once

#include <cstdint>
#include <vector>

#include "upstream/load_balancer.h"

namespace sluice::upstream {

// Equal weights: plain rotation starting at a seed-chosen host, so workers do
// not all send their first request to host 0.
//
// Unequal weights: smooth weighted round robin (as in nginx). Each pick adds
// every host's weight to its running score, picks the highest score and takes
// the total weight off it. Over every cycle of totalWeight() picks each host is
// chosen exactly `weight` times, and the picks are spread out (5:1:1 gives
// A A B A C A A rather than A A A A A B C). A pick costs O(hosts). Ties go to
// the first host at or after a seed-chosen offset, which spreads workers
// without changing the proportions.
class RoundRobinLoadBalancer final : public LoadBalancer {
 public:
  RoundRobinLoadBalancer(HostSetPtr hosts, uint64_t seed);

  const Host* chooseHost(const LbContext* context) override;
  // The rotation goes on at the host that was next, if it stays (else at the
  // same position); surviving hosts keep their smooth-WRR scores, new ones
  // start at 0, and the scores are shifted to sum to 0 again.
  void updateHosts(const LoadBalancerFactory& next) override;

 private:
  const Host* chooseWeighted();

  HostSetPtr hosts_;
  size_t cursor_ = 0;           // next host (equal weights); tie-break start (weighted)
  std::vector<int64_t> score_;  // smooth WRR running scores; empty when weights are equal
};

}  // namespace sluice::upstream
