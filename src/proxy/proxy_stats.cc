#include "proxy/proxy_stats.h"

#include <algorithm>
#include <map>

namespace sluice::proxy {

namespace {

template <typename T>
std::shared_ptr<T> cached(std::map<std::string, std::shared_ptr<T>>& all, stats::Store& store,
                          const std::string& name) {
  auto& slot = all[name];
  if (!slot) slot = std::make_shared<T>(store, name);
  return slot;
}

}  // namespace

ListenerStats::ListenerStats(stats::Store& store, const std::string& address)
    : prefix("listener." + address + "."),
      downstream_cx_total(store.counter(prefix + "downstream_cx_total")),
      downstream_cx_active(store.gauge(prefix + "downstream_cx_active")),
      downstream_cx_destroy(store.counter(prefix + "downstream_cx_destroy")),
      downstream_cx_overflow(store.counter(prefix + "downstream_cx_overflow")),
      downstream_global_cx_overflow(store.counter(prefix + "downstream_global_cx_overflow")),
      downstream_cx_fd_exhausted(store.counter(prefix + "downstream_cx_fd_exhausted")),
      downstream_cx_transport_socket_connect_timeout(
          store.counter(prefix + "downstream_cx_transport_socket_connect_timeout")),
      downstream_pre_cx_timeout(store.counter(prefix + "downstream_pre_cx_timeout")),
      no_filter_chain_match(store.counter(prefix + "no_filter_chain_match")) {}

TlsInspectorStats::TlsInspectorStats(stats::Store& store)
    : client_hello_too_large(store.counter("tls_inspector.client_hello_too_large")),
      tls_found(store.counter("tls_inspector.tls_found")),
      tls_not_found(store.counter("tls_inspector.tls_not_found")),
      alpn_found(store.counter("tls_inspector.alpn_found")),
      alpn_not_found(store.counter("tls_inspector.alpn_not_found")),
      sni_found(store.counter("tls_inspector.sni_found")),
      sni_not_found(store.counter("tls_inspector.sni_not_found")) {}

HttpConnectionManagerStats::HttpConnectionManagerStats(stats::Store& store, const std::string& stat_prefix)
    : downstream_cx_total(store.counter("http." + stat_prefix + ".downstream_cx_total")),
      downstream_cx_active(store.gauge("http." + stat_prefix + ".downstream_cx_active")),
      downstream_cx_destroy(store.counter("http." + stat_prefix + ".downstream_cx_destroy")),
      downstream_rq_total(store.counter("http." + stat_prefix + ".downstream_rq_total")),
      downstream_rq_active(store.gauge("http." + stat_prefix + ".downstream_rq_active")),
      downstream_rq_xx{},
      downstream_rq_time(store.histogram("http." + stat_prefix + ".downstream_rq_time")),
      no_route(store.counter("http." + stat_prefix + ".no_route")),
      no_cluster(store.counter("http." + stat_prefix + ".no_cluster")) {
  for (int i = 0; i < 5; ++i) {
    downstream_rq_xx[i] = &store.counter("http." + stat_prefix + ".downstream_rq_" + std::to_string(i + 1) + "xx");
  }
}

void HttpConnectionManagerStats::streamEnded(std::chrono::steady_clock::time_point start) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  downstream_rq_time.record(static_cast<uint64_t>(std::max<int64_t>(0, ms.count())));
}

