#include "upstream/maglev_lb.h"

#include <functional>
#include <queue>
#include <utility>

#include "common/hash.h"
#include "upstream/load_balancer_factory.h"

namespace sluice::upstream {
namespace {

bool isPrime(uint64_t value) {
  if (value < 2) return false;
  if (value % 2 == 0) return value == 2;
  for (uint64_t divisor = 3; divisor <= value / divisor; divisor += 2) {
    if (value % divisor == 0) return false;
  }
  return true;
}

// One host's walk through the table.
struct Walk {
  uint64_t position;  // next slot to try
  uint64_t skip;
  uint64_t placed = 0;  // entries placed so far
};

// When a host's next entry is due; ordered by turn, then by host order.
struct Due {
  uint64_t turn;
  size_t index;
  bool operator>(const Due& other) const { return turn != other.turn ? turn > other.turn : index > other.index; }
};

__extension__ using Uint128 = unsigned __int128;

}  // namespace

uint64_t nextPrime(uint64_t value) {
  if (value <= 2) return 2;
  while (!isPrime(value)) ++value;
  return value;
}

std::shared_ptr<const MaglevTable> MaglevTable::build(HostSetPtr hosts, uint64_t table_size) {
  auto table = std::make_shared<MaglevTable>();
  table->hosts_ = hosts ? std::move(hosts) : std::make_shared<const HostSet>();
  const HostSet& set = *table->hosts_;
  if (set.empty()) return table;

  const uint64_t size = nextPrime(table_size);
  std::vector<Walk> walks;
  walks.reserve(set.size());
  for (const HostPtr& host : set.hosts()) {
    const uint64_t offset = hash64(host->address_string) % size;
    const uint64_t skip = size == 2 ? 1 : hash64(host->address_string, kSkipSeed) % (size - 1) + 1;
    walks.push_back({offset, skip});
  }

  // Turn t of the fill: every host i with floor(t * w_i / w_max) entries due
  // places one, in host order. Host i's k-th entry is due in turn
  // ceil(k * w_max / w_i), so a min-heap of (due turn, host index) yields the
  // same order as looping over all hosts every turn, but costs O(log hosts)
  // per entry even when one heavy host leaves the others idle most turns.
  const uint64_t max_weight = set.maxWeight();
  auto due_turn = [max_weight](uint64_t entry, uint64_t weight) {
    return static_cast<uint64_t>((static_cast<Uint128>(entry) * max_weight + weight - 1) / weight);
  };
  std::vector<Due> initial;
  initial.reserve(set.size());
  for (size_t i = 0; i < set.size(); ++i) initial.push_back({due_turn(1, set.weight(i)), i});
  std::priority_queue<Due, std::vector<Due>, std::greater<>> queue(std::greater<>(), std::move(initial));

  std::vector<const Host*>& slots = table->table_;
  slots.assign(size, nullptr);
  for (uint64_t filled = 0; filled < size; ++filled) {
    const size_t i = queue.top().index;
    queue.pop();
    Walk& walk = walks[i];
    // A walk is a permutation of the slots and a free slot exists, so this
    // ends within `size` steps.
    while (slots[walk.position] != nullptr) {
      walk.position += walk.skip;
      if (walk.position >= size) walk.position -= size;
    }
    slots[walk.position] = &set[i];
    queue.push({due_turn(++walk.placed + 1, set.weight(i)), i});
  }
  return table;
}

MaglevLoadBalancer::MaglevLoadBalancer(std::shared_ptr<const MaglevTable> table, uint64_t seed)
    : table_(table ? std::move(table) : MaglevTable::build(nullptr, 0)), random_(seed) {}

const Host* MaglevLoadBalancer::chooseHost(const LbContext* context) {
  const uint64_t hash = context != nullptr && context->hash ? *context->hash : random_.next();
  return table_->lookup(hash);
}

void MaglevLoadBalancer::updateHosts(const LoadBalancerFactory& next) {
  if (next.table()) table_ = next.table();
}

}  // namespace sluice::upstream
