#include "upstream/ring_hash_lb.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/hash.h"
#include "upstream/load_balancer_factory.h"

namespace sluice::upstream {
namespace {

__extension__ using Uint128 = unsigned __int128;

// ceil(a * b / c) and floor(a * b / c) without overflow; c > 0.
uint64_t mulDivCeil(uint64_t a, uint64_t b, uint64_t c) {
  const Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>((product + c - 1) / c);
}
uint64_t mulDivFloor(uint64_t a, uint64_t b, uint64_t c) {
  return static_cast<uint64_t>(static_cast<Uint128>(a) * b / c);
}

// Replica count per host, in host order; see HashRing's comment.
std::vector<uint64_t> replicaCounts(const HostSet& hosts, uint64_t minimum_size, uint64_t maximum_size) {
  const uint64_t total = hosts.totalWeight();
  const uint64_t lightest = hosts.minWeight();
  const uint64_t lightest_count = std::max<uint64_t>(mulDivCeil(minimum_size, lightest, total), 1);

  std::vector<uint64_t> counts;
  counts.reserve(hosts.size());
  Uint128 sum = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    // round(lightest_count * weight / lightest)
    const uint64_t count = mulDivFloor(2 * lightest_count, hosts.weight(i), lightest);
    counts.push_back((count + 1) / 2);
    sum += counts.back();
  }
  if (sum <= maximum_size) return counts;
  for (size_t i = 0; i < hosts.size(); ++i) counts[i] = mulDivFloor(maximum_size, hosts.weight(i), total);
  return counts;
}

}  // namespace

std::shared_ptr<const HashRing> HashRing::build(HostSetPtr hosts, uint64_t minimum_size, uint64_t maximum_size) {
  auto ring = std::make_shared<HashRing>();
  ring->hosts_ = hosts ? std::move(hosts) : std::make_shared<const HostSet>();
  const HostSet& set = *ring->hosts_;
  if (set.empty()) return ring;

  const std::vector<uint64_t> counts = replicaCounts(set, minimum_size, maximum_size);
  uint64_t points = 0;
  for (const uint64_t count : counts) points += count;
  ring->entries_.reserve(points);

  std::string key;
  for (size_t i = 0; i < set.size(); ++i) {
    const Host& host = set[i];
    key.assign(host.address_string).push_back('_');
    const size_t prefix = key.size();
    for (uint64_t replica = 0; replica < counts[i]; ++replica) {
      key.resize(prefix);
      key += std::to_string(replica);
      ring->entries_.push_back({hash64(key), &host});
    }
  }
  // Equal hashes (two hosts with one address, or a 64-bit collision) are
  // ordered by address so the ring does not depend on host order.
  std::sort(ring->entries_.begin(), ring->entries_.end(), [](const Entry& a, const Entry& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.host->address_string < b.host->address_string;
  });
  return ring;
}

const Host* HashRing::lookup(uint64_t hash) const {
  if (entries_.empty()) return nullptr;
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), hash,
                                   [](const Entry& entry, uint64_t value) { return entry.hash < value; });
  return it == entries_.end() ? entries_.front().host : it->host;
}

RingHashLoadBalancer::RingHashLoadBalancer(std::shared_ptr<const HashRing> ring, uint64_t seed)
    : ring_(ring ? std::move(ring) : HashRing::build(nullptr, 0, 0)), random_(seed) {}

const Host* RingHashLoadBalancer::chooseHost(const LbContext* context) {
  const uint64_t hash = context != nullptr && context->hash ? *context->hash : random_.next();
  return ring_->lookup(hash);
}

void RingHashLoadBalancer::updateHosts(const LoadBalancerFactory& next) {
  if (next.ring()) ring_ = next.ring();
}

}  // namespace sluice::upstream
