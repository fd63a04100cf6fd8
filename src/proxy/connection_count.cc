#include "proxy/connection_count.h"

#include <mutex>
#include <unordered_map>

namespace sluice::proxy {

ConnectionCount& globalDownstreamConnections() {
  static ConnectionCount count;
  return count;
}

std::shared_ptr<ConnectionCount> listenerConnections(const std::string& name) {
  // Weak entries: a count lives as long as some config has the listener.
  static std::mutex mutex;
  static std::unordered_map<std::string, std::weak_ptr<ConnectionCount>> counts;
  std::lock_guard lock(mutex);
  auto& slot = counts[name];
  auto count = slot.lock();
  if (!count) {
    count = std::make_shared<ConnectionCount>();
    slot = count;
  }
  return count;
}

}  // namespace sluice::proxy
