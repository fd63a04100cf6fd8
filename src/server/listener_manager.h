// The listener manager (Envoy's ListenerManagerImpl), main thread: compiles
// each listener on its own and keeps the compiled ListenerConfig of a
// listener whose proto is unchanged (config::protoHash), so a config update
// leaves that listener's filter chain, and the connections on it, alone.
// Workers then drain only the connections of listeners that changed (see
// Worker::applyConfig). Main thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "accesslog/log_writer.h"
#include "config/config_error.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/proxy_config.h"
#include "server/config_compiler.h"

namespace sluice::server {

class ListenerManager {
 public:
  explicit ListenerManager(proxy::StatsRegistry& stats) : stats_(stats) {}

  // The listeners of `bootstrap` (static and LDS, merged and validated):
  // unchanged ones are the objects of the last commit(), the others newly
  // compiled. Null with `errors` when one does not compile. Changes nothing
  // until commit(): a rejected update leaves the manager as it was.
  std::shared_ptr<proxy::ProxyConfig> compile(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                              accesslog::LogWriter* access_logs, config::ErrorList& errors,
                                              const RdsSlots* rds = nullptr) const;
  // `config` (from compile()) is what the workers now run.
  void commit(const proxy::ProxyConfig& config, const envoy::config::bootstrap::v3::Bootstrap& bootstrap);

 private:
  struct Entry {
    uint64_t hash = 0;
    std::shared_ptr<const proxy::ListenerConfig> config;
  };
  proxy::StatsRegistry& stats_;
  std::map<std::string, Entry> listeners_;  // by the listener's proto name
};

}  // namespace sluice::server
