// Compiles a validated Envoy bootstrap (its static resources) into the
// immutable ProxyConfig the workers run on: route tables, host sets, load
// balancer factories, connection manager settings. Main thread only.
#pragma once

#include "config/config_error.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "proxy/proxy_config.h"

namespace sluice::server {

// nullptr with errors (field paths under `path`) when something cannot be compiled.
std::shared_ptr<const proxy::ClusterConfig> compileCluster(const envoy::config::cluster::v3::Cluster& cluster,
                                                           const std::string& path, config::ErrorList& errors);
std::shared_ptr<const proxy::ListenerConfig> compileListener(const envoy::config::listener::v3::Listener& listener,
                                                             const std::string& path, config::ErrorList& errors);

// The static listeners and clusters of `bootstrap`.
std::shared_ptr<proxy::ProxyConfig> compileStatic(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                  config::ErrorList& errors);

}  // namespace sluice::server
