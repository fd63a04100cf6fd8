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
