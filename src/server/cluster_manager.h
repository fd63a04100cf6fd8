// The cluster manager (Envoy's ClusterManagerImpl): on the main thread, it
// owns every cluster's compiled settings and its stable hosts, and tells the
// workers only what changed.
//
// - A cluster whose proto is unchanged (config::protoHash) keeps its compiled
//   ClusterConfig: workers keep its load balancer and pool as they are.
// - Hosts are stable objects keyed by cluster, address and locality: a host
//   that stays across any update is the same Host, with its stats, active
//   request and connection counts and health flags (EDS health_status and
//   active health checking).
// - Active health checks (clusters[].health_checks) run here, on the main
//   thread, one ClusterHealthChecker per cluster; a host's health change
//   rebuilds that cluster's LoadBalancerFactory and publishes it like any
//   endpoint update (see enableHealthChecking).
// - An endpoint update (EDS, DNS) rebuilds one cluster's host set and sends
//   that cluster alone; its cost does not grow with the number of clusters.
//
// Lives in server/ for now; docs/ARCHITECTURE.md says why and where it goes.
// Main thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "proxy/proxy_config.h"
#include "server/dns_cache.h"
#include "server/subscription_stats.h"
#include "stats/stats.h"
#include "upstream/health/health_checker.h"
#include "upstream/outlier/outlier_detector.h"

namespace sluice::server {

// Host name -> IP literals, for DNS clusters (see DnsCache).
using Resolver = std::function<std::vector<std::string>(const std::string& name, DnsAnswer answer)>;

// The name EDS delivers a cluster's endpoints under.
std::string edsServiceName(const envoy::config::cluster::v3::Cluster& cluster);

// A validated cluster's settings (everything but its hosts). A validated
// cluster always compiles.
// Its stats come from `stats`.
std::shared_ptr<proxy::ClusterConfig> compileClusterSettings(const envoy::config::cluster::v3::Cluster& cluster,
                                                             proxy::StatsRegistry& stats);

// An EDS cluster's subscription stats (cluster.<name>.update_*), as Envoy
// scopes them, with update_no_rebuild: an update that left its hosts as they were.
struct EdsClusterStats : SubscriptionStats {
  EdsClusterStats(stats::Store& store, const std::string& prefix)
      : SubscriptionStats(store, prefix), no_rebuild(store.counter(prefix + ".update_no_rebuild")) {}
  stats::Counter& no_rebuild;
};

class ClusterManager {
 public:
  // Its stats (cluster_manager.*, cluster.<name>.*) come from `stats`.
  ClusterManager(proxy::StatsRegistry& stats, Resolver resolve);
  ~ClusterManager();

  // Runs the clusters' active health checks on `executor` (the main thread's)
  // from now on; a health change goes to the workers through `publish`.
  // Without it (validation, tests) no check runs and health_checks only
  // compile. Call before the first setClusters.
  void enableHealthChecking(asio::any_io_executor executor, std::function<void(proxy::ClusterDelta)> publish);
  // Outlier detection reads the outlier_detection.* runtime keys from here.
  void setRuntime(std::function<runtime::SnapshotPtr()> runtime) { runtime_ = std::move(runtime); }

  // The full set of clusters (static and CDS), validated. New and changed
  // ones are compiled, unchanged ones kept, missing ones removed. Counts
  // cluster_manager.cluster_added/_modified/_removed and active_clusters.
  // Warming: an EDS cluster whose assignment has not arrived is not in the
  // delta (a new one is not served: 503 NC; a changed one keeps serving its
  // previous version) until setAssignment brings it or endWarming (its
  // initial_fetch_timeout) gives up waiting; see warming().
  proxy::ClusterDelta setClusters(const std::vector<const envoy::config::cluster::v3::Cluster*>& clusters);

  // An EDS ClusterLoadAssignment (validated) for its cluster_name, from an
  // update of `version_info`: kept for clusters that come later, and applied
  // to the EDS clusters it feeds now. The delta holds those whose hosts
  // changed. An unchanged assignment keeps the version it came with.
  // One over gRPC goes when no cluster uses it any more (at the next
  // setClusters; asked for again if a cluster needs it); one from a file
  // (`from_file`) stays, as the file is not read again for a new cluster.
  // The very object set last (a SotW resource that came again byte for
  // byte, config/xds/grpc_subscription.h) is known unchanged at once.
  proxy::ClusterDelta setAssignment(
      std::shared_ptr<const envoy::config::endpoint::v3::ClusterLoadAssignment> assignment,
      const std::string& version_info = "", bool from_file = true);
  proxy::ClusterDelta setAssignment(envoy::config::endpoint::v3::ClusterLoadAssignment assignment,
                                    const std::string& version_info = "", bool from_file = true) {
    return setAssignment(
        std::make_shared<const envoy::config::endpoint::v3::ClusterLoadAssignment>(std::move(assignment)), version_info,
        from_file);
  }

