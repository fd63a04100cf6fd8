// Worker: one thread, one io_context, its own listening sockets (SO_REUSEPORT),
// connections, load balancers and upstream pools. The main thread talks to a
// worker only by posting to its io_context; everything else here runs on the
// worker's thread, so the request path takes no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "network/accept_backoff.h"
#include "network/asio_util.h"
#include "network/io_buffer.h"
#include "proxy/proxy_config.h"
#include "proxy/thread_local_clusters.h"
#include "runtime/runtime.h"

namespace sluice::proxy {

class DownstreamConnection;

// A listening socket handed from the main thread to one worker.
struct ListenerSocket {
  std::string listener_name;
  int fd = -1;
  bool ipv6 = false;
};

class Worker {
 public:
  // `listener_drain_time`: how long connections of a changed listener may
  // finish on their old filter chain before idle ones are closed (Envoy's
  // --drain-time-s, default 600 s).
  // `downstream_connections` is the server's count of all downstream
  // connections (proxy::StatsRegistry), shared by its workers.
  Worker(uint32_t index, ConnectionCount& downstream_connections,
         std::chrono::milliseconds listener_drain_time = std::chrono::seconds(600));
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // --- main thread ---
  void start();
  // Installs a new listener config. `sockets` are this worker's sockets for
  // listeners that are new or moved; listeners not in `config` stop accepting
  // and drain. A listener whose ListenerConfig is the same object keeps its
  // connections as they are; one with a new ListenerConfig (it changed) takes
  // new connections on it, and its older connections drain: each answers its
  // next response with `connection: close`, and those still idle after the
  // listener drain time are closed. WebSocket tunnels stay open.
  void applyConfig(ProxyConfigPtr config, std::vector<ListenerSocket> sockets);
  // Applies what changed in the clusters (see ThreadLocalClusters::apply).
  // Posts run in order, so clusters sent before a listener config that routes
  // to them are there when it arrives.
  void applyClusters(std::shared_ptr<const ClusterDelta> delta);
  // An RDS route table arrived: requests that start after it use it, on every
  // connection of every listener naming `slot` (no drain).
  void applyRoutes(std::shared_ptr<RdsRouteSlot> slot, std::shared_ptr<const router::RouteTable> table);
  // Installs a new runtime snapshot (a runtime layer changed; the config stays).
  void applyRuntime(runtime::SnapshotPtr snapshot);
  // Stops accepting; in-flight requests finish, idle connections close. `done`
  // (if set) runs on the worker thread once no connection is left. WebSocket
  // tunnels have no end to wait for: kCloseTunnels (shutdown) closes them at
  // once, kKeepTunnels (admin /drain_listeners) leaves them open.
  enum class Tunnels : uint8_t { kKeep, kClose };
  void drain(std::function<void()> done, Tunnels tunnels = Tunnels::kKeep);
  // Listeners keep accepting, but every connection, new ones too, answers its
  // next response with connection: close and closes after it (Envoy's drain
  // close; admin /drain_listeners?graceful, before the listeners stop).
  void drainClose();
  // Ends the event loop now (after drain or at the drain deadline) and joins.
  void stop();

  // --- worker thread ---
  asio::io_context& io() { return io_; }
  network::BufferPool& buffers() { return buffers_; }
  const ProxyConfig& config() const { return *config_; }
  const runtime::Snapshot& runtime() const { return *runtime_; }
  std::shared_ptr<ClusterState> cluster(std::string_view name);
  uint64_t random() { return rng_(); }
  // The next point of this worker's Weyl sequence (n times 2^64 over the
  // golden ratio, from a random start): each new point falls in the largest
  // gap the earlier ones left, so any run of points covers [0, 2^64) evenly.
  // Weighted clusters pick with it (RouteAction::chooseClusterSpread).
  uint64_t spread() {
    spread_ += 0x9E3779B97F4A7C15ULL;
    return spread_;
  }
  bool draining() const { return draining_; }
  bool drainClosing() const { return drain_close_; }
  // True once the event loop has ended for good (see stopped_).
  bool stopped() const { return stopped_; }
  uint32_t index() const { return index_; }
  ConnectionCount& downstreamConnections() { return downstream_connections_; }

  void addConnection(const std::shared_ptr<DownstreamConnection>& connection);
  void removeConnection(DownstreamConnection* connection);
  size_t connectionCount() const { return connections_.size(); }

 private:
  struct ActiveListener {
    std::shared_ptr<const ListenerConfig> config;
    std::unique_ptr<network::Tcp::acceptor> acceptor;
    // Runtime envoy.resource_limits.listener.<name>.connection_limit (Envoy: unlimited).
    uint64_t max_connections = kNoConnectionLimit;
    // Out of descriptors (EMFILE ...): the accept loop waits on the timer; a
    // connection of this worker that closes ends the wait early.
    network::AcceptBackoff backoff;
    std::unique_ptr<asio::steady_timer> backoff_timer;
  };
  // Re-reads the connection limits from runtime_ (after a config or runtime change).
  void refreshLimits();
  void install(ProxyConfigPtr config, std::vector<ListenerSocket> sockets);
  asio::awaitable<void> acceptLoop(std::string name, network::Tcp::acceptor* acceptor);
  // The tls_inspector's peek, then startConnection with the chain it chose.
  asio::awaitable<void> inspectThenStart(std::shared_ptr<const ListenerConfig> config, network::Tcp::socket socket);
  // Serves an accepted connection on `chain`; null: closes it (the
  // connection slots taken at accept are given back).
  void startConnection(const std::shared_ptr<const ListenerConfig>& config, const FilterChainConfig* chain,
                       network::Tcp::socket socket);
  // After accept() failed with `ec` for lack of resources: counts, logs once
  // per episode and waits. False when the listener's acceptor is gone meanwhile.
  asio::awaitable<bool> backOff(const std::string& name, network::Tcp::acceptor* acceptor, std::error_code ec);
  void maybeFinishDrain();
  // Connections of `name` not on its current ListenerConfig: drain gently now,
  // and close those still idle after the listener drain time.
  void drainOldChains(const std::string& name);

  const uint32_t index_;
  ConnectionCount& downstream_connections_;
  const std::chrono::milliseconds listener_drain_time_;
  // Declared before io_ so it outlives it: coroutine frames still pending when
  // io_ is destroyed (a drain cut short) must not touch the other members.
  bool stopped_ = false;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  network::BufferPool buffers_;
  ProxyConfigPtr config_ = std::make_shared<ProxyConfig>();
  runtime::SnapshotPtr runtime_ = std::make_shared<runtime::Snapshot>();
  // Runtime overload.global_downstream_max_connections (Envoy: unlimited, with a warning).
  uint64_t global_max_connections_ = kNoConnectionLimit;
  ThreadLocalClusters clusters_{io_.get_executor()};
  std::unordered_map<std::string, ActiveListener> listeners_;
  std::unordered_map<DownstreamConnection*, std::weak_ptr<DownstreamConnection>> connections_;
  std::mt19937_64 rng_;
  uint64_t spread_ = rng_();
  bool draining_ = false;
  bool drain_close_ = false;
  std::function<void()> drained_;
};

}  // namespace sluice::proxy
