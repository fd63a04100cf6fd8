// The data path's stats, with Envoy's names, resolved once when a config is
// compiled (stats are keyed by name: a listener, connection manager or
// cluster kept across a config update keeps its stats). The request path only
// follows these pointers; see stats/stats.h for the threading.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "network/accept_backoff.h"
#include "network/tls/tls_stats.h"
#include "proxy/circuit_breakers.h"
#include "proxy/connection_count.h"
#include "stats/stats.h"

namespace sluice::proxy {

// listener.<address>.* (the address as Envoy renders it: 127.0.0.1_10000).
struct ListenerStats {
  ListenerStats(stats::Store& store, const std::string& address);
  const std::string prefix;  // "listener.<address>."
  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& downstream_cx_overflow;                          // over the listener's connection_limit
  stats::Counter& downstream_global_cx_overflow;                   // over overload.global_downstream_max_connections
  stats::Counter& downstream_cx_fd_exhausted;                      // accept() failed: EMFILE, ENFILE, ENOBUFS, ENOMEM
  stats::Counter& downstream_cx_transport_socket_connect_timeout;  // a TLS handshake took too long
  stats::Counter& downstream_pre_cx_timeout;                       // listener filters took too long
  stats::Counter& no_filter_chain_match;                           // no filter chain matched
  // Shared by the workers: one log line per episode of exhaustion.
  network::ExhaustionEpisodes fd_exhaustion;
};

// tls_inspector.* (Envoy's root: shared by every listener).
struct TlsInspectorStats {
  explicit TlsInspectorStats(stats::Store& store);
  stats::Counter& client_hello_too_large;
  stats::Counter& tls_found;
  stats::Counter& tls_not_found;
  stats::Counter& alpn_found;
  stats::Counter& alpn_not_found;
  stats::Counter& sni_found;
  stats::Counter& sni_not_found;
};

// http.<stat_prefix>.*
struct HttpConnectionManagerStats {
  HttpConnectionManagerStats(stats::Store& store, const std::string& stat_prefix);
  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& downstream_rq_total;
  stats::Gauge& downstream_rq_active;
  std::array<stats::Counter*, 5> downstream_rq_xx;  // 1xx .. 5xx
  stats::Histogram& downstream_rq_time;             // ms, stream start to end
  stats::Counter& no_route;
  stats::Counter& no_cluster;

  // A response head with `status` is about to be written (before the client
  // can see it, so a client reading the stats after its response sees it).
  void responseStarted(int status) {
    if (status >= 100 && status < 600) downstream_rq_xx[static_cast<size_t>(status / 100 - 1)]->inc();
  }
  // A stream that started at `start` ended (downstream_rq_time).
  void streamEnded(std::chrono::steady_clock::time_point start);
  void connectionOpened() {
    downstream_cx_total.inc();
    downstream_cx_active.inc();
  }
};

// cluster.<name>.*
struct ClusterStats {
  ClusterStats(stats::Store& store, const std::string& name);
  stats::Store& store;
  const std::string prefix;  // "cluster.<name>."
  stats::Counter& upstream_cx_total;
  stats::Gauge& upstream_cx_active;
  stats::Counter& upstream_cx_destroy;
  stats::Counter& upstream_cx_connect_fail;
  stats::Counter& upstream_cx_connect_timeout;
  stats::Counter& upstream_cx_none_healthy;
  stats::Counter& upstream_rq_total;
  stats::Gauge& upstream_rq_active;
  stats::Gauge& upstream_rq_pending_active;  // requests waiting for a new upstream connection
  stats::Counter& upstream_rq_timeout;
  stats::Counter& upstream_rq_retry;                      // retries made
  stats::Counter& upstream_rq_retry_success;              // retried requests whose last try was not retriable
  stats::Counter& upstream_rq_retry_overflow;             // retries max_retries / retry_budget refused
  stats::Counter& upstream_rq_retry_limit_exceeded;       // retriable, but num_retries were made
  stats::Counter& upstream_rq_retry_backoff_exponential;  // back-offs waited
  stats::Counter& upstream_rq_per_try_timeout;            // tries ended by per_try_timeout
  stats::Counter& retry_or_shadow_abandoned;              // retries not made: the body was not buffered
  std::array<stats::Counter*, 5> upstream_rq_xx;          // 1xx .. 5xx
  stats::Histogram& upstream_rq_time;                     // ms, request start to response head
  stats::Gauge& membership_total;
  stats::Gauge& membership_healthy;
  stats::Gauge& membership_degraded;
  stats::Gauge& membership_excluded;
  stats::Counter& membership_change;
  stats::Counter& lb_healthy_panic;              // requests balanced over every host (panic), any worker
  stats::Counter& upstream_cx_overflow;          // a new connection over max_connections
  stats::Counter& upstream_rq_pending_overflow;  // a request over max_pending_requests or max_requests (Envoy)
  // The circuit breakers' counts (circuit_breakers.default.{cx,rq_pending,rq}_open).
  BreakerResource connections;
  BreakerResource pending;
  BreakerResource requests;
  BreakerResource retries;  // circuit_breakers.default.rq_retry_open

