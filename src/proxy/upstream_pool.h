// Per-worker, per-cluster pool of keep-alive HTTP/1.1 connections to upstream
// hosts. Owned by the worker's ClusterState; worker thread only.
//
// A connection idle for kWatchAfter is watched for readability: a peer that
// closes it (or sends bytes nobody asked for) gets it removed then, so a broken
// pooled connection is not handed a new request. Younger ones are not watched:
// a watch costs a system call to start (epoll_ctl) and under load a pooled
// connection is taken again within microseconds; a request without a body
// that meets a connection closed under it is retried on a new one (forward.cc).
// A sweep closes connections idle for longer than the cluster's idle timeout.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "network/asio_util.h"
#include "network/transport.h"
#include "proxy/proxy_config.h"

namespace sluice::proxy {

struct UpstreamConnection {
  explicit UpstreamConnection(std::unique_ptr<network::Transport> t) : transport(std::move(t)) {}
  ~UpstreamConnection() {
    if (active != nullptr) {
      active->dec();
      host->stats->cx_active.fetch_sub(1, std::memory_order_relaxed);
    }
    if (destroy != nullptr) destroy->inc();
  }
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  std::unique_ptr<network::Transport> transport;
  upstream::HostPtr host;
  uint32_t requests = 0;         // requests sent on this connection so far
  bool reused = false;           // came from the idle list (it may have been closed by the peer meanwhile)
  bool watched = false;          // idle and watched for readability
  network::Tcp::endpoint local;  // our end of the connection (%UPSTREAM_LOCAL_ADDRESS%)
  std::chrono::steady_clock::time_point idle_since;
  stats::Gauge* active = nullptr;     // the cluster's upstream_cx_active, once connected
  stats::Counter* destroy = nullptr;  // and its upstream_cx_destroy
  BreakerHold breaker;                // one of the cluster's max_connections, for the connection's life
};

class UpstreamPool {
 public:
  // How long a pooled connection idles before it is watched for a close.
  static constexpr std::chrono::milliseconds kWatchAfter{100};

  UpstreamPool(asio::any_io_executor executor, std::shared_ptr<const ClusterConfig> cluster);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  struct Acquired {
    std::error_code error;   // set when no connection could be made
    bool timed_out = false;  // the connect timeout fired
    bool overflow = false;   // a circuit breaker is open: max_pending_requests or max_connections
    std::unique_ptr<UpstreamConnection> connection;
  };
  // An idle connection to `host`, or a new one connected within the cluster's connect_timeout.
  asio::awaitable<Acquired> acquire(upstream::HostPtr host);

  // Returns a connection whose last exchange ended cleanly; closes it instead
  // when it reached max_requests_per_connection or the pool is closing.
  void release(std::unique_ptr<UpstreamConnection> connection);

  // Closes idle connections to hosts not in `hosts` (after an endpoint update).
  void retainOnly(const upstream::HostSet& hosts);

  // Closes every idle connection; later releases close theirs.
  void close();

  size_t idleCount() const;
  const ClusterConfig& cluster() const { return *cluster_; }
  void setCluster(std::shared_ptr<const ClusterConfig> cluster) { cluster_ = std::move(cluster); }

 private:
  void watch(UpstreamConnection* connection);
  void dropIdle(UpstreamConnection* connection);
  void scheduleSweep();
  void scheduleWatch();

  asio::any_io_executor executor_;
  std::shared_ptr<const ClusterConfig> cluster_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
  asio::steady_timer sweep_timer_;
  bool sweep_scheduled_ = false;
  asio::steady_timer watch_timer_;
  bool watch_scheduled_ = false;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice::proxy
