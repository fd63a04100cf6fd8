// Compiles a filter chain's transport_socket (envoy.transport_sockets.tls
// with a DownstreamTlsContext) into the TlsServerContext its connections
// handshake with: certificate files read, keys checked, versions, ciphers and
// curves set, client certificate verification. The gate has already refused
// every field sluice does not implement. Main thread only (config compiling).
#pragma once

#include <memory>
#include <string>

#include "config/config_error.h"
#include "envoy/config/core/v3/base.pb.h"
#include "network/tls/tls_context.h"
#include "proxy/proxy_stats.h"

namespace sluice::server {

// `path` is the transport_socket's; `stats_address` the listener's stats
// scope (listener.<address>.ssl.*). Null with errors added.
std::shared_ptr<const network::tls::TlsServerContext> compileDownstreamTls(
    const envoy::config::core::v3::TransportSocket& socket, const std::string& path, const std::string& stats_address,
    proxy::StatsRegistry& stats, config::ErrorList& errors);

}  // namespace sluice::server
