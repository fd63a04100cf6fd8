#include "server/subscription_stats.h"

#include <chrono>

#include "common/hash.h"

namespace sluice::server {

SubscriptionStats::SubscriptionStats(stats::Store& store, const std::string& prefix)
    : attempt(store.counter(prefix + ".update_attempt")),
      success(store.counter(prefix + ".update_success")),
      rejected(store.counter(prefix + ".update_rejected")),
      failure(store.counter(prefix + ".update_failure")),
      init_fetch_timeout(store.counter(prefix + ".init_fetch_timeout")),
      version(store.gauge(prefix + ".version")),
      update_time(store.gauge(prefix + ".update_time")) {
  version.set(0);
  update_time.set(0);
}

void SubscriptionStats::applied(const std::string& version_info) {
  success.inc();
  version.set(versionHash(version_info));
  update_time.set(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

int64_t versionHash(const std::string& version_info) {
  return static_cast<int64_t>(hash64(version_info) >> 1);  // a gauge is signed: keep it positive
}

}  // namespace sluice::server
