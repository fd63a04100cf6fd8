// DownstreamConnection: one accepted client connection and the HTTP/1.1
// connection manager running on it, as one coroutine read top to bottom:
// read a request head, route it, answer locally or forward it upstream and
// stream the response back, repeat while the connection is kept alive.
// WebSocket upgrades end in a byte tunnel.
//
// Three objects: the connection (this: transport, codec buffers, lifecycle,
// the connection's timeouts), its Stream (proxy/stream.h: heads, access-log
// record, the stream's timeouts) and the stream's UpstreamRequest
// (proxy/upstream_request.h: host, counts, upstream connection, attempts).
//
// Owned by a shared_ptr held by its coroutine; registered with its Worker so
// drain() and close() can reach it. Worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/http1_body.h"
#include "http/http1_parser.h"
#include "network/asio_util.h"
#include "network/io_buffer.h"
#include "network/slot_timer.h"
#include "network/transport.h"
#include "proxy/proxy_config.h"
#include "proxy/retry_state.h"
#include "proxy/stream.h"
#include "proxy/stream_info.h"
#include "proxy/upstream_failure.h"
#include "upstream/http1_exchange.h"
#include "upstream/load_balancer.h"

namespace sluice::network::tls {
class TlsTransport;
}  // namespace sluice::network::tls

namespace sluice::router {
class RouteAction;
}  // namespace sluice::router

