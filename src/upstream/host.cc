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

HostPtr makeHost(std::string address, uint16_t port, uint32_t weight, std::string region, std::string zone,
                 std::string sub_zone, std::shared_ptr<HostStats> stats) {
  auto host = std::make_shared<Host>();
  if (stats) host->stats = std::move(stats);
  host->address_string = formatAddress(address, port);
  host->address = std::move(address);
  host->port = port;
  host->weight = std::max<uint32_t>(weight, 1);
  host->region = std::move(region);
  host->zone = std::move(zone);
  host->sub_zone = std::move(sub_zone);
  return host;
}

HostSet::HostSet(std::vector<HostPtr> hosts) : hosts_(std::move(hosts)) {
  std::erase(hosts_, nullptr);
  if (hosts_.empty()) return;
  min_weight_ = lbWeight(*hosts_.front());
  max_weight_ = min_weight_;
  for (const HostPtr& host : hosts_) {
    const uint32_t weight = lbWeight(*host);
    total_weight_ += weight;
    min_weight_ = std::min(min_weight_, weight);
    max_weight_ = std::max(max_weight_, weight);
  }
}

}  // namespace sluice::upstream
