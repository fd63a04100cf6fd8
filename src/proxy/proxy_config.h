// The compiled, immutable configuration the data path runs on. The main thread
// builds it and posts it to the workers; nothing in it changes afterwards, so
// workers read it without locks. Listeners travel in a ProxyConfig; clusters
// travel one by one in a ClusterDelta (the cluster manager sends only what
// changed). A connection keeps the ListenerConfig it was accepted with until
// it closes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "accesslog/access_log.h"
#include "http/http1_parser.h"
#include "http/path_normalization.h"
#include "network/asio_util.h"
#include "proxy/connection_count.h"
#include "proxy/proxy_stats.h"
#include "router/route_table.h"
#include "runtime/runtime.h"
#include "stats/stats.h"
#include "upstream/load_balancer.h"
#include "upstream/load_balancer_factory.h"
#include "upstream/outlier_monitor.h"

namespace sluice::network::tls {
class TlsServerContext;
}  // namespace sluice::network::tls

namespace sluice::proxy {

using Millis = std::chrono::milliseconds;

// Where a worker reports what it learns of a host's health from proxied
// traffic (Envoy's HealthCheckHostMonitor). The health checker's side posts
// to the main thread; callable from any worker, rarely (the call may take the
// main io_context's queue lock, so it is not for every request).
class HostHealthMonitor {
 public:
  virtual ~HostHealthMonitor() = default;
  // The host answered with x-envoy-immediate-health-check-fail.
  virtual void immediateFailure(const std::string& address_string) const = 0;
};

// A cluster's settings: everything of its proto but its hosts. The cluster
// manager keeps the same object while the cluster's proto is unchanged.
struct ClusterConfig {
  std::string name;
  Millis connect_timeout{5000};  // Envoy's default
  upstream::LbPolicy lb_policy = upstream::LbPolicy::RoundRobin;
  upstream::LbConfig lb_config;
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;  // Envoy's default
  uint32_t max_requests_per_connection = 0;                  // 0: unlimited
  Millis idle_timeout{std::chrono::hours(1)};                // upstream idle connections (Envoy: 1h)
  std::shared_ptr<ClusterStats> stats;                       // cluster.<name>.* (set by the compiler)
  // Set when the cluster has active health checking: proxied responses'
  // x-envoy-immediate-health-check-fail reaches its checker (Envoy acts on
  // the header only then).
  std::shared_ptr<const HostHealthMonitor> health_monitor;
  // Set when the cluster has outlier_detection: each attempt's result is
  // counted on its host and a failure streak reaches the detector.
  std::shared_ptr<const upstream::OutlierMonitor> outlier;
  BreakerLimits breakers;  // circuit_breakers.thresholds (DEFAULT)
};

// Same policy and tuning: a load balancer built for one serves the other.
inline bool sameLoadBalancing(const ClusterConfig& a, const ClusterConfig& b) {
  return a.lb_policy == b.lb_policy && a.lb_config == b.lb_config;
}

// The route table of a connection manager that takes it from RDS: it changes
// without the listener. One slot per (config source, route_config_name),
// shared by every listener that names it; each worker writes and reads only
// its own entry (tables[worker index]) on its own thread, so the request path
// takes no lock. Null until the first table arrived (the listener warms until
// then and is not served).
struct RdsRouteSlot {
  RdsRouteSlot(std::string name, size_t workers) : route_config_name(std::move(name)), tables(workers) {}
  const std::string route_config_name;
  std::vector<std::shared_ptr<const router::RouteTable>> tables;
};

struct HttpConnectionManagerConfig {
  std::string stat_prefix;
  std::shared_ptr<const router::RouteTable> routes;  // route_config; null with rds
  std::shared_ptr<RdsRouteSlot> rds;                 // rds; null with route_config
  router::MatchOptions match_options;
  std::string server_name = "sluice";
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  bool websocket_enabled = false;  // upgrade_configs: websocket
  bool accept_http_10 = false;     // http_protocol_options.accept_http_10 (Envoy: off, 426)
  std::string default_host_for_http_10;
  // Requests: max_request_headers_kb, common_http_protocol_options.max_headers_count and
  // .headers_with_underscores_action, http_protocol_options.allow_chunked_length.
  http::http1::Limits limits;
  // Upstream responses: the same sizes and allow_chunked_length; underscores
  // are always allowed there (Envoy: "upstream responses are not affected").
  http::http1::Limits response_limits;
  http::PathNormalizationOptions path_normalization;  // normalize_path, merge_slashes, escaped slashes
  // Timeouts and limits; 0 disables. Envoy's defaults.
  Millis stream_idle_timeout{std::chrono::minutes(5)};
  Millis request_headers_timeout{0};                  // first byte of a head to its end (slowloris)
  Millis request_timeout{0};                          // first byte to the request's end or the response
  Millis idle_timeout{std::chrono::hours(1)};         // common_http_protocol_options: no request in flight
  Millis max_connection_duration{0};                  // then drain: close after the current response
  Millis max_stream_duration{0};                      // one request/response, from its first byte
  uint32_t max_requests_per_connection = 0;           // common_http_protocol_options (downstream)
  accesslog::AccessLogs access_logs;                  // one line per stream each
  std::shared_ptr<HttpConnectionManagerStats> stats;  // http.<stat_prefix>.* (set by the compiler)
};

// One filter chain of a listener: what it matches (filter_chain_match), its
// transport and its connection manager.
struct FilterChainConfig {
  std::vector<std::string> server_names;  // lower case; "*.example.com" wildcards; empty: any
  std::string transport_protocol;         // "tls", "raw_buffer", or empty: any
  // transport_socket envoy.transport_sockets.tls; null: plain TCP.
  std::shared_ptr<const network::tls::TlsServerContext> tls;
  // transport_socket_connect_timeout (Envoy: none; the connection manager's
  // idle_timeout bounds a handshake too).
  Millis transport_socket_connect_timeout{0};
  HttpConnectionManagerConfig hcm;
};

struct ListenerConfig {
  std::string name;
  network::Tcp::endpoint endpoint;  // as configured (port may be 0)
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  std::shared_ptr<ConnectionCount> connections = std::make_shared<ConnectionCount>();
  std::shared_ptr<ListenerStats> stats;          // listener.<address>.* (set by the compiler)
  std::vector<FilterChainConfig> filter_chains;  // at least one
  // The envoy.filters.listener.tls_inspector listener filter (configured, or
  // implied by a filter_chain_match that needs it, as Envoy injects it).
  bool tls_inspector = false;
  Millis listener_filters_timeout{15000};  // Envoy's default
  bool continue_on_listener_filters_timeout = false;
  std::shared_ptr<TlsInspectorStats> tls_inspector_stats;
  // Envoy's filter chain match for what the listener filters found: server
  // name (exact, then the longest wildcard suffix, then chains without
  // server_names), then transport protocol (exact, then chains without one).
  // Null: no chain matches.
  const FilterChainConfig* selectChain(std::string_view server_name, std::string_view transport_protocol) const;
};

struct ProxyConfig {
  uint64_t version = 0;
  std::vector<std::shared_ptr<const ListenerConfig>> listeners;
};

// One cluster as the cluster manager hands it to the workers: its settings
// and its current hosts. `hosts` is built once on the main thread per host
// set (with the ring hash or Maglev table, shared by every worker); each
// worker builds or updates its own load balancer from it.
struct ClusterUpdate {
  std::shared_ptr<const ClusterConfig> config;
  std::shared_ptr<const upstream::LoadBalancerFactory> hosts;
};

// Times one endpoint update from the moment its DiscoveryResponse was read
// off the gRPC stream to the moment the last worker installed it: each worker
// calls applied() once, the last one records the microseconds. One atomic
// per worker per update, off the request path.
class PropagationTimer {
 public:
  PropagationTimer(std::chrono::steady_clock::time_point received, uint32_t workers, stats::Histogram& histogram)
      : received_(received), remaining_(workers), histogram_(histogram) {}
  void applied() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    const auto elapsed = std::chrono::steady_clock::now() - received_;
    histogram_.record(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
  }

