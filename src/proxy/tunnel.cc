// The byte tunnel after a WebSocket upgrade: both directions copied until each
// side closes, half-close passed on, closed after an idle period. Part of
// DownstreamConnection.
//
// An idle tunnel costs little: the coroutines that upgraded the connection
// have returned, and each direction is one pending readiness wait on a plain
// callback. A buffer is taken from the worker's pool only when the source is
// readable and given back once its bytes are written.
#include "proxy/downstream_connection.h"
#include "proxy/upstream_pool.h"
#include "proxy/worker.h"

namespace sluice::proxy {

DownstreamConnection::Tunnel::Tunnel(std::shared_ptr<ClusterState> c, std::unique_ptr<UpstreamConnection> u)
    : cluster(std::move(c)), upstream(std::move(u)) {
  upstream->host->active_requests.fetch_add(1, std::memory_order_relaxed);
  cluster->config->stats->upstream_rq_active.inc();
}

DownstreamConnection::Tunnel::~Tunnel() {
  upstream->host->active_requests.fetch_sub(1, std::memory_order_relaxed);
  cluster->config->stats->upstream_rq_active.dec();
  upstream.reset();  // before the cluster (its stats) may go
}

void DownstreamConnection::startTunnel(std::shared_ptr<ClusterState> cluster,
                                       std::unique_ptr<UpstreamConnection> upstream) {
  // The HTTP state is done with: free it, an idle tunnel should cost little
  // (the heads stay for the access log line written when the tunnel closes).
  if (listener_->hcm.access_logs.empty()) {
    stream_.request = http::http1::RequestHead();
    stream_.response = http::http1::ResponseHead();
  }
  out_ = std::string();
  bodies_.reset();
  tunnel_ = std::make_unique<Tunnel>(std::move(cluster), std::move(upstream));
  upstream_transport_ = tunnel_->upstream->transport.get();  // the stream idle timeout closes it
  // Idle for the shorter of the stream's (route) idle timeout and the
  // connection manager's stream_idle_timeout: both sides close then.
  const Millis hcm_idle = listener_->hcm.stream_idle_timeout;
  if (hcm_idle.count() > 0 && (stream_idle_timeout_.count() == 0 || hcm_idle < stream_idle_timeout_)) {
    startStreamIdle(hcm_idle);
  }
  stream_.state.startTunnel();
  tunnel_directions_ = 2;
  tunnelSend(kToUpstream);  // in_ may hold bytes sent after the upgrade request
  tunnelSend(kToClient);    // upstream_in_ may hold bytes sent after the 101
}

void DownstreamConnection::tunnelSend(TunnelDirection direction) {
  auto& buffer = direction == kToUpstream ? in_ : upstream_in_;
  auto& to = direction == kToUpstream ? *tunnel_->upstream->transport : *transport_;
  if (buffer.allocated() && !buffer.empty()) {
    to.asyncWrite(buffer.readable(), [self = shared_from_this(), direction](const std::error_code& ec, size_t n) {
      self->onTunnelWritten(direction, ec, n);
    });
    return;
  }
  worker_.buffers().give(buffer);
  auto& from = direction == kToUpstream ? *transport_ : *tunnel_->upstream->transport;
  from.waitReadable(
      [self = shared_from_this(), direction](const std::error_code& ec) { self->onTunnelReadable(direction, ec); });
}

void DownstreamConnection::onTunnelWritten(TunnelDirection direction, const std::error_code& ec, size_t n) {
  if (ec) {
    endTunnelDirection(direction, true);
    return;
  }
  auto& buffer = direction == kToUpstream ? in_ : upstream_in_;
  buffer.consume(n);
  (direction == kToUpstream ? stream_.info.bytes_received : stream_.info.bytes_sent) += n;
  touchStream();
  tunnelSend(direction);
}

void DownstreamConnection::onTunnelReadable(TunnelDirection direction, const std::error_code& ec) {
  if (ec) {
    endTunnelDirection(direction, false);
    return;
  }
  auto& buffer = direction == kToUpstream ? in_ : upstream_in_;
  auto& from = direction == kToUpstream ? *transport_ : *tunnel_->upstream->transport;
  if (!buffer.allocated()) buffer = worker_.buffers().take();
  const auto read = from.tryRead(buffer, SIZE_MAX);
  if (read == ReadResult::Data) {
    touchStream();
  } else if (read != ReadResult::WouldBlock) {
    endTunnelDirection(direction, false);  // EOF or reset
    return;
  }
  tunnelSend(direction);
}

void DownstreamConnection::endTunnelDirection(TunnelDirection direction, bool sink_failed) {
  auto& buffer = direction == kToUpstream ? in_ : upstream_in_;
  auto& from = direction == kToUpstream ? *transport_ : *tunnel_->upstream->transport;
  auto& to = direction == kToUpstream ? *tunnel_->upstream->transport : *transport_;
  worker_.buffers().give(buffer);
  if (sink_failed) {
    // Nothing more can be delivered either way.
    from.close();
    to.close();
  } else {
    to.shutdownSend();
  }
  if (--tunnel_directions_ == 0) endTunnel();
}

void DownstreamConnection::closeTunnel() {
  if (!stream_.state.tunnelling()) return;
  tunnel_->upstream->transport->close();
  close();  // both pending readiness waits end: each direction ends, then the tunnel
}

void DownstreamConnection::endTunnel() {
  // What forward() and run() would have done after the tunnel, in their order.
  stream_.state.tunnelEnded();
  tunnel_->upstream->transport->close();
  startStreamIdle(Millis(0));
  upstream_transport_ = nullptr;
  tunnel_.reset();
  listener_->hcm.stats->downstream_rq_active.dec();
  logStream();
  endStream();
  timer_.clear(kConnectionDuration);
  timer_.clear(kConnectionIdle);
  close();
  worker_.removeConnection(this);
}

}  // namespace sluice::proxy
