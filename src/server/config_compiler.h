// Compiles a validated Envoy bootstrap (its static resources) into the
// immutable ProxyConfig the workers run on: route tables, host sets, load
// balancer factories, connection manager settings. Main thread only.
#pragma once

#include <functional>
#include <map>

#include "accesslog/log_writer.h"
#include "config/config_error.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "proxy/proxy_config.h"
#include "server/dns_cache.h"

namespace sluice::server {

// Endpoints delivered by EDS files, by cluster_name.
using EndpointMap = std::map<std::string, envoy::config::endpoint::v3::ClusterLoadAssignment>;

// Host name -> IP literals, for DNS clusters (see DnsCache).
using Resolver = std::function<std::vector<std::string>(const std::string& name, DnsAnswer answer)>;

// A validated cluster always compiles. An EDS cluster takes its endpoints
// from `eds` (none yet: no hosts); a DNS cluster's come from `resolve`.
std::shared_ptr<const proxy::ClusterConfig> compileCluster(const envoy::config::cluster::v3::Cluster& cluster,
                                                           const EndpointMap& eds, const Resolver& resolve);
// Access logs write through `access_logs` (nullptr: their files are not opened, for validation).
std::shared_ptr<const proxy::ListenerConfig> compileListener(const envoy::config::listener::v3::Listener& listener,
                                                             const std::string& path, config::ErrorList& errors,
                                                             accesslog::LogWriter* access_logs = nullptr);

// The listeners and clusters of `bootstrap`'s static_resources.
std::shared_ptr<proxy::ProxyConfig> compileStatic(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                                  const EndpointMap& eds, const Resolver& resolve,
                                                  config::ErrorList& errors,
                                                  accesslog::LogWriter* access_logs = nullptr);

// Builds every access log of the static listeners without opening anything:
// format strings and filters that do not compile are errors (--mode validate).
void checkAccessLogs(const envoy::config::bootstrap::v3::Bootstrap& bootstrap, config::ErrorList& errors);

// The name EDS delivers a cluster's endpoints under.
std::string edsServiceName(const envoy::config::cluster::v3::Cluster& cluster);

}  // namespace sluice::server
