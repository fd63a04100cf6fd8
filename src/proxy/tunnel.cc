// The byte tunnel after a WebSocket upgrade: both directions copied until each
// side closes, half-close passed on, closed after an idle period. An idle
// tunnel holds no buffer: each direction waits for readability before taking
// one from the worker's pool. Part of DownstreamConnection.
#include <asio/experimental/awaitable_operators.hpp>

#include "proxy/downstream_connection.h"
#include "proxy/upstream_pool.h"
#include "proxy/worker.h"

namespace sluice::proxy {

using network::kNoThrow;

asio::awaitable<void> DownstreamConnection::pipe(network::Tcp::socket& from, network::IoBuffer& pending,
                                                 network::Tcp::socket& to, uint64_t& bytes) {
  network::IoBuffer buffer = std::move(pending);
  for (;;) {
    if (buffer.allocated() && !buffer.empty()) {
      auto [ec, n] = co_await asio::async_write(to, asio::buffer(buffer.readable().data(), buffer.size()), kNoThrow);
      if (ec) break;
      buffer.consume(n);
      bytes += n;
      touchStream();
    }
    worker_.buffers().give(buffer);
    if (!co_await readMore(from, buffer, false)) {
      // The source closed (or failed): pass the half-close on.
      std::error_code ignored;
      to.shutdown(network::Tcp::socket::shutdown_send, ignored);
      worker_.buffers().give(buffer);
      co_return;
    }
  }
  // The sink failed: nothing more can be delivered either way.
  worker_.buffers().give(buffer);
  std::error_code ignored;
  from.close(ignored);
  to.close(ignored);
}

asio::awaitable<void> DownstreamConnection::tunnel(UpstreamConnection& upstream, network::IoBuffer& upstream_buffer) {
  using namespace asio::experimental::awaitable_operators;
  // The HTTP state is done with: free it, an idle tunnel should cost little
  // (the heads stay for the access log line written when the tunnel closes).
  if (listener_->hcm.access_logs.empty()) {
    request_ = http::http1::RequestHead();
    response_ = http::http1::ResponseHead();
  }
  out_ = std::string();
  // Idle for the shorter of the stream's (route) idle timeout and the
  // connection manager's stream_idle_timeout: both sides close then.
  const Millis hcm_idle = listener_->hcm.stream_idle_timeout;
  if (hcm_idle.count() > 0 && (stream_idle_timeout_.count() == 0 || hcm_idle < stream_idle_timeout_)) {
    startStreamIdle(hcm_idle);
  }
  tunnelling_ = true;
  co_await (pipe(socket_, in_, upstream.socket, info_.bytes_received) &&
            pipe(upstream.socket, upstream_buffer, socket_, info_.bytes_sent));
  tunnelling_ = false;
  std::error_code ignored;
  upstream.socket.close(ignored);
}

}  // namespace sluice::proxy