ClusterStats::ClusterStats(stats::Store& s, const std::string& name)
    : store(s),
      prefix("cluster." + name + "."),
      upstream_cx_total(s.counter(prefix + "upstream_cx_total")),
      upstream_cx_active(s.gauge(prefix + "upstream_cx_active")),
      upstream_cx_destroy(s.counter(prefix + "upstream_cx_destroy")),
      upstream_cx_connect_fail(s.counter(prefix + "upstream_cx_connect_fail")),
      upstream_cx_connect_timeout(s.counter(prefix + "upstream_cx_connect_timeout")),
      upstream_cx_none_healthy(s.counter(prefix + "upstream_cx_none_healthy")),
      upstream_rq_total(s.counter(prefix + "upstream_rq_total")),
      upstream_rq_active(s.gauge(prefix + "upstream_rq_active")),
      upstream_rq_pending_active(s.gauge(prefix + "upstream_rq_pending_active")),
      upstream_rq_timeout(s.counter(prefix + "upstream_rq_timeout")),
      upstream_rq_retry(s.counter(prefix + "upstream_rq_retry")),
      upstream_rq_retry_success(s.counter(prefix + "upstream_rq_retry_success")),
      upstream_rq_retry_overflow(s.counter(prefix + "upstream_rq_retry_overflow")),
      upstream_rq_retry_limit_exceeded(s.counter(prefix + "upstream_rq_retry_limit_exceeded")),
      upstream_rq_retry_backoff_exponential(s.counter(prefix + "upstream_rq_retry_backoff_exponential")),
      upstream_rq_per_try_timeout(s.counter(prefix + "upstream_rq_per_try_timeout")),
      retry_or_shadow_abandoned(s.counter(prefix + "retry_or_shadow_abandoned")),
      upstream_rq_xx{},
      upstream_rq_time(s.histogram(prefix + "upstream_rq_time")),
      membership_total(s.gauge(prefix + "membership_total")),
      membership_healthy(s.gauge(prefix + "membership_healthy")),
      membership_degraded(s.gauge(prefix + "membership_degraded")),
      membership_excluded(s.gauge(prefix + "membership_excluded")),
      membership_change(s.counter(prefix + "membership_change")),
      lb_healthy_panic(s.counter(prefix + "lb_healthy_panic")),
      upstream_cx_overflow(s.counter(prefix + "upstream_cx_overflow")),
      upstream_rq_pending_overflow(s.counter(prefix + "upstream_rq_pending_overflow")),
      connections(s.gauge(prefix + "circuit_breakers.default.cx_open")),
      pending(s.gauge(prefix + "circuit_breakers.default.rq_pending_open")),
      requests(s.gauge(prefix + "circuit_breakers.default.rq_open")),
      retries(s.gauge(prefix + "circuit_breakers.default.rq_retry_open")) {
  for (int i = 0; i < 5; ++i) {
    upstream_rq_xx[i] = &s.counter(prefix + "upstream_rq_" + std::to_string(i + 1) + "xx");
  }
}

void ClusterStats::responseReceived(int status, uint64_t ms) {
  upstream_rq_time.record(ms);
  if (status < 100 || status >= 600) return;
  upstream_rq_xx[status / 100 - 1]->inc();
  auto& slot = by_code_[static_cast<size_t>(status)];
  stats::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // First response with this code: a one-time creation (the store locks).
    counter = &store.counter(prefix + "upstream_rq_" + std::to_string(status));
    slot.store(counter, std::memory_order_release);
  }
  counter->inc();
}

std::shared_ptr<ListenerStats> StatsRegistry::listener(const std::string& address) {
  return cached(listeners_, store_, address);
}

std::shared_ptr<network::tls::TlsStats> StatsRegistry::listenerTls(const std::string& address) {
  auto& slot = listener_tls_[address];
  if (!slot) slot = std::make_shared<network::tls::TlsStats>(store_, "listener." + address + ".");
  return slot;
}

std::shared_ptr<TlsInspectorStats> StatsRegistry::tlsInspector() {
  if (!tls_inspector_) tls_inspector_ = std::make_shared<TlsInspectorStats>(store_);
  return tls_inspector_;
}

std::shared_ptr<HttpConnectionManagerStats> StatsRegistry::connectionManager(const std::string& stat_prefix) {
  return cached(connection_managers_, store_, stat_prefix);
}

std::shared_ptr<ClusterStats> StatsRegistry::cluster(const std::string& name) {
  return cached(clusters_, store_, name);
}

std::shared_ptr<ConnectionCount> StatsRegistry::listenerConnections(const std::string& name) {
  auto& slot = listener_connections_[name];
  auto count = slot.lock();
  if (!count) {
    count = std::make_shared<ConnectionCount>();
    slot = count;
  }
  return count;
}

}  // namespace sluice::proxy