namespace sluice::proxy {

class Worker;

class DownstreamConnection final : public std::enable_shared_from_this<DownstreamConnection>,
                                   private upstream::ExchangeObserver,
                                   private StreamOwner {
 public:
  // `chain` is one of `listener`'s filter chains (chosen by the listener filters).
  DownstreamConnection(Worker& worker, std::shared_ptr<const ListenerConfig> listener, const FilterChainConfig& chain,
                       network::Tcp::socket socket);
  ~DownstreamConnection();

  asio::awaitable<void> run();

  // Finish the request in flight (answering with `connection: close`), or
  // close now when idle between requests.
  void drain();
  // Drain without closing an idle connection now: its next response carries
  // `connection: close` (a listener update; see Worker::install). Closing an
  // idle keep-alive connection races a client sending its next request on it.
  void drainGently() { escalate(Lifecycle::DrainGently); }
  // Close at once.
  void close();
  // A WebSocket tunnel (if this connection is one) closes both its sides; the
  // tunnel's callbacks then finish the stream and the connection.
  void closeTunnel();
  // Close with a reset (SO_LINGER 0): a response that is cut after its head
  // must not look complete to a client that reads it to the close.
  void abort();
  const std::string& listenerName() const { return listener_->name; }
  // The listener config (filter chain) this connection was accepted with.
  const ListenerConfig* listenerConfig() const { return listener_.get(); }

  // The connection's timer reports a due timeout (see Timeout).
  void onDeadline(size_t slot);
  // The stream's timer does (StreamOwner; see Stream::Timeout).
  void onStreamDeadline(Stream& stream, size_t slot) override;

 private:
  // --- downstream_connection.cc: the connection and local replies ---
  // upstream::readMore and writeAll with this connection's buffers and
  // activity (no coroutine frame of their own).
  using ReadResult = network::ReadStatus;
  asio::awaitable<ReadResult> readMore(network::Transport& from, network::IoBuffer& buffer, size_t limit = SIZE_MAX) {
    return upstream::readMore(io_, from, buffer, limit);
  }
  asio::awaitable<bool> writeAll(network::Transport& to, std::string_view data) {
    return upstream::writeAll(io_, to, data);
  }
  static bool received(ReadResult r) { return r == ReadResult::Data; }
  // upstream::ExchangeObserver
  void onActivity() override { stream_.touch(); }
  void onResponseBytes() override { stream_.info.markFirstUpstreamByte(); }
  void onAwaitingHead() override;
  // The TLS handshake of a TLS filter chain, bounded by
  // transport_socket_connect_timeout and the connection idle timeout; false:
  // close the connection.
  asio::awaitable<bool> handshake();
  // Reads and parses the next request head; false: close the connection.
  asio::awaitable<bool> readRequestHead();
  // Serves stream_.request; true when the connection may carry another request.
  asio::awaitable<bool> serveRequest();
  // A response sluice makes itself (404, 503, direct responses, redirects).
  // `route`: its response header mutations apply (redirects, direct responses).
  asio::awaitable<bool> sendLocalReply(int status, std::string_view body, std::string_view details, uint32_t flags = 0,
                                       std::string_view location = {}, const router::Route* route = nullptr);
  // Whether the connection closes after this response: the client asked
  // (read from the request as received, before any rewriting) or we drain.
  bool wantsClose() const;
  bool clientAsksToClose() const;
  // The stream ended: its access-log lines (if any) are queued. Once per stream.
  void logStream();

  // --- the connection's and the stream's timeouts ---
  // The connection's deadlines (network/slot_timer.h); the stream's are its
  // own (Stream::Timeout).
  enum Timeout : size_t {
    kConnectionIdle,      // common_http_protocol_options.idle_timeout (no request in flight)
    kConnectionDuration,  // max_connection_duration
    kClientWatch,         // a response slow enough to watch the client for a close (the HTTP/1 codec)
    kTransportConnect,    // the filter chain's transport_socket_connect_timeout (a TLS handshake)
    kTimeoutCount
  };
  // At the first byte of a request: arms request_headers_timeout (or
  // stream_idle_timeout, whichever is shorter, while the head is read),
  // request_timeout and max_stream_duration; stops the connection idle timer.
  void startStream();
  void endStream();
  // Ends the stream for `reason`: closes its upstream and cancels the client
  // socket's pending wait, so the coroutine sees a failure and looks here.
  void expireStream(StreamTimeout reason);
  asio::awaitable<bool> sendStreamTimeoutReply(const router::Route* route);

  // --- forward.cc: the router filter, one step per function ---
  asio::awaitable<bool> forward(const router::Route& route, const http::http1::Framing& request_framing);
  // What forward() keeps of the request once it is rewritten for the upstream.
  struct PreparedRequest {
    std::string method;    // the response's framing depends on it
    int client_minor = 1;  // the client's HTTP/1.x
    bool upgrade = false;  // a WebSocket upgrade
    bool expect_continue = false;
    bool replayable = false;     // safe to send again after a failure on a reused connection
    RetryHeaders retry_headers;  // x-envoy-retry-on and co., taken off the request
  };
  // Rewrites stream_.request as the upstream sees it: path and host rewrites, header
  // mutations, hop-by-hop fields, x-forwarded-*, x-request-id, framing.
  PreparedRequest prepareUpstreamRequest(const router::Route& route, const upstream::Host& host, bool upgrade,
                                         const http::http1::Framing& framing);
  // An attempt's failure (UpstreamRequest::attempt) with the stream's own
  // facts added: a stream timeout or a client that left closed the upstream
  // connection under it.
  UpstreamFailure withStreamFacts(UpstreamFailure failure) const;
  // --- the retry policy's steps (forward.cc) ---
  // The per-try deadline: the earlier of per_try_timeout and per_try_idle_timeout.
  Millis perTryTimeout(const RetryState& retry) const;
  // Reads a Content-Length body within the route's buffer limit whole into
  // `kept`, so a retry can send it again; leaves a larger or chunked body to
  // stream (kept stays empty). A failure of the client's (gone, malformed).
  asio::awaitable<UpstreamFailure> keepRequestBody(const router::Route& route, const http::http1::Framing& framing,
                                                   std::string& kept);
  // A response head about to be retried: counted, its connection closed.
  void discardRetriedResponse(std::chrono::steady_clock::time_point upstream_start);
  // Waits for the retry's back-off (a timer; the route's timeout, a stream
  // timeout or a client that left cancels it): the failure that ended the
  // wait early, or none.
  asio::awaitable<UpstreamFailure> backOff(const RetryState& retry);
  // Picks the next try's host (previous_hosts: re-picks up to
  // host_selection_retry_max_attempts times for one not tried) and replaces
  // stream_.upstream with a request to it; false when no host is healthy.
  bool nextTry(RetryState& retry, const upstream::LbContext& lb_context, const std::shared_ptr<ClusterState>& cluster);
  // The local reply (or none: the client is gone) for an attempt's failure.
  asio::awaitable<bool> replyToFailure(const UpstreamFailure& failure, const router::Route& route);
  // The final head is in stream_.response: forwards it and streams the body, then
  // pools or closes the upstream connection; after a 101, starts the tunnel.
  // True when the client connection may carry another request.
  asio::awaitable<bool> forwardResponse(const router::Route& route, const PreparedRequest& request,
                                        std::chrono::steady_clock::time_point upstream_start);
  // While a response is awaited and has been slow (kClientWatch): watches the
  // client for a close. Pipelined bytes it sends meanwhile are kept in in_; a
  // close sets stream_.client_gone and closes the upstream, which ends the wait for
  // it. Plain callbacks, no coroutine: most responses never need it.
  void watchClient();
  void onClientReadable();
  void stopClientWatch();

  // --- tunnel.cc: WebSocket byte tunnel after a 101 ---
  // Copies both ways between the client and stream_.upstream's connection.
  // The coroutines above return then: an idle tunnel is two pending readiness
  // waits on plain callbacks (each holding this connection), no coroutine
  // frame and no buffer. When both directions end, endTunnel() finishes the
  // stream and the connection as run() would have.
  void startTunnel();
  enum TunnelDirection : uint8_t { kToUpstream, kToClient };
  // Writes what the direction's buffer holds, else waits for its source.
  void tunnelSend(TunnelDirection direction);
  void onTunnelReadable(TunnelDirection direction, const std::error_code& ec);
  void onTunnelWritten(TunnelDirection direction, const std::error_code& ec, size_t n);
  // The source closed: the half-close is passed on. The sink failed: both close.
  void endTunnelDirection(TunnelDirection direction, bool sink_failed);
  void endTunnel();
  network::Transport& tunnelSource(TunnelDirection direction);
  network::Transport& tunnelSink(TunnelDirection direction);
  network::IoBuffer& tunnelBuffer(TunnelDirection direction);

  Worker& worker_;
  std::shared_ptr<const ListenerConfig> listener_;
  const FilterChainConfig& chain_;                         // owned by listener_
  std::shared_ptr<const router::RouteTable> rds_routes_;   // the stream's RDS table (the route points into it)
  std::unique_ptr<network::Transport> transport_;          // the client's bytes
  network::tls::TlsTransport* tls_ = nullptr;              // transport_ when the filter chain has TLS
  std::unique_ptr<accesslog::DownstreamTls> tls_session_;  // after the handshake: what access logs print
  std::string remote_ip_;
  router::MatchOptions match_options_;  // the HCM's, with this connection's local port
  network::IoBuffer in_;                // bytes read from the client, not yet used
  Stream stream_;                       // the one stream this HTTP/1 connection carries at a time
  // The body decoders (200 B each): allocated with the connection, freed when
  // it becomes a tunnel, which needs neither.
  struct BodyDecoders {
    http::http1::BodyDecoder request;
    http::http1::BodyDecoder response;
  };
  std::unique_ptr<BodyDecoders> bodies_;
  std::string out_;                       // serialised heads and chunk framing
  upstream::ExchangeIo io_;               // the client exchange's view of this connection: buffers, activity, out_
  bool client_watching_ = false;          // watchClient()'s wait is pending
  uint32_t client_watch_generation_ = 0;  // tells a stale watch completion from the current one
  network::SlotTimer<DownstreamConnection, kTimeoutCount> timer_;
  uint32_t requests_ = 0;  // requests served (max_requests_per_connection)
  // How the connection ends; it only ever moves up (escalate()), so each
  // check is one comparison.
  enum class Lifecycle : uint8_t {
    KeepAlive,  // serves requests while the client keeps it open
    // The next response says connection: close; an idle connection waits for
    // it (its last response promised keep-alive; a listener update).
    DrainGently,
    CloseAfterResponse,  // max_connection_duration passed or max requests reached
    Draining,            // close after the current response (drain, errors); its upstream is not pooled
  };
  void escalate(Lifecycle to) {
    if (to > lifecycle_) lifecycle_ = to;
  }
  // The connection will close after the current response (or now, if idle).
  bool closingAfterResponse() const { return lifecycle_ >= Lifecycle::CloseAfterResponse; }
  Lifecycle lifecycle_ = Lifecycle::KeepAlive;
  bool closed_ = false;
  uint8_t tunnel_directions_ = 0;  // after a 101: directions still copying
};

}  // namespace sluice::proxy
