// LEAST_REQUEST: prefer hosts with fewer active requests. One instance per
// worker; reads every host's shared active_requests counter (relaxed).
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "upstream/load_balancer.h"

namespace sluice::upstream {

// Equal weights: power of N choices. Draw `choice_count` distinct hosts at
// random and take the one with the fewest active requests (a tie goes to the
// first drawn, which is itself uniform among the tied). Drawing distinct hosts
// makes Envoy's documented property hold exactly: the busiest host gets no new
// request until another host is at least as busy (Envoy's code draws with
// replacement, so it can still pick the busiest by drawing it twice). The
// draw is a partial Fisher-Yates shuffle of a per-instance index array, so a
// pick costs O(choice_count) whatever the count; a count >= hosts scans all.
//
// Unequal weights: Envoy's documented weighted variant with an earliest
// deadline first (EDF) schedule. A host's effective weight is
//   weight / (active_requests + 1) ^ active_request_bias
// and each host holds one deadline in a min-heap. A pick pops the earliest
// deadline and re-inserts that host at `now + 1 / effective weight`, with its
// effective weight read at that moment. O(log hosts) per pick. As in Envoy,
// a host's load is read only when it is picked, so its one queued deadline
// can be stale: a host that turns busy keeps one turn it would no longer get,
// and one that turns idle first waits out the deadline it got while busy.
// Deadlines start at a random
// phase within each host's first period so that workers do not move in step.
// Bias 0 makes it plain weighted round robin by deadline.
class LeastRequestLoadBalancer final : public LoadBalancer {
 public:
  LeastRequestLoadBalancer(HostSetPtr hosts, const LbConfig& config, uint64_t seed);

  const Host* chooseHost(const LbContext* context) override;
  // Active request counts live on the (stable) hosts, so they carry over by
  // themselves. Weighted: a surviving host keeps its queued deadline; a new
  // one gets a random phase within its first period from now.
  void updateHosts(const LoadBalancerFactory& next) override;

 private:
  struct Deadline {
    double time;
    uint64_t order;  // insertion order: equal deadlines leave first-in first-out
    size_t index;
    bool operator>(const Deadline& other) const { return time != other.time ? time > other.time : order > other.order; }
  };

  const Host* chooseUnweighted();
  const Host* chooseWeighted();
  double effectiveWeight(size_t index) const;
  // Sets order_ or schedule_ for hosts_; `kept` holds deadlines of hosts that stay.
  void schedule(const std::vector<std::pair<const Host*, double>>& kept);

  HostSetPtr hosts_;
  uint32_t choice_count_;
  double active_request_bias_;
  FastRandom random_;
  std::vector<uint32_t> order_;  // host indices in the order the last draw left them; equal weights only
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> schedule_;  // weighted only
  double now_ = 0;
  uint64_t next_order_ = 0;
};

}  // namespace sluice::upstream
