#include "server/load_report.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace sluice::server {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

struct LocalityLoad {
  uint64_t success = 0;
  uint64_t error = 0;
  uint64_t in_progress = 0;
  uint64_t issued = 0;
};

uint64_t activeOf(const upstream::HostStats& stats) {
  return static_cast<uint64_t>(std::max<int64_t>(0, stats.rq_active.load(kRelaxed)));
}

}  // namespace

void LoadReportBuilder::baseline(const LoadReportCluster& cluster, ClusterBase& base) {
  base.dropped = cluster.dropped_total;
  base.hosts.clear();
  if (!cluster.hosts) return;
  for (const auto& host : cluster.hosts->hosts()) {
    const auto& stats = host->stats;
    const uint64_t success = stats->rq_success.load(kRelaxed);
    const uint64_t error = stats->rq_error.load(kRelaxed);
    base.hosts[stats.get()] = {stats, success, error, success + error + activeOf(*stats), 0};
  }
}

void LoadReportBuilder::startPeriod(const std::vector<LoadReportCluster>& clusters, Clock::time_point now) {
  period_start_ = now;
  std::map<std::string, ClusterBase> next;
  for (const auto& cluster : clusters) {
    auto it = clusters_.find(cluster.name);
    if (it != clusters_.end()) {
      next.emplace(cluster.name, std::move(it->second));
      continue;
    }
    ClusterBase base;
    base.since = now;
    baseline(cluster, base);
    next.emplace(cluster.name, std::move(base));
  }
  clusters_ = std::move(next);
}

void LoadReportBuilder::build(const std::vector<LoadReportCluster>& clusters, Clock::time_point now,
                              envoy::service::load_stats::v3::LoadStatsRequest& out) {
  ++pass_;
  std::map<std::string, ClusterBase> next;
  for (const auto& cluster : clusters) {
    ClusterBase base;
    if (auto it = clusters_.find(cluster.name); it != clusters_.end()) {
      base = std::move(it->second);
    } else {
      base.since = period_start_;  // new since the period started: everything it counted is in this interval
    }
    auto* stats = out.add_cluster_stats();
    stats->set_cluster_name(cluster.name);
    if (!cluster.service_name.empty()) stats->set_cluster_service_name(cluster.service_name);
    stats->set_total_dropped_requests(cluster.dropped_total >= base.dropped ? cluster.dropped_total - base.dropped
                                                                            : cluster.dropped_total);
    base.dropped = cluster.dropped_total;
    *stats->mutable_load_report_interval() = google::protobuf::util::TimeUtil::NanosecondsToDuration(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - base.since).count());
    base.since = now;

    using Key = std::array<std::string_view, 3>;  // region, zone, sub_zone
    std::map<Key, LocalityLoad> localities;
    if (cluster.hosts) {
      for (const auto& host : cluster.hosts->hosts()) {
        const auto& host_stats = host->stats;
        auto [it, fresh] = base.hosts.try_emplace(host_stats.get());
        HostBase& last = it->second;
        if (fresh) last.stats = host_stats;  // a new host: counted from its creation
        const uint64_t success = host_stats->rq_success.load(kRelaxed);
        const uint64_t error = host_stats->rq_error.load(kRelaxed);
        const uint64_t active = activeOf(*host_stats);
        LocalityLoad& load = localities[Key{host->region, host->zone, host->sub_zone}];
        load.success += success - last.success;
        load.error += error - last.error;
        load.in_progress += active;
        // Relaxed reads of three counters can see a request's end in
        // rq_active before its rq_success or rq_error: then `begun` reads
        // one short. The baseline never goes down, so such a read reports
        // nothing and the next one is not counted twice.
        const uint64_t begun = success + error + active;
        if (begun > last.begun) {
          load.issued += begun - last.begun;
          last.begun = begun;
        }
        last.success = success;
        last.error = error;
        last.pass = pass_;
      }
    }
    // Hosts gone from the cluster are forgotten.
    std::erase_if(base.hosts, [this](const auto& entry) { return entry.second.pass != pass_; });
    for (const auto& [key, load] : localities) {
      if (load.success == 0 && load.error == 0 && load.in_progress == 0 && load.issued == 0) continue;
      auto* locality_stats = stats->add_upstream_locality_stats();
      auto* locality = locality_stats->mutable_locality();
      locality->set_region(std::string(key[0]));
      locality->set_zone(std::string(key[1]));
      locality->set_sub_zone(std::string(key[2]));
      locality_stats->set_total_successful_requests(load.success);
      locality_stats->set_total_error_requests(load.error);
      locality_stats->set_total_requests_in_progress(load.in_progress);
      locality_stats->set_total_issued_requests(load.issued);
    }
    next.emplace(cluster.name, std::move(base));
  }
  clusters_ = std::move(next);
}

}  // namespace sluice::server
