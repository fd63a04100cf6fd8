// Upstream hosts and the host set of one cluster.
//
// The main thread builds a HostSet and publishes it as
// std::shared_ptr<const HostSet>; every worker reads it without locks and
// builds its own load balancer from it. A Host is shared by all workers: its
// identity fields never change after publication, only the stats atomics do.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::upstream {

// Envoy's per-host stats, shown by admin /clusters. Any worker updates them
// with relaxed atomics; the main thread reads them. The compiler hands the
// same HostStats to a host that stays across config versions (same cluster
// and address), so they count from the host's first appearance, as Envoy's do.
struct HostStats {
  std::atomic<uint64_t> cx_total{0};         // connections attempted
  std::atomic<uint64_t> cx_connect_fail{0};  // of those, failed or timed out
  std::atomic<int64_t> cx_active{0};         // connected now
  std::atomic<uint64_t> rq_total{0};         // requests sent (a retry counts again)
  std::atomic<int64_t> rq_active{0};         // in flight now
  std::atomic<uint64_t> rq_success{0};       // ended with a response below 500
  std::atomic<uint64_t> rq_error{0};         // ended otherwise: 5xx, reset, connect failure, timeout
  std::atomic<uint64_t> rq_timeout{0};       // the route's timeout fired
};

// One upstream endpoint. Immutable once published, except the two counters,
// which any worker may update with relaxed atomics (least request reads them;
// an exact snapshot across hosts is neither possible nor needed), and `stats`.
struct Host {
  std::string address;         // IP literal or resolved IP, without brackets
  uint16_t port = 0;           //
  std::string address_string;  // "ip:port", IPv6 as "[::1]:80" (see formatAddress)
  uint32_t weight = 1;         // lb_endpoint load_balancing_weight; load balancers assume >= 1
  std::string region, zone, sub_zone;

  mutable std::atomic<uint32_t> active_requests{0};
  mutable std::atomic<uint32_t> active_connections{0};
  std::shared_ptr<HostStats> stats = std::make_shared<HostStats>();  // never null
};

using HostPtr = std::shared_ptr<const Host>;

// The weight load balancers use: a directly built Host may carry 0, which
// would divide by zero, so it counts as 1 (as makeHost stores it).
inline uint32_t lbWeight(const Host& host) { return host.weight == 0 ? 1 : host.weight; }

// "ip:port", with IPv6 literals (any address containing ':') in brackets.
std::string formatAddress(std::string_view address, uint16_t port);

// Builds a host with address_string filled in. A weight of 0 is raised to 1:
// Envoy's config validation forbids 0 and every load balancer divides by it.
// `stats` null: fresh ones.
HostPtr makeHost(std::string address, uint16_t port, uint32_t weight = 1, std::string region = {},
                 std::string zone = {}, std::string sub_zone = {}, std::shared_ptr<HostStats> stats = nullptr);

// The hosts of one cluster, in the order the config lists them, plus the
// weight facts every load balancer needs. Immutable after construction, so
// any thread may read it.
class HostSet {
 public:
  HostSet() = default;
  // Null entries are dropped. Weights are read through lbWeight().
  explicit HostSet(std::vector<HostPtr> hosts);

  const std::vector<HostPtr>& hosts() const { return hosts_; }
  size_t size() const { return hosts_.size(); }
  bool empty() const { return hosts_.empty(); }
  const Host& operator[](size_t index) const { return *hosts_[index]; }

  uint64_t totalWeight() const { return total_weight_; }
  uint32_t minWeight() const { return min_weight_; }  // 0 when empty
  uint32_t maxWeight() const { return max_weight_; }  // 0 when empty
  // True when empty or every host has the same weight: load balancers then use
  // their cheaper unweighted algorithm.
  bool allWeightsEqual() const { return min_weight_ == max_weight_; }

 private:
  std::vector<HostPtr> hosts_;
  uint64_t total_weight_ = 0;
  uint32_t min_weight_ = 0;
  uint32_t max_weight_ = 0;
};

using HostSetPtr = std::shared_ptr<const HostSet>;

}  // namespace sluice::upstream
