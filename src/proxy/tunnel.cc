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

network::Transport& DownstreamConnection::tunnelSource(TunnelDirection direction) {
  return direction == kToUpstream ? *transport_ : *stream_.upstream->connection()->transport;
}

network::Transport& DownstreamConnection::tunnelSink(TunnelDirection direction) {
  return direction == kToUpstream ? *stream_.upstream->connection()->transport : *transport_;
}

network::IoBuffer& DownstreamConnection::tunnelBuffer(TunnelDirection direction) {
  return direction == kToUpstream ? in_ : stream_.upstream->buffer();
}

void DownstreamConnection::startTunnel() {
  // The HTTP state is done with: free it, an idle tunnel should cost little
  // (the heads stay for the access log line written when the tunnel closes).
  if (chain_.hcm.access_logs.empty()) {
    stream_.request = http::http1::RequestHead();
    stream_.response = http::http1::ResponseHead();
  }
  out_ = std::string();
  bodies_.reset();
  // The stream's UpstreamRequest keeps the connection and its counts (the
  // host's active requests, upstream_rq_active) until the tunnel ends.
  // Idle for the shorter of the stream's (route) idle timeout and the
  // connection manager's stream_idle_timeout: both sides close then.
  const Millis hcm_idle = chain_.hcm.stream_idle_timeout;
  if (hcm_idle.count() > 0 && (stream_.idle_timeout.count() == 0 || hcm_idle < stream_.idle_timeout)) {
    stream_.startIdle(hcm_idle);
  }
  stream_.state.startTunnel();
  tunnel_directions_ = 2;
  tunnelSend(kToUpstream);  // in_ may hold bytes sent after the upgrade request
  tunnelSend(kToClient);    // the upstream's buffer may hold bytes sent after the 101
}

void DownstreamConnection::tunnelSend(TunnelDirection direction) {
  auto& buffer = tunnelBuffer(direction);
  auto& to = tunnelSink(direction);
  if (buffer.allocated() && !buffer.empty()) {
    to.asyncWrite(buffer.readable(), [self = shared_from_this(), direction](const std::error_code& ec, size_t n) {
      self->onTunnelWritten(direction, ec, n);
    });
    return;
  }
  worker_.buffers().give(buffer);
  tunnelSource(direction).waitReadable(
      [self = shared_from_this(), direction](const std::error_code& ec) { self->onTunnelReadable(direction, ec); });
}

void DownstreamConnection::onTunnelWritten(TunnelDirection direction, const std::error_code& ec, size_t n) {
  if (ec) {
    endTunnelDirection(direction, true);
    return;
  }
  tunnelBuffer(direction).consume(n);
  (direction == kToUpstream ? stream_.info.bytes_received : stream_.info.bytes_sent) += n;
  stream_.touch();
  tunnelSend(direction);
}

void DownstreamConnection::onTunnelReadable(TunnelDirection direction, const std::error_code& ec) {
  if (ec) {
    endTunnelDirection(direction, false);
    return;
  }
  auto& buffer = tunnelBuffer(direction);
  if (!buffer.allocated()) buffer = worker_.buffers().take();
  const auto read = tunnelSource(direction).tryRead(buffer, SIZE_MAX);
  if (read == ReadResult::Data) {
    stream_.touch();
  } else if (read != ReadResult::WouldBlock) {
    endTunnelDirection(direction, false);  // EOF or reset
    return;
  }
  tunnelSend(direction);
}

void DownstreamConnection::endTunnelDirection(TunnelDirection direction, bool sink_failed) {
  auto& from = tunnelSource(direction);
  auto& to = tunnelSink(direction);
  worker_.buffers().give(tunnelBuffer(direction));
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
  stream_.upstream->closeConnection();
  close();  // both pending readiness waits end: each direction ends, then the tunnel
}

void DownstreamConnection::endTunnel() {
  // What forward() and run() would have done after the tunnel, in their order.
  stream_.state.tunnelEnded();
  stream_.upstream->closeConnection();
  stream_.startIdle(Millis(0));
  worker_.buffers().give(stream_.upstream->buffer());
  stream_.upstream.reset();
  chain_.hcm.stats->downstream_rq_active.dec();
  logStream();
  endStream();
  timer_.clear(kConnectionDuration);
  timer_.clear(kConnectionIdle);
  close();
  worker_.removeConnection(this);
}

}  // namespace sluice::proxy
