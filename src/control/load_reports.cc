#include "control/load_reports.h"

#include <algorithm>

#include "log/logger.h"

namespace sluice::control {

namespace {

double seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + static_cast<double>(d.nanos()) / 1e9;
}

bool supportsSendAllClusters(const envoy::config::core::v3::Node& node) {
  const auto& features = node.client_features();
  return std::find(features.begin(), features.end(), "envoy.lrs.supports_send_all_clusters") != features.end();
}

}  // namespace

uint64_t LoadReports::openStream() {
  ++counters_.streams;
  const uint64_t id = next_stream_++;
  streams_.emplace(id, std::string());
  return id;
}

std::optional<envoy::service::load_stats::v3::LoadStatsResponse> LoadReports::onRequest(
    uint64_t stream, const envoy::service::load_stats::v3::LoadStatsRequest& request) {
  const auto it = streams_.find(stream);
  if (it == streams_.end()) return std::nullopt;
  std::optional<envoy::service::load_stats::v3::LoadStatsResponse> response;
  if (it->second.empty()) {
    // The first request: who it is, and what to report.
    if (request.node().id().empty()) {
      ++counters_.reports_without_node;
      SLUICE_LOG(config, warn, "LRS stream {}: the first request has no node.id; its reports are not kept", stream);
    }
    it->second = request.node().id().empty() ? std::string("\0", 1) : request.node().id();
    SLUICE_LOG(config, info, "LRS stream {}: node '{}' connected", stream, request.node().id());
    response.emplace();
    if (supportsSendAllClusters(request.node())) {
      response->set_send_all_clusters(true);
    } else {
      for (const auto& name : clusters_of_(request.node())) response->add_clusters(name);
    }
    const auto ms = interval_.count();
    response->mutable_load_reporting_interval()->set_seconds(ms / 1000);
    response->mutable_load_reporting_interval()->set_nanos(static_cast<int32_t>(ms % 1000) * 1'000'000);
  }
  if (request.cluster_stats_size() == 0) return response;
  ++counters_.reports;
  if (it->second.size() == 1 && it->second[0] == '\0') return response;
  auto& node = loads_[it->second];
  size_t entries = 0;
  for (const auto& [cluster, localities] : node) entries += localities.size();
  const auto now = std::chrono::system_clock::now();
  for (const auto& stats : request.cluster_stats()) {
    const double interval = seconds(stats.load_report_interval());
    for (const auto& locality : stats.upstream_locality_stats()) {
      LocalityLoad* slot = nullptr;
      if (const auto cluster = node.find(stats.cluster_name()); cluster != node.end()) {
        const auto existing = cluster->second.find(locality.locality().zone());
        if (existing != cluster->second.end()) slot = &existing->second;
      }
      if (slot == nullptr) {
        if (entries >= kMaxLocalitiesPerNode) {
          ++counters_.localities_dropped;
          continue;
        }
        ++entries;
        slot = &node[stats.cluster_name()][locality.locality().zone()];
      }
      LocalityLoad& load = *slot;
      load.issued = locality.total_issued_requests();
      load.successful = locality.total_successful_requests();
      load.errors = locality.total_error_requests();
      load.in_progress = locality.total_requests_in_progress();
      load.interval_seconds = interval;
      load.reported_at = now;
    }
  }
  return response;
}

void LoadReports::closeStream(uint64_t stream) {
  const auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  const std::string node = it->second;
  streams_.erase(it);
  SLUICE_LOG(config, info, "LRS stream {}: node '{}' disconnected", stream, node);
  const bool still_open =
      std::any_of(streams_.begin(), streams_.end(), [&node](const auto& entry) { return entry.second == node; });
  if (!still_open) loads_.erase(node);
}

double LoadReports::zoneRps(const std::string& zone) const {
  double total = 0;
  for (const auto& [node, clusters] : loads_) {
    for (const auto& [cluster, localities] : clusters) {
      const auto it = localities.find(zone);
      if (it != localities.end()) total += it->second.rps();
    }
  }
  return total;
}

}  // namespace sluice::control
