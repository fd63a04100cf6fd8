#include "network/tls/tls_stats.h"

#include <functional>

namespace sluice::network::tls {

TlsStats::TlsStats(stats::Store& store, const std::string& listener_prefix)
    : handshake(store.counter(listener_prefix + "ssl.handshake")),
      connection_error(store.counter(listener_prefix + "ssl.connection_error")),
      no_certificate(store.counter(listener_prefix + "ssl.no_certificate")),
      fail_verify_no_cert(store.counter(listener_prefix + "ssl.fail_verify_no_cert")),
      fail_verify_error(store.counter(listener_prefix + "ssl.fail_verify_error")),
      fail_verify_san(store.counter(listener_prefix + "ssl.fail_verify_san")),
      store_(store),
      prefix_(listener_prefix + "ssl.") {}

stats::Counter& TlsStats::named(const char* name, std::string_view group) {
  // A name is only ever counted in one group, so the name alone is the key.
  size_t i = std::hash<const void*>{}(name) % slots_.size();
  for (size_t probes = 0; probes < slots_.size(); ++probes, i = (i + 1) % slots_.size()) {
    Slot& slot = slots_[i];
    const char* key = slot.key.load(std::memory_order_acquire);
    if (key == nullptr) {
      const char* expected = nullptr;
      if (slot.key.compare_exchange_strong(expected, name, std::memory_order_acq_rel)) {
        stats::Counter* counter = &store_.counter(prefix_ + std::string(group) + name);
        slot.counter.store(counter, std::memory_order_release);
        return *counter;
      }
      key = expected;
    }
    if (key == name) {
      // Claimed by another thread that may still be creating it: the store has it.
      stats::Counter* counter = slot.counter.load(std::memory_order_acquire);
      return counter != nullptr ? *counter : store_.counter(prefix_ + std::string(group) + name);
    }
  }
  return store_.counter(prefix_ + std::string(group) + name);
}

}  // namespace sluice::network::tls