  // An upstream response head with `status` arrived `ms` after the request started.
  void responseReceived(int status, uint64_t ms);

 private:
  // upstream_rq_<code>, created on a code's first use (then read lock-free).
  std::array<std::atomic<stats::Counter*>, 600> by_code_{};
};

// A gauge raised for the lifetime of a scope (upstream_rq_active, ...).
class GaugeScope {
 public:
  explicit GaugeScope(stats::Gauge& gauge) : gauge_(gauge) { gauge_.inc(); }
  ~GaugeScope() { gauge_.dec(); }
  GaugeScope(const GaugeScope&) = delete;
  GaugeScope& operator=(const GaugeScope&) = delete;

 private:
  stats::Gauge& gauge_;
};

// The data path's stat objects and connection counts of one server, by name:
// a listener, connection manager or cluster of a name gets the same object in
// every config version. Owned by the server's context (server/server_context.h),
// so two servers in one process share none of it. Main thread only (config
// compiling); the objects it hands out are updated by the workers' atomics.
class StatsRegistry {
 public:
  explicit StatsRegistry(stats::Store& store) : store_(store) {}
  StatsRegistry(const StatsRegistry&) = delete;
  StatsRegistry& operator=(const StatsRegistry&) = delete;

  stats::Store& store() { return store_; }
  std::shared_ptr<ListenerStats> listener(const std::string& address);
  std::shared_ptr<HttpConnectionManagerStats> connectionManager(const std::string& stat_prefix);
  // listener.<address>.ssl.*, shared by the TLS filter chains of the address.
  std::shared_ptr<network::tls::TlsStats> listenerTls(const std::string& address);
  std::shared_ptr<TlsInspectorStats> tlsInspector();
  std::shared_ptr<ClusterStats> cluster(const std::string& name);
  // The connection count of listener `name` (its connection_limit), kept
  // while some config has a listener of that name.
  std::shared_ptr<ConnectionCount> listenerConnections(const std::string& name);
  // All downstream connections (overload.global_downstream_max_connections).
  ConnectionCount& downstreamConnections() { return downstream_connections_; }

 private:
  stats::Store& store_;
  std::map<std::string, std::shared_ptr<ListenerStats>> listeners_;
  std::map<std::string, std::shared_ptr<HttpConnectionManagerStats>> connection_managers_;
  std::map<std::string, std::shared_ptr<network::tls::TlsStats>> listener_tls_;
  std::shared_ptr<TlsInspectorStats> tls_inspector_;
  std::map<std::string, std::shared_ptr<ClusterStats>> clusters_;
  std::map<std::string, std::weak_ptr<ConnectionCount>> listener_connections_;
  ConnectionCount downstream_connections_;
};

}  // namespace sluice::proxy
