#include "proxy/downstream_connection.h"

#include <algorithm>
#include <atomic>
#include <charconv>

#include "http/http1_serializer.h"
#include "http/path_normalization.h"
#include "log/logger.h"
#include "network/tcp_transport.h"
#include "network/tls/tls_transport.h"
#include "proxy/proxy_headers.h"
#include "proxy/worker.h"
#include "router/route.h"
#include "router/route_table.h"

namespace sluice::proxy {

using http::http1::Framing;
using http::http1::ParseStatus;

namespace {

std::unique_ptr<network::Transport> makeTransport(const FilterChainConfig& chain, network::Tcp::socket socket) {
  if (chain.tls) return std::make_unique<network::tls::TlsTransport>(std::move(socket), chain.tls);
  return std::make_unique<network::TcpTransport>(std::move(socket));
}

}  // namespace

DownstreamConnection::DownstreamConnection(Worker& worker, std::shared_ptr<const ListenerConfig> listener,
                                           const FilterChainConfig& chain, network::Tcp::socket socket)
    : worker_(worker),
      listener_(std::move(listener)),
      chain_(chain),
      transport_(makeTransport(chain_, std::move(socket))),
      tls_(chain_.tls ? static_cast<network::tls::TlsTransport*>(transport_.get()) : nullptr),
      stream_(worker.io(), *this),
      bodies_(new BodyDecoders{http::http1::BodyDecoder(chain_.hcm.limits),
                               http::http1::BodyDecoder(chain_.hcm.response_limits)}),
      io_{worker.buffers(), *this, out_},
      timer_(worker.io(), *this) {
  const auto peer = transport_->peerAddress();
  if (peer.port() != 0) remote_ip_ = peer.address().to_string();  // 0: the peer is gone already
  // Envoy's %CONNECTION_ID%: unique within the process.
  static std::atomic<uint64_t> next_connection_id{0};
  stream_.info.connection_id = next_connection_id.fetch_add(1, std::memory_order_relaxed) + 1;
  stream_.info.downstream_remote = peer;
  // strip_matching_host_port compares with the port this connection arrived on
  // (the bound one, also for listeners configured with port 0).
  match_options_ = chain_.hcm.match_options;
  const auto local = transport_->localAddress();
  if (local.port() != 0) match_options_.listener_port = local.port();
  stream_.info.downstream_local = local;
}

DownstreamConnection::~DownstreamConnection() {
  // Worker::acceptLoop took a slot in both counts for this connection.
  listener_->connections->release();
  worker_.downstreamConnections().release();
  countConnectionClosed(*listener_);
  countConnectionClosed(chain_);
  if (worker_.stopped()) return;  // destroyed with the event loop: the pool is gone
  worker_.buffers().give(in_);
  if (stream_.upstream) worker_.buffers().give(stream_.upstream->buffer());
}

void DownstreamConnection::drain() {
  escalate(Lifecycle::Draining);
  if (stream_.state.idle() && in_.empty()) close();
}

void DownstreamConnection::abort() {
  closed_ = true;
  transport_->abort();
}

void DownstreamConnection::close() {
  if (closed_) return;
  closed_ = true;
  transport_->shutdown();
  transport_->close();
}

asio::awaitable<void> DownstreamConnection::run() {
  auto self = shared_from_this();  // keeps the connection alive while the coroutine runs
  SLUICE_LOG(connection, debug, "[C{}] new connection from {}:{} on listener '{}'", stream_.info.connection_id,
             remote_ip_, stream_.info.downstream_remote.port(), listener_->name);
  // Envoy's max_connection_duration: then the connection drains (closes now if
  // idle, else after the response in flight, which says connection: close).
  timer_.setAfter(kConnectionDuration, chain_.hcm.max_connection_duration);
  // A TLS connection serves nothing before its handshake is done.
  const bool ready = tls_ == nullptr || co_await handshake();
  while (ready && !closed_) {
    if (!co_await readRequestHead()) break;
    chain_.hcm.stats->downstream_rq_active.inc();
    const bool keep_alive = co_await serveRequest();
    // An upgraded connection is a tunnel now, on callbacks that hold the
    // connection; it finishes the stream and the connection (tunnel.cc).
    if (stream_.state.tunnelling()) co_return;
    chain_.hcm.stats->downstream_rq_active.dec();
    // A stream cut short by a timeout may have looked complete to the code
    // that ended it (a close-delimited body); never reuse the connection then.
    const bool timed_out = stream_.timeout != StreamTimeout::None;
    logStream();
    endStream();
    if (!keep_alive || timed_out) break;
    if (closingAfterResponse() || worker_.draining()) break;
  }
  logStream();  // a request head that could not be parsed (or came too slowly) was answered
  timer_.clear(kConnectionDuration);
  timer_.clear(kConnectionIdle);
  close();
  SLUICE_LOG(connection, debug, "[C{}] closing connection", stream_.info.connection_id);
  worker_.removeConnection(this);
}

asio::awaitable<bool> DownstreamConnection::handshake() {
  timer_.setAfter(kTransportConnect, chain_.transport_socket_connect_timeout);
  timer_.setAfter(kConnectionIdle, chain_.hcm.idle_timeout);
  const auto result = co_await tls_->handshake();
  timer_.clear(kTransportConnect);
  timer_.clear(kConnectionIdle);
  SLUICE_LOG(connection, debug, "[C{}] TLS handshake: {}", stream_.info.connection_id,
             result == network::tls::HandshakeResult::kDone     ? "done"
             : result == network::tls::HandshakeResult::kFailed ? "failed"
                                                                : "closed");
  if (result != network::tls::HandshakeResult::kDone) co_return false;
  auto session = tls_->sessionInfo();
  tls_session_ = std::make_unique<accesslog::DownstreamTls>(
      accesslog::DownstreamTls{std::move(session.version), std::move(session.cipher), std::move(session.server_name),
                               std::move(session.peer_subject), std::move(session.peer_uri_san)});
  stream_.info.downstream_tls = tls_session_.get();
  co_return true;
}

void DownstreamConnection::onDeadline(size_t slot) {
  switch (static_cast<Timeout>(slot)) {
    case kTransportConnect:
      listener_->stats->downstream_cx_transport_socket_connect_timeout.inc();
      close();
      break;
    case kConnectionIdle:
      close();
      break;
    case kConnectionDuration:
      // Envoy's max_connection_duration: then the connection drains (closes
      // now if idle, else after the response in flight, which says connection: close).
      escalate(Lifecycle::CloseAfterResponse);
      if (stream_.state.idle() && in_.empty()) close();
      break;
    case kClientWatch:
      if (!client_watching_) watchClient();
      break;
    case kTimeoutCount:
      break;
  }
}

void DownstreamConnection::onStreamDeadline(Stream& stream, size_t slot) {
  switch (static_cast<Stream::Timeout>(slot)) {
    case Stream::kHeaders:
      expireStream(stream.head_timeout_reason);
      break;
    case Stream::kRequest:
      expireStream(StreamTimeout::Request);
      break;
    case Stream::kDuration:
      expireStream(StreamTimeout::MaxDuration);
      break;
    case Stream::kIdle:
      if (!stream.idleExpired()) break;
      if (stream.state.tunnelling()) {
        stream.info.response_flags |= kStreamIdleTimeout;
        if (stream.upstream) stream.upstream->closeConnection();
        transport_->close();
      } else {
        expireStream(StreamTimeout::Idle);
      }
      break;
    case Stream::kUpstreamResponse:
      if (stream.upstream) stream.upstream->onResponseTimeout();
      break;
    case Stream::kPerTry:
      if (stream.upstream) stream.upstream->onPerTryTimeout();
      break;
    case Stream::kTimeoutCount:
      break;
  }
}

void DownstreamConnection::startStream() {
  const auto& hcm = chain_.hcm;
  stream_.state.firstByte();
  hcm.stats->downstream_rq_total.inc();  // a request's first byte (Envoy: the codec's new stream)
  stream_.timeout = StreamTimeout::None;
  timer_.clear(kConnectionIdle);
  // Until the head is complete the stream idle timer cannot be touched (Envoy
  // sees no event before the end of the head either), so it bounds the head's
  // time as request_headers_timeout does: a slowloris client is cut after 5
  // minutes by default, after request_headers_timeout when that is shorter.
  Millis head_limit = hcm.request_headers_timeout;
  StreamTimeout head_reason = StreamTimeout::RequestHeaders;
  if (hcm.stream_idle_timeout.count() > 0 && (head_limit.count() == 0 || hcm.stream_idle_timeout < head_limit)) {
    head_limit = hcm.stream_idle_timeout;
    head_reason = StreamTimeout::Idle;
  }
  stream_.head_timeout_reason = head_reason;
  const auto now = std::chrono::steady_clock::now();
  stream_.timer.setAfter(Stream::kHeaders, head_limit, now);
  stream_.timer.setAfter(Stream::kRequest, hcm.request_timeout, now);
  stream_.timer.setAfter(Stream::kDuration, hcm.max_stream_duration, now);
}

void DownstreamConnection::endStream() {
  stream_.state.end();
  stream_.timeout = StreamTimeout::None;
  stream_.timer.clear(Stream::kHeaders);
  stream_.timer.clear(Stream::kRequest);
  stream_.timer.clear(Stream::kDuration);
}

void DownstreamConnection::expireStream(StreamTimeout reason) {
  if (stream_.timeout != StreamTimeout::None) return;
  stream_.timeout = reason;
  if (stream_.upstream) stream_.upstream->closeConnection();
  transport_->cancel();
}

asio::awaitable<bool> DownstreamConnection::sendStreamTimeoutReply(const router::Route* route) {
  escalate(Lifecycle::Draining);
  switch (stream_.timeout) {
    case StreamTimeout::RequestHeaders:
      co_return co_await sendLocalReply(408, "request header timeout", "request_header_timeout", 0, {}, route);
    case StreamTimeout::Request:
      co_return co_await sendLocalReply(408, "request timeout", "request_overall_timeout", 0, {}, route);
    case StreamTimeout::MaxDuration:
      co_return co_await sendLocalReply(408, "downstream duration timeout", "max_duration_timeout", kDurationTimeout,
                                        {}, route);
    case StreamTimeout::Idle:
    case StreamTimeout::None:
      break;
  }
  co_return co_await sendLocalReply(408, "stream timeout", "stream_idle_timeout", kStreamIdleTimeout, {}, route);
}

asio::awaitable<bool> DownstreamConnection::readRequestHead() {
  const auto& limits = chain_.hcm.limits;
  size_t scanned = 0;  // bytes of in_ that parsed as Incomplete
  for (;;) {
    if (!in_.empty() && !http::http1::worthReparsing(in_.readable(), scanned, limits.max_header_bytes)) {
      // Nothing new to decide on: read on.
    } else if (!in_.empty()) {
      if (!stream_.state.started()) startStream();
      const auto result = http::http1::parseRequestHead(in_.readable(), limits, stream_.request);
      scanned = in_.readable().size();
      if (result.status == ParseStatus::Complete) {
        stream_.timer.clear(Stream::kHeaders);
        in_.consume(result.consumed);
        stream_.state.headComplete();
        co_return true;
      }
      if (result.status == ParseStatus::Error) {
        stream_.info.reset();
        stream_.request_body_complete = true;
        stream_.client_close = true;
        stream_.request.clear();
        stream_.request.version_minor = 1;
        escalate(Lifecycle::Draining);  // after a framing error the connection closes
        co_await sendLocalReply(result.error_status, "", result.detail, kDownstreamProtocolError);
        co_return false;
      }
    } else {
      // Nothing buffered: give the buffer back while waiting for the next request.
      worker_.buffers().give(in_);
    }
    if (in_.empty()) stream_.state.waitingWithNothingBuffered();
    if (stream_.state.idle() && (closingAfterResponse() || worker_.draining())) co_return false;
    // Envoy's connection idle timeout: no request in flight for that long.
    if (stream_.state.idle()) timer_.setAfter(kConnectionIdle, chain_.hcm.idle_timeout);
    if (!received(co_await readMore(*transport_, in_))) {
      if (stream_.timeout != StreamTimeout::None) {
        stream_.info.reset();
        stream_.request.clear();
        stream_.client_close = true;
        co_await sendStreamTimeoutReply(nullptr);
      }
      co_return false;
    }
  }
}

void DownstreamConnection::logStream() {
  if (!stream_.info.active) return;
  stream_.info.active = false;
  chain_.hcm.stats->streamEnded(stream_.info.start);
  const auto& logs = chain_.hcm.access_logs;
  if (logs.empty()) return;
  const auto now = StreamInfo::Clock::now();
  // The wall-clock start, derived here rather than read on every request.
  const auto start_time = std::chrono::system_clock::now() -
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(now - stream_.info.start);
  const accesslog::LogContext line{stream_.info,
                                   stream_.request.method.empty() ? nullptr : &stream_.request.headers,
                                   stream_.request.method,
                                   stream_.request.target,
                                   stream_.request.version_minor,
                                   stream_.info.response_code != 0 ? &stream_.response.headers : nullptr,
                                   now,
                                   start_time};
  const accesslog::FilterContext filter{stream_.info, now, worker_.runtime(), stream_.random, worker_.random()};
  accesslog::emitAccessLogs(logs, line, filter, worker_.index());
}

bool DownstreamConnection::wantsClose() const {
  return stream_.client_close || lifecycle_ >= Lifecycle::DrainGently || worker_.draining() || worker_.drainClosing();
}

bool DownstreamConnection::clientAsksToClose() const {
  if (hasToken(stream_.request.headers, "connection", "close")) return true;
  return stream_.request.version_minor == 0 && !hasToken(stream_.request.headers, "connection", "keep-alive");
}

asio::awaitable<bool> DownstreamConnection::sendLocalReply(int status, std::string_view body, std::string_view details,
                                                           uint32_t flags, std::string_view location,
                                                           const router::Route* route) {
  stream_.timer.clear(Stream::kRequest);  // the response has started
  stream_.info.response_code = status;
  chain_.hcm.stats->responseStarted(status);
  stream_.info.response_code_details = details;
  stream_.info.response_flags |= flags;
  stream_.response.clear();
  stream_.response.status = status;
  stream_.response.version_minor = 1;
  if (!body.empty()) stream_.response.headers.add("content-type", "text/plain");
  char length[24];
  const auto [end, ec] = std::to_chars(length, length + sizeof length, body.size());
  stream_.response.headers.add("content-length", std::string_view(length, static_cast<size_t>(end - length)));
  if (!location.empty()) stream_.response.headers.add("location", location);
  stream_.response.headers.add("server", chain_.hcm.server_name);
  // Envoy's router: a request a circuit breaker dropped says so.
  if ((flags & kUpstreamOverflow) != 0) stream_.response.headers.add("x-envoy-overloaded", "true");
  if (route != nullptr) route->applyResponseHeaderMutations(stream_.response.headers);
  const bool close_after = wantsClose() || !stream_.request_body_complete;
  if (close_after) stream_.response.headers.add("connection", "close");
  out_.clear();
  http::http1::appendResponseHead(stream_.response, out_);
  if (stream_.request.method != "HEAD") out_.append(body);
  const bool written = co_await writeAll(*transport_, out_);
  stream_.info.bytes_sent = body.size();
  co_return written && !close_after;
}

asio::awaitable<bool> DownstreamConnection::serveRequest() {
  stream_.info.reset();
  stream_.request_body_complete = true;
  stream_.client_close = clientAsksToClose();
  const auto& hcm = chain_.hcm;
  // Once per request, from x-forwarded-for as it arrived: logs, hashing and forwarding read it.
  resolveDownstreamClient(stream_.request.headers, stream_.info.downstream_remote.address(), remote_ip_,
                          hcm.use_remote_address, hcm.xff_num_trusted_hops, stream_.info.downstream_client);
  // Envoy's max_requests_per_connection (downstream): the last one is answered
  // with connection: close.
  if (hcm.max_requests_per_connection > 0 && ++requests_ >= hcm.max_requests_per_connection) {
    escalate(Lifecycle::CloseAfterResponse);
  }

  auto framing = http::http1::requestFraming(stream_.request, hcm.limits);
  if (!framing.ok) {
    escalate(Lifecycle::Draining);
    co_await sendLocalReply(framing.error_status, "", framing.detail, kDownstreamProtocolError);
    co_return false;
  }
  bodies_->request.reset(framing.framing);
  stream_.request_body_complete = framing.framing.kind == Framing::Kind::None ||
                                  (framing.framing.kind == Framing::Kind::ContentLength && framing.framing.length == 0);
  if (stream_.request_body_complete) stream_.info.markRequestComplete();

  if (stream_.request.version_minor == 0) {
    // Envoy refuses HTTP/1.0 unless accept_http_10, with 426 Upgrade Required.
    if (!hcm.accept_http_10) {
      escalate(Lifecycle::Draining);
      co_await sendLocalReply(426, "", "low_version");
      co_return false;
    }
    if (!stream_.request.headers.has("host") && !hcm.default_host_for_http_10.empty()) {
      stream_.request.headers.add("host", hcm.default_host_for_http_10);
    }
  }
  // Absolute-form (RFC 9112 3.2.2): the target's authority replaces Host.
  if (const auto scheme_end = stream_.request.target.find("://");
      scheme_end != std::string::npos && stream_.request.target[0] != '/') {
    const size_t authority_start = scheme_end + 3;
    const size_t path_start = stream_.request.target.find_first_of("/?", authority_start);
    stream_.request.headers.set(
        "host", std::string_view(stream_.request.target)
                    .substr(authority_start,
                            path_start == std::string::npos ? std::string::npos : path_start - authority_start));
    stream_.request.target =
        path_start == std::string::npos ? std::string("/") : stream_.request.target.substr(path_start);
    if (stream_.request.target[0] == '?') stream_.request.target.insert(0, "/");
  }
  // The strip_*_host_port options change the Host the upstream sees too, as in Envoy.
  if (const auto host = stream_.request.headers.get("host")) {
    const auto stripped = router::stripHostPort(*host, match_options_);
    if (stripped.size() != host->size()) stream_.request.headers.set("host", std::string(stripped));
  }
  const auto authority = stream_.request.headers.get("host");
  if (!authority) {
    escalate(Lifecycle::Draining);
    co_await sendLocalReply(400, "", "missing_host_header", kDownstreamProtocolError);
    co_return false;
  }
  // Routing sees, and the upstream gets, the normalised path.
  switch (http::normalizeRequestPath(stream_.request.target, hcm.path_normalization)) {
    case http::PathVerdict::Forward:
      break;
    case http::PathVerdict::Reject:
      co_return co_await sendLocalReply(400, "", "path_normalization_failed");
    case http::PathVerdict::Redirect:
      co_return co_await sendLocalReply(307, "", "path_normalization_failed", 0, stream_.request.target);
  }
  if (framing.framing.kind == Framing::Kind::None) stream_.timer.clear(Stream::kRequest);  // the request is all read
  const uint64_t random = worker_.random();
  stream_.random = random;
  const router::RequestView view{authority.value_or(""),  stream_.request.target,
                                 stream_.request.method,  tls_ != nullptr ? "https" : "http",
                                 stream_.request.headers, remote_ip_};
  const auto& runtime = worker_.runtime();
  // An RDS table may be swapped while this request runs: the stream holds it.
  const router::RouteTable* table = hcm.routes.get();
  if (hcm.rds) table = (rds_routes_ = hcm.rds->tables[worker_.index()]).get();
  const router::Route* route = table != nullptr ? table->match(view, match_options_, runtime, random) : nullptr;
  // A body we do not read keeps the connection from being reused: answering
  // locally then closes it (sendLocalReply sees the unread body).
  if (route == nullptr) chain_.hcm.stats->no_route.inc();
  SLUICE_LOG(router, debug, "[C{}] {} {} {}: route '{}'", stream_.info.connection_id, stream_.request.method,
             stream_.request.target, authority.value_or(""), route != nullptr ? route->name() : "(none)");
  if (route == nullptr) co_return co_await sendLocalReply(404, "", "route_not_found", kNoRouteFound);
  stream_.info.route_name = route->name();
  switch (route->kind()) {
    case router::Route::Kind::kDirectResponse: {
      const auto* direct = route->directResponse();
      stream_.response.clear();
      co_return co_await sendLocalReply(static_cast<int>(direct->status), direct->body, "direct_response", 0, {},
                                        route);
    }
    case router::Route::Kind::kRedirect: {
      const std::string location = route->redirectLocation(view);
      co_return co_await sendLocalReply(static_cast<int>(route->redirect()->responseCode()), "", "direct_response", 0,
                                        location, route);
    }
    case router::Route::Kind::kForward:
      break;
  }
  co_return co_await forward(*route, framing.framing);
}

}  // namespace sluice::proxy