  // An EDS update from the source `source_key` (config::xds::sourceKey of an
  // eds_config) was rejected, or the source could not be reached: counted by
  // every EDS cluster it feeds.
  void countEdsRejected(const std::string& source_key);
  void countEdsFailure(const std::string& source_key);

  // The DNS answers changed: DNS clusters whose hosts changed.
  proxy::ClusterDelta refreshDns();

  // Clusters waiting for their EDS assignment, by name.
  const std::set<std::string>& warming() const { return warming_; }
  // `name`'s initial fetch timed out: it is served with what it has (no hosts).
  proxy::ClusterDelta endWarming(const std::string& name);

  // What a worker needs to start from nothing: every cluster.
  proxy::ClusterDelta snapshot() const;

  struct Entry {
    uint64_t hash = 0;                                           // of `proto`
    envoy::config::cluster::v3::Cluster proto;                   // as last set
    std::shared_ptr<const proxy::ClusterConfig> config;          // kept while `hash` is
    std::shared_ptr<const upstream::LoadBalancerFactory> hosts;  // the current hosts, prepared
    bool warming = false;                  // waiting for its EDS assignment: not sent to the workers yet
    std::shared_ptr<EdsClusterStats> eds;  // an EDS cluster's; null for the other types
    // Its active health checker (health_checks[0]), kept while that proto is unchanged.
    std::shared_ptr<upstream::health::ClusterHealthChecker> checker;
    uint64_t checker_hash = 0;
    // Its outlier detector (outlier_detection), kept while that proto is unchanged.
    std::shared_ptr<upstream::outlier::OutlierDetector> detector;
    uint64_t detector_hash = 0;
  };
  // By name, sorted (admin /clusters).
  const std::map<std::string, Entry>& clusters() const { return clusters_; }
  struct Assignment {
    std::shared_ptr<const envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;
    uint64_t hash = 0;
    std::string version_info;  // of the update that last changed it
    std::chrono::system_clock::time_point last_updated;
    bool from_file = true;  // kept while no cluster uses it
  };
  // The EDS assignments received, by cluster_name (admin /config_dump).
  const std::unordered_map<std::string, Assignment>& assignments() const { return assignments_; }

 private:
  // The cluster's endpoints now: its load_assignment, its EDS assignment or
  // its DNS answers, as stable hosts (reusing `current`'s).
  upstream::HostSetPtr resolveHosts(const Entry& cluster) const;
  // Sets `cluster.hosts` if its host set or its hosts' health changed (or
  // `force`); true if it did. New hosts join its health checker.
  bool refreshHosts(Entry& cluster, bool force);
  // Rebuilds `cluster.hosts` over the same hosts if their health changed what
  // the load balancers route to; true if it did.
  bool refreshHealth(Entry& cluster);
  // Starts, keeps, replaces or stops `cluster`'s health checker for its proto.
  void updateChecker(const std::string& name, Entry& cluster);
  // Likewise its outlier detector; a new one starts with no host ejected.
  void updateDetector(const std::string& name, Entry& cluster);
  // A checker saw a host's health change.
  void onHealthChanged(const std::string& name);
  void countMembership(const Entry& cluster, bool changed);
  void setWarming(const std::string& name, Entry& cluster, bool warming);
  void countStates();
  template <typename Count>
  void countEds(const std::string& source_key, Count count);

  proxy::StatsRegistry& stats_;
  Resolver resolve_;
  std::optional<asio::any_io_executor> health_executor_;  // set: health checks run
  std::function<void(proxy::ClusterDelta)> publish_;
  std::function<runtime::SnapshotPtr()> runtime_;
  std::shared_ptr<uint64_t> random_state_ = std::make_shared<uint64_t>(0x9e3779b97f4a7c15ull);
  std::map<std::string, Entry> clusters_;
  std::set<std::string> warming_;  // the names of the clusters with `warming` set
  // EDS assignments by cluster_name, and the clusters each feeds.
  std::unordered_map<std::string, Assignment> assignments_;
  std::unordered_map<std::string, std::vector<std::string>> eds_users_;
  stats::Counter& cluster_added_;
  stats::Counter& cluster_modified_;
  stats::Counter& cluster_removed_;
  stats::Gauge& active_clusters_;
  stats::Gauge& warming_clusters_;
};

}  // namespace sluice::server
