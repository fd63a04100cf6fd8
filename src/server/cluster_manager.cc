#include "server/cluster_manager.h"

#include <google/protobuf/util/time_util.h>

#include <set>
#include <utility>

#include "config/proto_hash.h"
#include "config/xds/subscription_factory.h"
#include "proxy/proxy_stats.h"

namespace sluice::server {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;

namespace {

upstream::LbPolicy lbPolicy(Cluster::LbPolicy policy) {
  switch (policy) {
    case Cluster::LEAST_REQUEST:
      return upstream::LbPolicy::LeastRequest;
    case Cluster::RANDOM:
      return upstream::LbPolicy::Random;
    case Cluster::RING_HASH:
      return upstream::LbPolicy::RingHash;
    case Cluster::MAGLEV:
      return upstream::LbPolicy::Maglev;
    default:
      return upstream::LbPolicy::RoundRobin;
  }
}

bool isDns(const Cluster& cluster) {
  return cluster.type() == Cluster::STRICT_DNS || cluster.type() == Cluster::LOGICAL_DNS;
}

// A stable host's key within its cluster: the address and the locality (a
// host that moves to another zone is a new host, as zone-aware routing will
// count it there from zero).
std::string hostKey(std::string_view address_string, std::string_view region, std::string_view zone,
                    std::string_view sub_zone) {
  std::string key;
  key.reserve(address_string.size() + region.size() + zone.size() + sub_zone.size() + 3);
  key.append(address_string).append(1, '\n').append(region).append(1, '\n').append(zone).append(1, '\n');
  return key.append(sub_zone);
}

// Envoy's HostImpl::setEdsHealthFlag: the endpoint's health_status, as
// flags (UNKNOWN and HEALTHY are healthy). Applies to static endpoints too.
void setEdsHealth(const upstream::Host& host, envoy::config::core::v3::HealthStatus status) {
  host.setHealthFlag(upstream::kFailedEdsHealth,
                     status == envoy::config::core::v3::UNHEALTHY || status == envoy::config::core::v3::TIMEOUT);
  host.setHealthFlag(upstream::kDegradedEdsHealth, status == envoy::config::core::v3::DEGRADED);
  host.setHealthFlag(upstream::kEdsStatusDraining, status == envoy::config::core::v3::DRAINING);
}

}  // namespace

std::string edsServiceName(const Cluster& cluster) {
  const auto& service = cluster.eds_cluster_config().service_name();
  return service.empty() ? cluster.name() : service;
}

std::shared_ptr<proxy::ClusterConfig> compileClusterSettings(const Cluster& cluster, proxy::StatsRegistry& stats) {
  auto out = std::make_shared<proxy::ClusterConfig>();
  out->name = cluster.name();
  out->stats = stats.cluster(stats::sanitize(out->name));
  if (cluster.has_connect_timeout()) {
    out->connect_timeout =
        proxy::Millis(google::protobuf::util::TimeUtil::DurationToMilliseconds(cluster.connect_timeout()));
  }
  out->lb_policy = lbPolicy(cluster.lb_policy());
  if (cluster.common_lb_config().has_healthy_panic_threshold()) {
    out->lb_config.healthy_panic_threshold = cluster.common_lb_config().healthy_panic_threshold().value();
  }
  if (cluster.has_per_connection_buffer_limit_bytes()) {
    out->per_connection_buffer_limit_bytes = cluster.per_connection_buffer_limit_bytes().value();
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (cluster.has_max_requests_per_connection()) {
    out->max_requests_per_connection = cluster.max_requests_per_connection().value();
  }
#pragma GCC diagnostic pop
  // circuit_breakers: the DEFAULT priority's thresholds (the gate accepts no other).
  for (const auto& t : cluster.circuit_breakers().thresholds()) {
    auto& b = out->breakers;
    if (t.has_max_connections()) b.max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) b.max_pending_requests = t.max_pending_requests().value();
    if (t.has_max_requests()) b.max_requests = t.max_requests().value();
    if (t.has_max_retries()) b.max_retries = t.max_retries().value();
    if (t.has_retry_budget()) {
      b.retry_budget = true;
      if (t.retry_budget().has_budget_percent()) b.budget_percent = t.retry_budget().budget_percent().value();
      if (t.retry_budget().has_min_retry_concurrency()) {
        b.min_retry_concurrency = t.retry_budget().min_retry_concurrency().value();
      }
    }
    b.track_remaining = t.track_remaining();
  }
  if (out->breakers.track_remaining) {
    auto& s = *out->stats;
    const std::string prefix = s.prefix + "circuit_breakers.default.";
    s.connections.setRemainingGauge(s.store.gauge(prefix + "remaining_cx"));
    s.pending.setRemainingGauge(s.store.gauge(prefix + "remaining_pending"));
    s.requests.setRemainingGauge(s.store.gauge(prefix + "remaining_rq"));
    s.retries.setRemainingGauge(s.store.gauge(prefix + "remaining_retries"));
    // Their values until the first change: the limits less what is open now.
    const auto remaining = [](uint32_t max, uint64_t count) {
      return count >= max ? 0 : static_cast<int64_t>(max - count);
    };
    s.store.gauge(prefix + "remaining_cx").set(remaining(out->breakers.max_connections, s.connections.count()));
    s.store.gauge(prefix + "remaining_pending").set(remaining(out->breakers.max_pending_requests, s.pending.count()));
    s.store.gauge(prefix + "remaining_rq").set(remaining(out->breakers.max_requests, s.requests.count()));
    s.store.gauge(prefix + "remaining_retries").set(remaining(out->breakers.max_retries, s.retries.count()));
  }
  return out;
}

ClusterManager::ClusterManager(proxy::StatsRegistry& stats, Resolver resolve)
    : stats_(stats),
      resolve_(std::move(resolve)),
      cluster_added_(stats.store().counter("cluster_manager.cluster_added")),
      cluster_modified_(stats.store().counter("cluster_manager.cluster_modified")),
      cluster_removed_(stats.store().counter("cluster_manager.cluster_removed")),
      active_clusters_(stats.store().gauge("cluster_manager.active_clusters")),
      warming_clusters_(stats.store().gauge("cluster_manager.warming_clusters")) {}

ClusterManager::~ClusterManager() {
  for (auto& [name, cluster] : clusters_) {
    if (cluster.checker) cluster.checker->stop();
    if (cluster.detector) cluster.detector->stop();
  }
}

void ClusterManager::enableHealthChecking(asio::any_io_executor executor,
                                          std::function<void(proxy::ClusterDelta)> publish) {
  health_executor_ = std::move(executor);
  publish_ = std::move(publish);
}

void ClusterManager::updateChecker(const std::string& name, Entry& cluster) {
  const bool wanted = health_executor_ && cluster.proto.health_checks_size() > 0;
  const uint64_t hash = wanted ? config::protoHash(cluster.proto.health_checks(0)) : 0;
  if (cluster.checker && wanted && cluster.checker_hash == hash) return;
  const bool had = cluster.checker != nullptr;
  if (cluster.checker) cluster.checker->stop();
  cluster.checker.reset();
  cluster.checker_hash = hash;
  const auto hosts = cluster.hosts ? cluster.hosts->hosts() : nullptr;
  constexpr uint32_t kActiveFlags =
      upstream::kFailedActiveHc | upstream::kActiveHcTimeout | upstream::kExcludedViaImmediateHcFail;
  if (!wanted) {
    // No more active checks: nothing of theirs holds a host back.
    if (had && hosts) {
      for (const auto& host : hosts->hosts()) host->setHealthFlag(kActiveFlags, false);
    }
    return;
  }
  // A host not checked yet is failed until its first check passes (Envoy);
  // a checker replaced by another (new settings) hands its hosts over as they are.
  if (!had && hosts) {
    for (const auto& host : hosts->hosts()) host->setHealthFlag(upstream::kFailedActiveHc, true);
  }
  auto stats = std::make_shared<upstream::health::HealthCheckStats>(stats_.store(), stats::sanitize(name));
  const auto cluster_stats = cluster.config->stats;
  upstream::health::ClusterHealthChecker::Callbacks callbacks{
      [this, name] { onHealthChanged(name); }, [cluster_stats] { return cluster_stats->upstream_cx_total.value() > 0; },
      [this, name](const upstream::HostPtr& host) {
        const auto it = clusters_.find(name);
        if (it != clusters_.end() && it->second.detector) it->second.detector->onActiveCheckPassed(host);
      }};
  cluster.checker = std::make_shared<upstream::health::ClusterHealthChecker>(
      *health_executor_, name, upstream::health::compileHealthCheck(cluster.proto.health_checks(0), name),
      std::move(stats), std::move(callbacks));
}

void ClusterManager::updateDetector(const std::string& name, Entry& cluster) {
  const bool wanted = health_executor_ && cluster.proto.has_outlier_detection();
  const uint64_t hash = wanted ? config::protoHash(cluster.proto.outlier_detection()) : 0;
  if (cluster.detector && wanted && cluster.detector_hash == hash) return;
  // A replaced detector returns its ejected hosts: the new one starts afresh.
  if (cluster.detector) cluster.detector->stop();
  cluster.detector.reset();
  cluster.detector_hash = hash;
  if (!wanted) return;
  auto stats = std::make_shared<upstream::outlier::OutlierDetectionStats>(stats_.store(), stats::sanitize(name));
  upstream::outlier::OutlierDetector::Callbacks callbacks{[this, name] { onHealthChanged(name); },
                                                          [this] { return runtime_ ? runtime_() : nullptr; },
                                                          [state = random_state_] {
                                                            // splitmix64: the enforcing_* percentages need no more than
                                                            // this.
                                                            uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
                                                            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
                                                            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
                                                            return z ^ (z >> 31);
                                                          }};
  cluster.detector = std::make_shared<upstream::outlier::OutlierDetector>(
      upstream::outlier::compileOutlierDetection(cluster.proto.outlier_detection()), std::move(stats),
      std::move(callbacks));
  cluster.detector->start(*health_executor_);
}

void ClusterManager::onHealthChanged(const std::string& name) {
  const auto it = clusters_.find(name);
  if (it == clusters_.end()) return;
  Entry& cluster = it->second;
  if (!refreshHealth(cluster)) {
    countMembership(cluster, false);
    return;
  }
  countMembership(cluster, false);
  if (cluster.warming || !publish_) return;
  proxy::ClusterDelta delta;
  delta.updated.push_back({cluster.config, cluster.hosts});
  publish_(std::move(delta));
}

bool ClusterManager::refreshHealth(Entry& cluster) {
  auto next = std::make_shared<const upstream::LoadBalancerFactory>(cluster.config->lb_policy, cluster.hosts->hosts(),
                                                                    cluster.config->lb_config);
  if (next->sameRouting(*cluster.hosts)) return false;
  cluster.hosts = std::move(next);
  return true;
}

upstream::HostSetPtr ClusterManager::resolveHosts(const Entry& cluster) const {
  std::unordered_map<std::string, upstream::HostPtr> known;
  if (cluster.hosts) {
    for (const auto& host : cluster.hosts->hosts()->hosts()) {
      known.emplace(hostKey(host->address_string, host->region, host->zone, host->sub_zone), host);
    }
  }
  static const ClusterLoadAssignment kNone;
  const ClusterLoadAssignment* assignment = &cluster.proto.load_assignment();
  if (cluster.proto.type() == envoy::config::cluster::v3::Cluster::EDS) {
    const auto it = assignments_.find(edsServiceName(cluster.proto));
    assignment = it == assignments_.end() ? &kNone : it->second.endpoints.get();
  }
  const bool dns = isDns(cluster.proto);
  const bool logical = cluster.proto.type() == envoy::config::cluster::v3::Cluster::LOGICAL_DNS;
  std::vector<upstream::HostPtr> hosts;
  std::vector<uint32_t> weights;
  for (const auto& locality : assignment->endpoints()) {
    const auto& where = locality.locality();
    for (const auto& lb_endpoint : locality.lb_endpoints()) {
      const auto& sa = lb_endpoint.endpoint().address().socket_address();
      const uint32_t weight = lb_endpoint.has_load_balancing_weight() ? lb_endpoint.load_balancing_weight().value() : 1;
      const auto port = static_cast<uint16_t>(sa.port_value());
      std::vector<std::string> addresses{sa.address()};
      if (dns) {
        addresses = resolve_(sa.address(), logical ? DnsAnswer::kLastNonEmpty : DnsAnswer::kLatest);
        if (logical && addresses.size() > 1) addresses.resize(1);
      }
      for (auto& address : addresses) {
        auto [it, fresh] = known.try_emplace(
            hostKey(upstream::formatAddress(address, port), where.region(), where.zone(), where.sub_zone()));
        if (fresh) {
          it->second = upstream::makeHost(std::move(address), port, where.region(), where.zone(), where.sub_zone());
          if (cluster.checker) it->second->setHealthFlag(upstream::kFailedActiveHc, true);
        }
        setEdsHealth(*it->second, lb_endpoint.health_status());
        hosts.push_back(it->second);
        weights.push_back(weight);
      }
    }
  }
  return std::make_shared<const upstream::HostSet>(std::move(hosts), std::move(weights));
}

bool ClusterManager::refreshHosts(Entry& cluster, bool force) {
  auto hosts = resolveHosts(cluster);
  // The same hosts: only their health (EDS health_status) may have changed.
  if (!force && cluster.hosts && hosts->sameAs(*cluster.hosts->hosts())) return refreshHealth(cluster);
  cluster.hosts = std::make_shared<const upstream::LoadBalancerFactory>(cluster.config->lb_policy, hosts,
                                                                        cluster.config->lb_config);
  if (cluster.checker) cluster.checker->setHosts(*hosts);
  if (cluster.detector) cluster.detector->setHosts(*hosts);
  return true;
}

void ClusterManager::countMembership(const Entry& cluster, bool changed) {
  const auto& stats = *cluster.config->stats;
  const auto& hosts = *cluster.hosts->hosts();
  int64_t healthy = 0, degraded = 0, excluded = 0;
  for (const auto& host : hosts.hosts()) {
    const uint32_t flags = host->healthFlags();
    if (upstream::excludedFromLoadBalancing(flags)) {
      ++excluded;
    } else if (const auto health = upstream::coarseHealth(flags); health == upstream::CoarseHealth::Healthy) {
      ++healthy;
    } else if (health == upstream::CoarseHealth::Degraded) {
      ++degraded;
    }
  }
  stats.membership_total.set(static_cast<int64_t>(hosts.size()));
  stats.membership_healthy.set(healthy);
  stats.membership_degraded.set(degraded);
  stats.membership_excluded.set(excluded);
  if (changed) stats.membership_change.inc();
}

proxy::ClusterDelta ClusterManager::setClusters(const std::vector<const Cluster*>& clusters) {
  proxy::ClusterDelta delta;
  std::set<std::string> seen;
  for (const Cluster* proto : clusters) {
    seen.insert(proto->name());
    const uint64_t hash = config::protoHash(*proto);
    auto [it, added] = clusters_.try_emplace(proto->name());
    Entry& cluster = it->second;
    if (!added && cluster.hash == hash) continue;
    auto config = compileClusterSettings(*proto, stats_);
    const bool rebalance = added || !proxy::sameLoadBalancing(*cluster.config, *config);
    const upstream::HostSetPtr before = added ? nullptr : cluster.hosts->hosts();
    cluster.hash = hash;
    cluster.proto = *proto;
    cluster.config = config;
    updateChecker(proto->name(), cluster);
    if (cluster.checker) config->health_monitor = cluster.checker->monitor();
    updateDetector(proto->name(), cluster);
    if (cluster.detector) {
      config->outlier = std::make_shared<const upstream::OutlierMonitor>(cluster.detector->settings().thresholds,
                                                                         cluster.detector->reporter());
    }
    // Same hosts with a new checker (or none): refreshHealth sees their new flags.
    refreshHosts(cluster, rebalance);
    if (cluster.checker) cluster.checker->setHosts(*cluster.hosts->hosts());
    if (cluster.detector) cluster.detector->setHosts(*cluster.hosts->hosts());
    const auto& now = *cluster.hosts->hosts();
    // A new cluster's first hosts count as a membership change, as in Envoy.
    countMembership(cluster, before ? !now.sameAs(*before) : !now.empty());
    (added ? cluster_added_ : cluster_modified_).inc();
    const bool eds = cluster.proto.type() == Cluster::EDS;
    if (eds && !cluster.eds)
      cluster.eds = std::make_shared<EdsClusterStats>(stats_.store(), "cluster." + proto->name());
    if (!eds) cluster.eds.reset();
    setWarming(proto->name(), cluster, eds && !assignments_.count(edsServiceName(cluster.proto)));
    if (!cluster.warming) delta.updated.push_back({cluster.config, cluster.hosts});
  }
  for (auto it = clusters_.begin(); it != clusters_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    delta.removed.push_back(it->first);
    if (it->second.detector) it->second.detector->stop();
    warming_.erase(it->first);
    cluster_removed_.inc();
    it = clusters_.erase(it);
  }
  eds_users_.clear();
  for (const auto& [name, cluster] : clusters_) {
    if (cluster.proto.type() == envoy::config::cluster::v3::Cluster::EDS) {
      eds_users_[edsServiceName(cluster.proto)].push_back(name);
    }
  }
  // An assignment goes with its last cluster, as in Envoy (a file's stays: see setAssignment).
  std::erase_if(assignments_, [this](const auto& a) { return !a.second.from_file && !eds_users_.count(a.first); });
  countStates();
  return delta;
}

void ClusterManager::setWarming(const std::string& name, Entry& cluster, bool warming) {
  cluster.warming = warming;
  if (warming) {
    warming_.insert(name);
  } else {
    warming_.erase(name);
  }
}

void ClusterManager::countStates() {
  const auto warming = static_cast<int64_t>(warming_.size());
  warming_clusters_.set(warming);
  active_clusters_.set(static_cast<int64_t>(clusters_.size()) - warming);
}

template <typename Count>
void ClusterManager::countEds(const std::string& source_key, Count count) {
  for (auto& [name, cluster] : clusters_) {
    if (cluster.eds && config::xds::sourceKey(cluster.proto.eds_cluster_config().eds_config()) == source_key) {
      count(*cluster.eds);
    }
  }
}

void ClusterManager::countEdsRejected(const std::string& source_key) {
  countEds(source_key, [](SubscriptionStats& eds) {
    eds.attempt.inc();
    eds.rejected.inc();
  });
}

void ClusterManager::countEdsFailure(const std::string& source_key) {
  countEds(source_key, [](SubscriptionStats& eds) {
    eds.attempt.inc();
    eds.failure.inc();
  });
}

proxy::ClusterDelta ClusterManager::endWarming(const std::string& name) {
  proxy::ClusterDelta delta;
  const auto it = clusters_.find(name);
  if (it == clusters_.end() || !it->second.warming) return delta;
  setWarming(name, it->second, false);
  if (it->second.eds) it->second.eds->init_fetch_timeout.inc();
  delta.updated.push_back({it->second.config, it->second.hosts});
  countStates();
  return delta;
}

proxy::ClusterDelta ClusterManager::setAssignment(std::shared_ptr<const ClusterLoadAssignment> assignment,
                                                  const std::string& version_info, bool from_file) {
  proxy::ClusterDelta delta;
  const std::string& service = assignment->cluster_name();
  auto& record = assignments_[service];
  // The same object as last time: unchanged, without hashing it again.
  const bool same = record.endpoints == assignment;
  if (!same) {
    const uint64_t hash = config::protoHash(*assignment);
    if (!record.endpoints || record.hash != hash) {
      record = {assignment, hash, version_info, std::chrono::system_clock::now(), from_file};
    }
  }
  const auto users = eds_users_.find(service);
  if (users == eds_users_.end()) return delta;
  for (const auto& name : users->second) {
    Entry& cluster = clusters_.at(name);
    const upstream::HostSetPtr before = cluster.hosts->hosts();
    // Unchanged bytes give the hosts (and flags) computed from them last time.
    const bool known = same && !cluster.warming;
    const bool changed = !known && refreshHosts(cluster, false);
    if (cluster.eds) {
      cluster.eds->attempt.inc();
      cluster.eds->applied(version_info);
      if (!changed) cluster.eds->no_rebuild.inc();
    }
    // Counted even when routing stays: a flag may have changed (UNHEALTHY to DRAINING).
    if (!known) countMembership(cluster, cluster.hosts->hosts() != before);
    if (!changed && !cluster.warming) continue;
    if (cluster.warming) setWarming(name, cluster, false);
    delta.updated.push_back({cluster.config, cluster.hosts});
  }
  countStates();
  return delta;
}

proxy::ClusterDelta ClusterManager::refreshDns() {
  proxy::ClusterDelta delta;
  for (auto& [name, cluster] : clusters_) {
    const upstream::HostSetPtr before = cluster.hosts->hosts();
    if (!isDns(cluster.proto) || !refreshHosts(cluster, false)) continue;
    countMembership(cluster, cluster.hosts->hosts() != before);
    delta.updated.push_back({cluster.config, cluster.hosts});
  }
  return delta;
}

proxy::ClusterDelta ClusterManager::snapshot() const {
  proxy::ClusterDelta delta;
  for (const auto& [name, cluster] : clusters_) {
    if (!cluster.warming) delta.updated.push_back({cluster.config, cluster.hosts});
  }
  return delta;
}

}  // namespace sluice::server
