// Compiles a validated Envoy bootstrap's listeners into the immutable
// ProxyConfig the workers run on: route tables, access logs, connection
// manager settings. Clusters are the cluster manager's (cluster_manager.h).
// Main thread only.
#pragma once

#include <functional>
#include <map>

#include "accesslog/log_writer.h"
#include "config/config_error.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "proxy/proxy_config.h"

namespace sluice::server {

// Endpoints delivered by EDS files, by cluster_name.
using EndpointMap = std::map<std::string, envoy::config::endpoint::v3::ClusterLoadAssignment>;

// The route slot of a connection manager's `rds` (the server's RDS routes).
using RdsSlots = std::function<std::shared_ptr<proxy::RdsRouteSlot>(
    const envoy::extensions::filters::network::http_connection_manager::v3::Rds& rds)>;

// Access logs write through `access_logs` (nullptr: their files are not opened, for validation).
// `rds` gives the slot of a connection manager with `rds` (nullptr: an empty one, for validation).
std::shared_ptr<const proxy::ListenerConfig> compileListener(const envoy::config::listener::v3::Listener& listener,
                                                             const std::string& path, config::ErrorList& errors,
                                                             accesslog::LogWriter* access_logs = nullptr,
                                                             const RdsSlots* rds = nullptr);

// The listeners of `bootstrap`'s static_resources.
std::shared_ptr<proxy::ProxyConfig> compileStatic(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                  config::ErrorList& errors,
                                                  accesslog::LogWriter* access_logs = nullptr);

// Builds every access log of the static listeners without opening anything:
// format strings and filters that do not compile are errors (--mode validate).
void checkAccessLogs(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, config::ErrorList& errors);

}  // namespace sluice::server
