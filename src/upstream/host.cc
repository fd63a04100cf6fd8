#include "upstream/host.h"

#include <algorithm>
#include <utility>

namespace sluice::upstream {

std::string formatAddress(std::string_view address, uint16_t port) {
  std::string out;
  out.reserve(address.size() + 8);
  const bool ipv6 = address.find(':') != std::string_view::npos;
  if (ipv6) out += '[';
  out += address;
  if (ipv6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

CoarseHealth coarseHealth(uint32_t flags) {
  if ((flags & (kFailedActiveHc | kFailedOutlierCheck | kFailedEdsHealth | kEdsStatusDraining)) != 0) {
    return CoarseHealth::Unhealthy;
  }
  if ((flags & kDegradedEdsHealth) != 0) return CoarseHealth::Degraded;
  return CoarseHealth::Healthy;
}

// Envoy excludes draining hosts too (envoy.reloadable_features.exclude_host_in_eds_status_draining, on by default).
bool excludedFromLoadBalancing(uint32_t flags) {
  return (flags & (kExcludedViaImmediateHcFail | kEdsStatusDraining)) != 0;
}

std::string healthFlagsString(uint32_t flags) {
  if (flags == 0) return "healthy";
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kFailedActiveHc, "/failed_active_hc"},
      {kFailedOutlierCheck, "/failed_outlier_check"},
      {kFailedEdsHealth, "/failed_eds_health"},
      {kDegradedEdsHealth, "/degraded_eds_health"},
      {kExcludedViaImmediateHcFail, "/excluded_via_immediate_hc_fail"},
      {kActiveHcTimeout, "/active_hc_timeout"},
      {kEdsStatusDraining, "/eds_status_draining"},
  };
  std::string out;
  for (const auto& [flag, name] : kNames) {
    if ((flags & flag) != 0) out += name;
  }
  return out;
}

HostPtr makeHost(std::string address, uint16_t port, std::string region, std::string zone, std::string sub_zone) {
  auto host = std::make_shared<Host>();
  host->address_string = formatAddress(address, port);
  host->address = std::move(address);
  host->port = port;
  host->region = std::move(region);
  host->zone = std::move(zone);
  host->sub_zone = std::move(sub_zone);
  return host;
}

HostSet::HostSet(std::vector<HostPtr> hosts, std::vector<uint32_t> weights) {
  hosts_.reserve(hosts.size());
  weights_.reserve(hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i]) continue;
    hosts_.push_back(std::move(hosts[i]));
    weights_.push_back(i < weights.size() ? std::max<uint32_t>(weights[i], 1) : 1);
  }
  if (hosts_.empty()) return;
  min_weight_ = weights_.front();
  max_weight_ = min_weight_;
  for (const uint32_t weight : weights_) {
    total_weight_ += weight;
    min_weight_ = std::min(min_weight_, weight);
    max_weight_ = std::max(max_weight_, weight);
  }
}

}  // namespace sluice::upstream