 private:
  std::chrono::steady_clock::time_point received_;
  std::atomic<uint32_t> remaining_;
  stats::Histogram& histogram_;
};

// What changed in the clusters: new ones, ones whose settings or hosts
// changed (an update whose `config` is the one the worker has is a host
// update alone), and the names of removed ones. `timer`, when set, is told
// by each worker that it has applied the delta.
struct ClusterDelta {
  std::vector<ClusterUpdate> updated;
  std::vector<std::string> removed;
  std::shared_ptr<PropagationTimer> timer;
  bool empty() const { return updated.empty() && removed.empty(); }
};

using ProxyConfigPtr = std::shared_ptr<const ProxyConfig>;

// Connection stats of the listener (at accept) and of the filter chain's
// connection manager (once the chain is chosen). Worker thread.
inline void countConnectionOpened(const ListenerConfig& listener) {
  listener.stats->downstream_cx_total.inc();
  listener.stats->downstream_cx_active.inc();
}
inline void countConnectionClosed(const ListenerConfig& listener) {
  listener.stats->downstream_cx_active.dec();
  listener.stats->downstream_cx_destroy.inc();
}
inline void countConnectionOpened(const FilterChainConfig& chain) { chain.hcm.stats->connectionOpened(); }
inline void countConnectionClosed(const FilterChainConfig& chain) {
  chain.hcm.stats->downstream_cx_active.dec();
  chain.hcm.stats->downstream_cx_destroy.inc();
}

}  // namespace sluice::proxy
