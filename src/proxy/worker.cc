#include "proxy/worker.h"

#include "proxy/listener_filters.h"

#include "log/logger.h"
#include "proxy/downstream_connection.h"

namespace sluice::proxy {

using network::kNoThrow;

namespace {

// Every process and worker draws different numbers: x-request-id, random and
// weighted picks and round-robin starting points must differ across a fleet.
uint64_t freshSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Worker::Worker(uint32_t index, ConnectionCount& downstream_connections, std::chrono::milliseconds listener_drain_time)
    : index_(index),
      downstream_connections_(downstream_connections),
      listener_drain_time_(listener_drain_time),
      work_(io_.get_executor()),
      rng_(freshSeed()) {}

Worker::~Worker() { stop(); }

void Worker::start() {
  thread_ = std::thread([this] {
    stats::setThreadSlot(index_);  // this worker's stat slots
    io_.run();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    for (auto& [name, l] : listeners_) {
      std::error_code ignored;
      l.acceptor->close(ignored);
    }
    for (auto& [raw, weak] : connections_) {
      if (auto c = weak.lock()) c->close();
    }
    clusters_.closeAll();
    work_.reset();
    io_.stop();
  });
  thread_.join();
  stopped_ = true;
}

void Worker::applyConfig(ProxyConfigPtr config, std::vector<ListenerSocket> sockets) {
  asio::post(io_, [this, config = std::move(config), sockets = std::move(sockets)]() mutable {
    install(std::move(config), std::move(sockets));
  });
}

void Worker::applyClusters(std::shared_ptr<const ClusterDelta> delta) {
  asio::post(io_, [this, delta = std::move(delta)] {
    clusters_.apply(*delta, [this] { return rng_(); });
    if (delta->timer) delta->timer->applied();
  });
}

void Worker::applyRoutes(std::shared_ptr<RdsRouteSlot> slot, std::shared_ptr<const router::RouteTable> table) {
  asio::post(io_, [this, slot = std::move(slot), table = std::move(table)]() mutable {
    slot->tables[index_] = std::move(table);
  });
}

void Worker::applyRuntime(runtime::SnapshotPtr snapshot) {
  asio::post(io_, [this, snapshot = std::move(snapshot)]() mutable {
    runtime_ = std::move(snapshot);
    refreshLimits();
  });
}

void Worker::refreshLimits() {
  global_max_connections_ = runtime_->getInteger("overload.global_downstream_max_connections", kNoConnectionLimit);
  for (auto& [name, listener] : listeners_) {
    listener.max_connections =
        runtime_->getInteger("envoy.resource_limits.listener." + name + ".connection_limit", kNoConnectionLimit);
  }
}

void Worker::install(ProxyConfigPtr config, std::vector<ListenerSocket> sockets) {
  // Listeners: new sockets start accepting; kept ones take the new config for
  // new connections; removed ones stop accepting (their connections drain).
  for (auto& socket : sockets) {
    auto acceptor = std::make_unique<network::Tcp::acceptor>(io_);
    std::error_code ec;
    acceptor->assign(socket.ipv6 ? network::Tcp::v6() : network::Tcp::v4(), socket.fd, ec);
    if (ec) continue;
    auto& slot = listeners_[socket.listener_name];
    if (slot.acceptor) {
      std::error_code ignored;
      slot.acceptor->close(ignored);
    }
    slot.acceptor = std::move(acceptor);
    if (!draining_) asio::co_spawn(io_, acceptLoop(socket.listener_name, slot.acceptor.get()), asio::detached);
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    std::shared_ptr<const ListenerConfig> found;
    for (const auto& l : config->listeners) {
      if (l->name == it->first) found = l;
    }
    if (found) {
      const bool changed = it->second.config && it->second.config != found;
      it->second.config = found;
      if (changed) drainOldChains(it->first);
      ++it;
      continue;
    }
    std::error_code ignored;
    it->second.acceptor->close(ignored);
    for (auto& [raw, weak] : connections_) {
      if (auto c = weak.lock(); c && c->listenerName() == it->first) c->drain();
    }
    it = listeners_.erase(it);
  }
  config_ = std::move(config);
  refreshLimits();
}

asio::awaitable<void> Worker::acceptLoop(std::string name, network::Tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    const auto it = listeners_.find(name);
    if (it == listeners_.end() || it->second.acceptor.get() != acceptor || !it->second.config) co_return;
    auto& listener = it->second;
    if (ec) {
      // Anything but a lack of resources concerns one connection: take the next.
      if (!network::isResourceExhaustion(ec)) continue;
      if (!network::connectionWaiting(acceptor->native_handle())) {
        // At the limit with an empty backlog: wait until a connection comes.
        auto [wait_ec] = co_await acceptor->async_wait(network::Tcp::acceptor::wait_read, kNoThrow);
        if (wait_ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        continue;
      }
      // A connection waits and cannot be taken: retrying now would spin.
      if (!co_await backOff(name, acceptor, ec)) co_return;
      continue;
    }
    listener.backoff.reset();
    // Connection limits: over one, the connection is closed at once (Envoy
    // does the same). The slots are given back by ~DownstreamConnection.
    if (!downstream_connections_.tryAcquire(global_max_connections_)) {
      listener.config->stats->downstream_global_cx_overflow.inc();
      std::error_code ignored;
      socket.close(ignored);
      continue;
    }
    if (!listener.config->connections->tryAcquire(listener.max_connections)) {
      downstream_connections_.release();
      listener.config->stats->downstream_cx_overflow.inc();
      std::error_code ignored;
      socket.close(ignored);
      continue;
    }
    countConnectionOpened(*listener.config);
    if (!listener.config->tls_inspector) {
      const FilterChainConfig* chain = plainChain(*listener.config);
      if (chain == nullptr) listener.config->stats->no_filter_chain_match.inc();
      startConnection(listener.config, chain, std::move(socket));
    } else {
      asio::co_spawn(io_, inspectThenStart(listener.config, std::move(socket)), asio::detached);
    }
  }
}

asio::awaitable<void> Worker::inspectThenStart(std::shared_ptr<const ListenerConfig> config,
                                               network::Tcp::socket socket) {
  const FilterChainConfig* chain = co_await inspectConnection(*config, socket);
  startConnection(config, chain, std::move(socket));
}

void Worker::startConnection(const std::shared_ptr<const ListenerConfig>& config, const FilterChainConfig* chain,
                             network::Tcp::socket socket) {
  if (chain == nullptr || !socket.is_open()) {
    // Refused before any filter chain: the slots acceptLoop took go back here.
    config->connections->release();
    downstream_connections_.release();
    countConnectionClosed(*config);
    std::error_code ignored;
    socket.close(ignored);
    return;
  }
  auto connection = std::make_shared<DownstreamConnection>(*this, config, *chain, std::move(socket));
  addConnection(connection);
  countConnectionOpened(*chain);
  asio::co_spawn(io_, connection->run(), asio::detached);
}

asio::awaitable<bool> Worker::backOff(const std::string& name, network::Tcp::acceptor* acceptor, std::error_code ec) {
  auto& listener = listeners_.at(name);
  auto& stats = *listener.config->stats;
  stats.downstream_cx_fd_exhausted.inc();
  const auto delay = listener.backoff.next();
  if (stats.fd_exhaustion.failureStartsEpisode()) {
    SLUICE_LOG(connection, warn,
               "listener '{}': accept failed: {}; {}; accepting again after a pause ({} ms, doubling up to {} ms) "
               "or when a connection closes; further failures are counted in {}downstream_cx_fd_exhausted",
               name, ec.message(), network::describeDescriptorUse(ec), delay.count(),
               network::AcceptBackoff::kMax.count(), stats.prefix);
  }
  if (!listener.backoff_timer) listener.backoff_timer = std::make_unique<asio::steady_timer>(io_);
  listener.backoff_timer->expires_after(delay);
  // Ends early (operation_aborted) when a connection closes or the listener goes.
  co_await listener.backoff_timer->async_wait(kNoThrow);
  const auto it = listeners_.find(name);
  co_return it != listeners_.end() && it->second.acceptor.get() == acceptor && acceptor->is_open();
}

std::shared_ptr<ClusterState> Worker::cluster(std::string_view name) { return clusters_.get(name); }

void Worker::addConnection(const std::shared_ptr<DownstreamConnection>& connection) {
  connections_.emplace(connection.get(), connection);
}

void Worker::removeConnection(DownstreamConnection* connection) {
  connections_.erase(connection);
  // A descriptor was freed: a listener pausing for lack of them tries now.
  for (auto& [name, listener] : listeners_) {
    if (listener.backoff.active() && listener.backoff_timer) listener.backoff_timer->cancel();
  }
  maybeFinishDrain();
}

void Worker::drainClose() {
  asio::post(io_, [this] { drain_close_ = true; });
}

void Worker::drain(std::function<void()> done, Tunnels tunnels) {
  asio::post(io_, [this, done = std::move(done), tunnels]() mutable {
    draining_ = true;
    if (done) drained_ = std::move(done);
    for (auto& [name, l] : listeners_) {
      std::error_code ignored;
      l.acceptor->close(ignored);
    }
    // Copy: drain() may close a connection, which removes it from the map.
    std::vector<std::shared_ptr<DownstreamConnection>> live;
    for (auto& [raw, weak] : connections_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
    for (auto& c : live) {
      c->drain();
      if (tunnels == Tunnels::kClose) c->closeTunnel();
    }
    maybeFinishDrain();
  });
}

void Worker::drainOldChains(const std::string& name) {
  const auto old = [this, name](const DownstreamConnection& c) {
    const auto it = listeners_.find(name);
    return c.listenerName() == name && (it == listeners_.end() || c.listenerConfig() != it->second.config.get());
  };
  for (auto& [raw, weak] : connections_) {
    if (auto c = weak.lock(); c && old(*c)) c->drainGently();
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, listener_drain_time_);
  timer->async_wait([this, timer, old](const std::error_code& ec) {
    if (ec || stopped_) return;
    // Copy: drain() may close a connection, which removes it from the map.
    std::vector<std::shared_ptr<DownstreamConnection>> stale;
    for (auto& [raw, weak] : connections_) {
      if (auto c = weak.lock(); c && old(*c)) stale.push_back(std::move(c));
    }
    for (auto& c : stale) c->drain();
  });
}

void Worker::maybeFinishDrain() {
  if (draining_ && connections_.empty() && drained_) {
    auto done = std::move(drained_);
    drained_ = nullptr;
    done();
  }
}

}  // namespace sluice::proxy
