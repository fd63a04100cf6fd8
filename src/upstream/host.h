// Upstream hosts and the host set of one cluster.
//
// A Host is one endpoint of one cluster, and a stable object: the cluster
// manager (main thread) keeps the same Host for the same cluster, address and
// locality across every config and endpoint update, so its stats and active
// counts and its health flags carry over. A HostSet is one
// version of a cluster's hosts with their weights; the main thread builds it
// and publishes it as std::shared_ptr<const HostSet>, and every worker reads
// it without locks. A Host's identity fields never change after publication,
// only its atomics do; its weight belongs to the HostSet (it can change
// between versions while the Host stays).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::upstream {

// Envoy's per-host stats, shown by admin /clusters. Any worker updates them
// with relaxed atomics; the main thread reads them. They live as long as the
// (stable) Host, so they count from the host's first appearance, as Envoy's do.
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

// Envoy's Host::HealthFlag bits, in Envoy's order (the order /clusters prints
// them in). A host with none is healthy.
enum HealthFlag : uint32_t {
  kFailedActiveHc = 1u << 0,              // /failed_active_hc: active health checking says unhealthy
  kFailedOutlierCheck = 1u << 1,          // /failed_outlier_check: ejected by outlier detection
  kFailedEdsHealth = 1u << 2,             // /failed_eds_health: EDS said UNHEALTHY or TIMEOUT
  kDegradedEdsHealth = 1u << 4,           // /degraded_eds_health: EDS said DEGRADED
  kExcludedViaImmediateHcFail = 1u << 7,  // /excluded_via_immediate_hc_fail: x-envoy-immediate-health-check-fail
  kActiveHcTimeout = 1u << 8,             // /active_hc_timeout: failed, and the last check timed out
  kEdsStatusDraining = 1u << 9,           // /eds_status_draining: EDS said DRAINING (unhealthy and excluded)
};

// How a host counts for load balancing (Envoy's Host::coarseHealth plus its
// excluded set): unhealthy hosts only take traffic in panic, degraded ones
// when too few are healthy, excluded ones count neither way for the panic
// threshold.
enum class CoarseHealth : uint8_t { Healthy, Degraded, Unhealthy };
CoarseHealth coarseHealth(uint32_t flags);
bool excludedFromLoadBalancing(uint32_t flags);
// "healthy", or the flags as Envoy's /clusters prints them ("/failed_active_hc/active_hc_timeout").
std::string healthFlagsString(uint32_t flags);

// What outlier detection learns of a host from proxied traffic (Envoy's
// DetectorHostMonitorImpl counters). Any worker updates them with relaxed
// atomics (upstream/outlier_monitor.h); the main thread's detector reads and
// resets them. Each bucket packs the requests of the current interval in its
// high 32 bits and their successes in the low 32 bits, so one exchange(0)
// takes both consistently. Unused (all 0) in a cluster without outlier_detection.
struct OutlierCounters {
  static constexpr uint64_t kRequest = uint64_t{1} << 32;
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_failure{0};
  std::atomic<uint32_t> consecutive_local_origin_failure{0};
  std::atomic<uint64_t> external{0};  // HTTP results (and local ones without split_external_local_origin_errors)
  std::atomic<uint64_t> local{0};     // local-origin results with split_external_local_origin_errors
};

// One upstream endpoint. Immutable once published, except the two counters,
// which any worker may update with relaxed atomics (least request reads them;
// an exact snapshot across hosts is neither possible nor needed), `stats`, and
// `health_flags`.
struct Host {
  std::string address;         // IP literal or resolved IP, without brackets
  uint16_t port = 0;           //
  std::string address_string;  // "ip:port", IPv6 as "[::1]:80" (see formatAddress)
  std::string region, zone, sub_zone;

  mutable std::atomic<uint32_t> active_requests{0};
  mutable std::atomic<uint32_t> active_connections{0};
  // HealthFlag bits. Read and written on the main thread only (the cluster
  // manager, the health checker, admin): workers never read them; they see
  // health through the host sets the main thread publishes (LoadBalancerFactory).
  // Atomic so that a stray read from elsewhere is not a data race.
  mutable std::atomic<uint32_t> health_flags{0};
  uint32_t healthFlags() const { return health_flags.load(std::memory_order_relaxed); }
  void setHealthFlag(uint32_t flag, bool on) const {
    const uint32_t was = healthFlags();
    health_flags.store(on ? was | flag : was & ~flag, std::memory_order_relaxed);
  }
  std::shared_ptr<HostStats> stats = std::make_shared<HostStats>();  // never null
  mutable OutlierCounters outlier;
};

using HostPtr = std::shared_ptr<const Host>;

// "ip:port", with IPv6 literals (any address containing ':') in brackets.
std::string formatAddress(std::string_view address, uint16_t port);

// Builds a host with address_string filled in.
HostPtr makeHost(std::string address, uint16_t port, std::string region = {}, std::string zone = {},
                 std::string sub_zone = {});

// One version of a cluster's hosts, in the order the config lists them, with
// their weights and the weight facts every load balancer needs. Immutable
// after construction, so any thread may read it.
class HostSet {
 public:
  HostSet() = default;
  // weights[i] is hosts[i]'s load_balancing_weight; missing entries are 1 and
  // a 0 is raised to 1 (Envoy's validation forbids 0; every load balancer
  // divides by it). Null hosts are dropped with their weights.
  explicit HostSet(std::vector<HostPtr> hosts, std::vector<uint32_t> weights = {});

  const std::vector<HostPtr>& hosts() const { return hosts_; }
  size_t size() const { return hosts_.size(); }
  bool empty() const { return hosts_.empty(); }
  const Host& operator[](size_t index) const { return *hosts_[index]; }
  uint32_t weight(size_t index) const { return weights_[index]; }  // >= 1
  // Same hosts (the same objects), in the same order, with the same weights.
  bool sameAs(const HostSet& other) const { return hosts_ == other.hosts_ && weights_ == other.weights_; }

  uint64_t totalWeight() const { return total_weight_; }
  uint32_t minWeight() const { return min_weight_; }  // 0 when empty
  uint32_t maxWeight() const { return max_weight_; }  // 0 when empty
  // True when empty or every host has the same weight: load balancers then use
  // their cheaper unweighted algorithm.
  bool allWeightsEqual() const { return min_weight_ == max_weight_; }

 private:
  std::vector<HostPtr> hosts_;
  std::vector<uint32_t> weights_;
  uint64_t total_weight_ = 0;
  uint32_t min_weight_ = 0;
  uint32_t max_weight_ = 0;
};

using HostSetPtr = std::shared_ptr<const HostSet>;

}  // namespace sluice::upstream
