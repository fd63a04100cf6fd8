#include "proxy/upstream_pool.h"

#include <algorithm>

#include "log/logger.h"
#include "network/deadline.h"
#include "network/listen_socket.h"
#include "network/tcp_transport.h"

namespace sluice::proxy {

UpstreamPool::UpstreamPool(asio::any_io_executor executor, std::shared_ptr<const ClusterConfig> cluster)
    : executor_(executor), cluster_(std::move(cluster)), sweep_timer_(executor), watch_timer_(executor) {}

UpstreamPool::~UpstreamPool() {
  *alive_ = false;
  close();
}

asio::awaitable<UpstreamPool::Acquired> UpstreamPool::acquire(upstream::HostPtr host) {
  Acquired result;
  if (auto it = idle_.find(host->address_string); it != idle_.end() && !it->second.empty()) {
    result.connection = std::move(it->second.back());
    it->second.pop_back();
    if (result.connection->watched) {
      result.connection->transport->cancel();  // stop the idle watch
      result.connection->watched = false;
    }
    result.connection->reused = true;
    SLUICE_LOG(pool, trace, "reusing connection to {} (cluster '{}')", host->address_string, cluster_->name);
    co_return result;
  }
  auto& stats = *cluster_->stats;
  // The circuit breakers: this request waits for a new connection (pending),
  // which counts against max_connections for its life.
  const BreakerLimits& limits = cluster_->breakers;
  const BreakerHold pending_hold = tryHold(stats.pending, limits, limits.max_pending_requests);
  if (!pending_hold) {
    stats.upstream_rq_pending_overflow.inc();
    result.overflow = true;
    co_return result;
  }
  BreakerHold connection_hold = tryHold(stats.connections, limits, limits.max_connections);
  if (!connection_hold) {
    stats.upstream_cx_overflow.inc();
    result.overflow = true;
    co_return result;
  }
  auto tcp = std::make_unique<network::TcpTransport>(executor_);
  auto* transport = tcp.get();
  auto connection = std::make_unique<UpstreamConnection>(std::move(tcp));
  connection->host = host;
  connection->breaker = std::move(connection_hold);
  // Envoy's upstream_rq_pending_active: the request waits for this connection.
  const GaugeScope pending(stats.upstream_rq_pending_active);
  stats.upstream_cx_total.inc();
  host->stats->cx_total.fetch_add(1, std::memory_order_relaxed);
  network::Tcp::endpoint endpoint;
  if (!network::makeEndpoint(host->address, host->port, endpoint)) {
    result.error = std::make_error_code(std::errc::address_not_available);
    co_return result;
  }
  network::Deadline deadline(executor_);
  deadline.arm(cluster_->connect_timeout, [transport] { transport->close(); });
  const auto ec = co_await transport->connect(endpoint);
  deadline.disarm();
  if (deadline.expired()) {
    result.timed_out = true;
    stats.upstream_cx_connect_timeout.inc();
    stats.upstream_cx_connect_fail.inc();
    host->stats->cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
    result.error = std::make_error_code(std::errc::timed_out);
    co_return result;
  }
  if (ec) {
    SLUICE_LOG(pool, debug, "connection to {} (cluster '{}') failed: {}", host->address_string, cluster_->name,
               ec.message());
    result.error = ec;
    stats.upstream_cx_connect_fail.inc();
    host->stats->cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
    co_return result;
  }
  connection->local = transport->localAddress();
  SLUICE_LOG(pool, debug, "new connection to {} (cluster '{}')", host->address_string, cluster_->name);
  connection->active = &stats.upstream_cx_active;
  connection->active->inc();
  host->stats->cx_active.fetch_add(1, std::memory_order_relaxed);
  connection->destroy = &stats.upstream_cx_destroy;
  result.connection = std::move(connection);
  co_return result;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
  const uint32_t max = cluster_->max_requests_per_connection;
  if (closed_ || (max > 0 && connection->requests >= max) || !connection->transport->isOpen()) {
    connection->transport->close();
    return;
  }
  connection->idle_since = std::chrono::steady_clock::now();
  idle_[connection->host->address_string].push_back(std::move(connection));
  scheduleWatch();
  scheduleSweep();
}

void UpstreamPool::scheduleWatch() {
  if (watch_scheduled_ || closed_) return;
  watch_scheduled_ = true;
  watch_timer_.expires_after(kWatchAfter);
  watch_timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (ec || !*alive) return;
    watch_scheduled_ = false;
    const auto now = std::chrono::steady_clock::now();
    bool younger = false;
    for (auto& [address, list] : idle_) {
      for (auto& c : list) {
        if (c->watched) continue;
        if (now - c->idle_since < kWatchAfter) {
          younger = true;
          continue;
        }
        c->watched = true;
        watch(c.get());
      }
    }
    if (younger) scheduleWatch();
  });
}

void UpstreamPool::watch(UpstreamConnection* connection) {
  // Readable while idle means the peer closed it (or misbehaves): drop it.
  connection->transport->waitReadable([this, alive = alive_, connection](const std::error_code& ec) {
    if (ec == asio::error::operation_aborted || !*alive) return;
    dropIdle(connection);
  });
}

void UpstreamPool::dropIdle(UpstreamConnection* connection) {
  for (auto& [address, list] : idle_) {
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& c) { return c.get() == connection; });
    if (it != list.end()) {
      (*it)->transport->close();
      list.erase(it);
      return;
    }
  }
}

void UpstreamPool::scheduleSweep() {
  if (sweep_scheduled_ || closed_) return;
  sweep_scheduled_ = true;
  const auto period = std::max(std::chrono::milliseconds(100), cluster_->idle_timeout / 4);
  sweep_timer_.expires_after(period);
  sweep_timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (ec || !*alive) return;
    sweep_scheduled_ = false;
    const auto now = std::chrono::steady_clock::now();
    bool any = false;
    for (auto& [address, list] : idle_) {
      std::erase_if(list, [&](const std::unique_ptr<UpstreamConnection>& c) {
        if (now - c->idle_since < cluster_->idle_timeout) return false;
        c->transport->close();
        return true;
      });
      any = any || !list.empty();
    }
    if (any) scheduleSweep();
  });
}

void UpstreamPool::retainOnly(const upstream::HostSet& hosts) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    const bool present = std::any_of(hosts.hosts().begin(), hosts.hosts().end(),
                                     [&](const upstream::HostPtr& h) { return h->address_string == it->first; });
    if (present) {
      ++it;
      continue;
    }
    for (auto& c : it->second) c->transport->close();
    it = idle_.erase(it);
  }
}

void UpstreamPool::close() {
  closed_ = true;
  for (auto& [address, list] : idle_) {
    for (auto& c : list) c->transport->close();
  }
  idle_.clear();
  sweep_timer_.cancel();
  watch_timer_.cancel();
}

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [address, list] : idle_) n += list.size();
  return n;
}

}  // namespace sluice::proxy
