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

// The route slot of a connection manager's `rds` (the server's RDS routes);
// `stat_prefix` is the connection manager's (http.<prefix>.rds.<name>.*).
using RdsSlots = std::function<std::shared_ptr<proxy::RdsRouteSlot>(
    const envoy::extensions::filters::network::http_connection_manager::v3::Rds& rds, const std::string& stat_prefix)>;

// Access logs write through `access_logs` (nullptr: their files are not opened, for validation).
// `rds` gives the slot of a connection manager with `rds` (nullptr: an empty one, for validation).
// Its stats come from `stats`.
std::shared_ptr<const proxy::ListenerConfig> compileListener(const envoy::config::listener::v3::Listener& listener,
                                                             const std::string& path, proxy::StatsRegistry& stats,
                                                             config::ErrorList& errors,
                                                             accesslog::LogWriter* access_logs = nullptr,
                                                             const RdsSlots* rds = nullptr);

// Errors of the checks run on a bootstrap with its file resources appended
// (`static_listeners` and `static_clusters` are the bootstrap's own counts):
// one about an appended resource names it (`cluster 'web'.type: ...`) instead
// of its index in a merged list the user never wrote.
config::ErrorList nameDynamicResources(const config::ErrorList& errors,
                                       const envoy::config::bootstrap::v3::Bootstrap& merged, int static_listeners,
                                       int static_clusters);

// `bootstrap` with `listeners` and `clusters` after its static ones: dynamic
// resources are checked and compiled exactly as if written there (serve and
// validate both; nameDynamicResources names their errors).
envoy::config::bootstrap::v3::Bootstrap withDynamicResources(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
    const std::vector<envoy::config::listener::v3::Listener>& listeners,
    const std::vector<envoy::config::cluster::v3::Cluster>& clusters);

// The listeners of `bootstrap`'s static_resources.
std::shared_ptr<proxy::ProxyConfig> compileStatic(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                  proxy::StatsRegistry& stats, config::ErrorList& errors,
                                                  accesslog::LogWriter* access_logs = nullptr);

// Everything `serve` compiles, without opening a socket or an access-log file
// and without starting a thread: the stats matcher; the directories serve
// watches (file sources, runtime disk layers); the file-based LDS, CDS and
// EDS resources; the semantic checks over static and file resources
// together; every listener (route tables with their RE2 regexes, header
// mutations, access-log formats and filters). The errors are serve's, with
// the same paths. --mode validate runs it, so no config validates that serve
// refuses, except for what only the running server can see (a port in use,
// an access-log file that cannot be opened). `bootstrap` has passed
// validateBootstrap. The listeners' stats go to a store of its own.
void checkConfig(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, config::ErrorList& errors);

}  // namespace sluice::server
