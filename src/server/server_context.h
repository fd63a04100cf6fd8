// What one data-plane server owns and lends to its parts (Envoy's
// Server::Instance): the stat store, and the registry of per-name stat
// objects and connection counts built in it. Nothing here is process-wide:
// two ServerContexts in one process (a test running two servers) share
// nothing. Created first and destroyed last by the Server; main thread, but
// for the atomics the workers update.
#pragma once

#include <cstdint>

#include "proxy/proxy_stats.h"
#include "stats/stats.h"

namespace sluice::server {

class ServerContext {
 public:
  // `workers`: the stat store's per-worker slots.
  explicit ServerContext(uint32_t workers) : store_(workers), proxy_stats_(store_) {}
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  stats::Store& store() { return store_; }
  proxy::StatsRegistry& proxyStats() { return proxy_stats_; }

 private:
  stats::Store store_;
  proxy::StatsRegistry proxy_stats_;
};

}  // namespace sluice::server
