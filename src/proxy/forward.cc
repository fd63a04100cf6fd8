// The router filter: sends a routed request to an upstream host and streams
// the response back. Part of DownstreamConnection (see its header).
#include <algorithm>
#include <array>
#include <asio/experimental/awaitable_operators.hpp>
#include <charconv>

#include "http/http1_serializer.h"
#include "proxy/downstream_connection.h"
#include "proxy/proxy_headers.h"
#include "proxy/worker.h"
#include "router/route.h"

namespace sluice::proxy {

using http::http1::Framing;
using http::http1::ParseStatus;

namespace {

constexpr std::string_view kConnectFailure =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
constexpr std::string_view kConnectTimeout =
    "upstream connect error or disconnect/reset before headers. reset reason: connection timeout";
constexpr std::string_view kConnectionTermination =
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
constexpr std::string_view kProtocolError =
    "upstream connect error or disconnect/reset before headers. reset reason: protocol error";

// A 1xx response other than 101 Switching Protocols: informational, dropped
// (Envoy drops them too unless proxy_100_continue); a final response follows.
bool isInterimResponse(int status) { return status >= 100 && status < 200 && status != 101; }

// Whether a request that failed on a reused connection before any response
// byte may be sent again on a new one: the peer may have processed it before
// it closed, so only methods that are safe to repeat (RFC 9110 9.2.2) are.
// PUT and DELETE are idempotent too, but a retry policy must say so (Envoy
// retries nothing unless told to).
bool isSafeToReplay(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

// How long a response may take before the client is watched for a close.
constexpr Millis kClientWatchDelay{100};

}  // namespace

asio::awaitable<DownstreamConnection::PumpResult> DownstreamConnection::pumpBody(
    network::Transport& from, network::IoBuffer& buffer, http::http1::BodyDecoder& decoder, network::Transport& to,
    bool chunked_out, bool until_close, uint64_t& bytes, size_t read_limit) {
  for (;;) {
    const auto step = decoder.decode(buffer.allocated() ? buffer.readable() : std::string_view());
    if (step.error) co_return PumpResult::Malformed;
    if (!step.data.empty()) {
      std::error_code ec;
      if (chunked_out) {
        char size_line[20];
        auto [end, conv] = std::to_chars(size_line, size_line + 16, step.data.size(), 16);
        *end++ = '\r';
        *end++ = '\n';
        const std::array<asio::const_buffer, 3> parts = {asio::buffer(size_line, static_cast<size_t>(end - size_line)),
                                                         asio::buffer(step.data.data(), step.data.size()),
                                                         asio::buffer("\r\n", 2)};
        std::tie(ec, std::ignore) = co_await to.writev(parts);
      } else {
        std::tie(ec, std::ignore) = co_await to.write(step.data);
      }
      if (ec) co_return PumpResult::SinkFailed;
      touchStream();
      bytes += step.data.size();
    }
    if (step.consumed > 0) buffer.consume(step.consumed);
    if (step.done) {
      if (chunked_out) {
        out_.clear();
        http::http1::appendLastChunk(decoder.chunked() ? &decoder.trailers() : nullptr, out_);
        if (!co_await writeAll(to, out_)) co_return PumpResult::SinkFailed;
      }
      co_return PumpResult::Done;
    }
    if (step.consumed > 0 || !step.data.empty()) continue;
    if (const auto read = co_await readMore(from, buffer, read_limit); !received(read)) {
      // Only a clean close (FIN) ends a close-delimited body; a reset cuts it.
      if (!until_close || read == ReadResult::Failed) co_return PumpResult::SourceFailed;
      if (chunked_out) {
        out_.clear();
        http::http1::appendLastChunk(nullptr, out_);
        if (!co_await writeAll(to, out_)) co_return PumpResult::SinkFailed;
      }
      co_return PumpResult::Done;
    }
  }
}

asio::awaitable<void> DownstreamConnection::awaitFinalResponse(network::Transport& upstream) {
  const auto& limits = listener_->hcm.response_limits;
  for (;;) {
    // EOF, an error or a cancel: the head loop in forward() finds out which.
    if (!received(co_await readMore(upstream, upstream_in_))) co_return;
    info_.markFirstUpstreamByte();
    // Drop every complete interim response (103 Early Hints, an unasked 100
    // Continue): they must not stop the body. Stop at anything else: a final
    // head (left in upstream_in_ for the head loop to parse again) or an error.
    while (!upstream_in_.empty()) {
      const auto head = http::http1::parseResponseHead(upstream_in_.readable(), limits, response_);
      if (head.status == ParseStatus::Incomplete) break;
      if (head.status == ParseStatus::Error || !isInterimResponse(response_.status)) co_return;
      upstream_in_.consume(head.consumed);
    }
  }
}

void DownstreamConnection::watchClient() {
  const size_t limit = std::max<size_t>(listener_->per_connection_buffer_limit_bytes, 1024);
  if (in_.allocated() && (in_.size() >= limit || in_.writable() == 0)) return;  // enough pipelined bytes held
  client_watching_ = true;
  const uint32_t generation = ++client_watch_generation_;
  transport_->waitReadable([self = shared_from_this(), generation](const std::error_code& ec) {
    if (ec || !self->client_watching_ || self->client_watch_generation_ != generation) return;
    self->onClientReadable();
  });
}

void DownstreamConnection::onClientReadable() {
  client_watching_ = false;
  const size_t limit = std::max<size_t>(listener_->per_connection_buffer_limit_bytes, 1024);
  if (!in_.allocated()) in_ = worker_.buffers().take();
  const auto read = transport_->tryRead(in_, limit - std::min(limit, in_.size()));
  if (read == ReadResult::Closed || read == ReadResult::Failed) {
    // EOF or reset: the client is gone; abandon the request upstream too.
    client_gone_ = true;
    if (upstream_transport_ != nullptr) upstream_transport_->close();
    return;
  }
  watchClient();  // Data: the next pipelined request, kept in in_ for later
}

void DownstreamConnection::stopClientWatch() {
  timer_.clear(kClientWatch);
  if (!client_watching_) return;
  client_watching_ = false;
  ++client_watch_generation_;
  transport_->cancel();
}

asio::awaitable<bool> DownstreamConnection::sendRequest(UpstreamConnection& upstream, const Framing& framing,
                                                        bool& downstream_failed) {
  if (!co_await writeAll(*upstream.transport, out_)) co_return false;
  if (framing.kind == Framing::Kind::None) co_return true;
  const bool chunked = framing.kind == Framing::Kind::Chunked;
  // The upstream may answer before the body is all sent (a 413, say): stop
  // sending then and forward its response; the client connection closes after
  // it, as its unread body cannot be skipped reliably.
  using namespace asio::experimental::awaitable_operators;
  const auto first = co_await (pumpBody(*transport_, in_, bodies_->request, *upstream.transport, chunked, false,
                                        info_.bytes_received, listener_->per_connection_buffer_limit_bytes) ||
                               awaitFinalResponse(*upstream.transport));
  if (first.index() == 1) co_return true;  // request_body_complete_ stays false
  const auto result = std::get<0>(first);
  if (result == PumpResult::Done) {
    request_body_complete_ = true;
    timer_.clear(kRequest);  // request_timeout covers the request until its last byte
    info_.markRequestComplete();
    co_return true;
  }
  downstream_failed = result == PumpResult::SourceFailed || result == PumpResult::Malformed;
  co_return false;
}

asio::awaitable<bool> DownstreamConnection::forward(const router::Route& route, const Framing& request_framing,
                                                    uint64_t random) {
  const auto& hcm = listener_->hcm;
  const auto& action = *route.forward();
  const auto& runtime = worker_.runtime();

  const std::string_view cluster_name = action.chooseCluster(request_.headers, runtime, random);
  std::shared_ptr<ClusterState> cluster = cluster_name.empty() ? nullptr : worker_.cluster(cluster_name);
  if (!cluster) {
    hcm.stats->no_cluster.inc();
    co_return co_await sendLocalReply(static_cast<int>(action.clusterNotFoundResponseCode()), "", "cluster_not_found",
                                      kNoClusterFound);
  }
  info_.upstream_cluster = cluster_name;

  // WebSocket: allowed when the connection manager enables it and the route does not disable it.
  // An h2c upgrade, or an Upgrade that Connection does not name, is no
  // upgrade at all: the request is served as plain HTTP/1.1 (Envoy does the same).
  bool upgrade = false;
  if (const auto type = request_.headers.get("upgrade");
      type && !http::equalsIgnoreCase(*type, "h2c") && hasToken(request_.headers, "connection", "upgrade")) {
    const bool enabled = http::equalsIgnoreCase(*type, "websocket") && hcm.websocket_enabled &&
                         action.upgradeEnabled(*type).value_or(true);
    if (!enabled) co_return co_await sendLocalReply(403, "", "upgrade_failed", 0, {}, &route);
    upgrade = true;
  }

  const router::RequestView view{request_.headers.get("host").value_or(""),
                                 request_.target,
                                 request_.method,
                                 "http",
                                 request_.headers,
                                 remote_ip_};
  const upstream::LbContext lb_context{action.hash(view)};
  const upstream::Host* chosen = cluster->lb->chooseHost(&lb_context);
  if (chosen == nullptr) {
    cluster->config->stats->upstream_cx_none_healthy.inc();
    co_return co_await sendLocalReply(503, "no healthy upstream", "no_healthy_upstream", kNoHealthyUpstream, {},
                                      &route);
  }
  // Shares ownership of the host set, so the host outlives any EDS update.
  const upstream::HostPtr host(cluster->hosts(), chosen);
  info_.upstream_host = host->address_string;
  // Least request reads this; released on every way out of this function,
  // which also charges the host's rq_success or rq_error (admin /clusters).
  struct ActiveRequest {
    explicit ActiveRequest(const upstream::Host& h) : host(h) {
      host.active_requests.fetch_add(1, std::memory_order_relaxed);
      host.stats->rq_active.fetch_add(1, std::memory_order_relaxed);
    }
    ~ActiveRequest() {
      host.active_requests.fetch_sub(1, std::memory_order_relaxed);
      host.stats->rq_active.fetch_sub(1, std::memory_order_relaxed);
      (status > 0 && status < 500 ? host.stats->rq_success : host.stats->rq_error)
          .fetch_add(1, std::memory_order_relaxed);
    }
    ActiveRequest(const ActiveRequest&) = delete;
    ActiveRequest& operator=(const ActiveRequest&) = delete;
    const upstream::Host& host;
    int status = 0;  // the upstream response's, once its head arrived
  } active(*host);
  const GaugeScope rq_active(cluster->config->stats->upstream_rq_active);

  // Envoy's stream idle timeout (the route's idle_timeout overrides the
  // connection manager's stream_idle_timeout; 0 disables): nothing read or
  // written for that long and the stream ends, with 408 if no response started.
  startStreamIdle(action.idleTimeout().value_or(hcm.stream_idle_timeout));
  client_gone_ = false;
  struct EndForward {
    DownstreamConnection& connection;
    ~EndForward() {
      connection.stopClientWatch();
      connection.timer_.clear(kUpstreamResponse);
      if (connection.tunnelling_) return;  // the tunnel keeps its idle timeout and upstream
      connection.startStreamIdle(Millis(0));
      connection.upstream_transport_ = nullptr;
    }
  } end_forward{*this};

  // The request as the upstream sees it.
  if (auto path = route.rewritePath(request_.target)) request_.target = std::move(*path);
  if (const auto host_rewrite = action.hostRewrite()) {
    request_.headers.set("host", std::string(*host_rewrite));
  } else if (action.autoHostRewrite()) {
    request_.headers.set("host", host->address_string);
  }
  route.applyRequestHeaderMutations(request_.headers);
  const bool expect_continue = request_.version_minor == 1 && request_framing.kind != Framing::Kind::None &&
                               hasToken(request_.headers, "expect", "100-continue");
  request_.headers.remove("expect");
  stripHopByHopHeaders(request_.headers, upgrade);
  if (upgrade) request_.headers.set("connection", "upgrade");
  const ForwardingContext forwarding{
      remote_ip_, "http", hcm.use_remote_address, hcm.xff_num_trusted_hops, worker_.random(), worker_.random()};
  applyForwardingHeaders(request_.headers, forwarding);
  if (request_framing.kind == Framing::Kind::Chunked) request_.headers.add("transfer-encoding", "chunked");
  const std::string method = request_.method;  // the response's framing depends on it
  const int client_minor = request_.version_minor;
  request_.version_minor = 1;

  // Like Envoy (proxy_100_continue off), sluice answers 100-continue itself.
  if (expect_continue && !co_await writeAll(*transport_, "HTTP/1.1 100 Continue\r\n\r\n")) co_return false;

  const bool replayable =
      isSafeToReplay(method) && (request_framing.kind == Framing::Kind::None ||
                                 (request_framing.kind == Framing::Kind::ContentLength && request_framing.length == 0));
  const auto upstream_start = std::chrono::steady_clock::now();
  std::unique_ptr<UpstreamConnection> upstream;
  bool have_head = false;
  for (int attempt = 0; !have_head; ++attempt) {
    if (upstream_in_.allocated()) upstream_in_.reset();  // nothing from an earlier connection counts
    timer_.clear(kUpstreamResponse);                     // it pointed at the previous connection
    auto acquired = co_await cluster->pool.acquire(host);
    if (!acquired.connection) {
      if (!acquired.timed_out) info_.upstream_connect_errno = acquired.error.value();
      co_return co_await sendLocalReply(503, acquired.timed_out ? kConnectTimeout : kConnectFailure,
                                        "upstream_reset_before_response_started{connection_failure}",
                                        kUpstreamConnectionFailure, {}, &route);
    }
    upstream = std::move(acquired.connection);
    upstream_transport_ = upstream->transport.get();
    info_.upstream_local = upstream->local;
    ++upstream->requests;
    cluster->config->stats->upstream_rq_total.inc();
    host->stats->rq_total.fetch_add(1, std::memory_order_relaxed);
    // A pooled connection the peer closed meanwhile fails before any response
    // byte; a request without a body is then sent once more on a new one.
    const bool may_retry = upstream->reused && attempt == 0 && replayable;
    out_.clear();
    http::http1::appendRequestHead(request_, out_);
    bool downstream_failed = false;
    if (!co_await sendRequest(*upstream, request_framing, downstream_failed)) {
      upstream->transport->close();
      if (stream_timeout_ != StreamTimeout::None) co_return co_await sendStreamTimeoutReply(&route);
      if (downstream_failed) {
        // A malformed body (a bad chunk) is the client's protocol error: 400,
        // as for a bad head, since no response has started. The upstream saw
        // none of the bytes from the bad one on.
        if (const auto failed = bodies_->request.decode({}); failed.error) {
          draining_ = true;
          co_return co_await sendLocalReply(400, "", failed.detail, kDownstreamProtocolError, {}, &route);
        }
        info_.response_flags |= kDownstreamConnectionTermination;
        co_return false;
      }
      if (may_retry) cluster->config->stats->upstream_rq_retry.inc();
      if (may_retry) continue;
      co_return co_await sendLocalReply(503, kConnectionTermination,
                                        "upstream_reset_before_response_started{connection_termination}",
                                        kUpstreamConnectionTermination, {}, &route);
    }
    if (const auto route_timeout = action.timeout()) timer_.setAfter(kUpstreamResponse, *route_timeout);
    // The response head; 1xx other than 101 are consumed here (Envoy drops them).
    bool retry = false;
    size_t head_scanned = 0;  // bytes of upstream_in_ that parsed as Incomplete
    while (!have_head) {
      if (upstream_in_.allocated() && !upstream_in_.empty() &&
          http::http1::worthReparsing(upstream_in_.readable(), head_scanned, hcm.response_limits.max_header_bytes)) {
        const auto head = http::http1::parseResponseHead(upstream_in_.readable(), hcm.response_limits, response_);
        head_scanned = upstream_in_.readable().size();
        if (head.status == ParseStatus::Error) {
          upstream->transport->close();
          co_return co_await sendLocalReply(
              502, kProtocolError, "upstream_reset_before_response_started{protocol_error}", kUpstreamProtocolError);
        }
        if (head.status == ParseStatus::Complete) {
          upstream_in_.consume(head.consumed);
          head_scanned = 0;
          if (isInterimResponse(response_.status)) continue;
          have_head = true;
          break;
        }
      }
      // Wait for the upstream, but notice a client that gives up meanwhile:
      // its request is then abandoned upstream too (Envoy resets it). The
      // client is watched only once the response is slow (kClientWatchDelay):
      // starting a watch costs a system call, and most responses come sooner.
      if (request_body_complete_ && !client_watching_ && !timer_.isSet(kClientWatch)) {
        timer_.setAfter(kClientWatch, kClientWatchDelay);
      }
      if (received(co_await readMore(*upstream->transport, upstream_in_))) {
        info_.markFirstUpstreamByte();
        continue;
      }
      upstream->transport->close();
      if (client_gone_) {
        info_.response_flags |= kDownstreamConnectionTermination;
        co_return false;
      }
      if (stream_timeout_ != StreamTimeout::None) co_return co_await sendStreamTimeoutReply(&route);
      if (timer_.expired(kUpstreamResponse)) {
        cluster->config->stats->upstream_rq_timeout.inc();
        host->stats->rq_timeout.fetch_add(1, std::memory_order_relaxed);
        co_return co_await sendLocalReply(504, "upstream request timeout", "upstream_response_timeout",
                                          kUpstreamRequestTimeout, {}, &route);
      }
      if (may_retry && upstream_in_.empty()) {
        cluster->config->stats->upstream_rq_retry.inc();
        retry = true;
        break;
      }
      co_return co_await sendLocalReply(503, kConnectionTermination,
                                        "upstream_reset_before_response_started{connection_termination}",
                                        kUpstreamConnectionTermination, {}, &route);
    }
    if (retry) continue;
  }
  stopClientWatch();

  timer_.clear(kRequest);  // the response has started
  auto framing = http::http1::responseFraming(response_, method, hcm.response_limits);
  if (!framing.ok || (response_.status == 101 && !upgrade)) {
    upstream->transport->close();
    co_return co_await sendLocalReply(502, kProtocolError, "upstream_reset_before_response_started{protocol_error}",
                                      kUpstreamProtocolError, {}, &route);
  }
  const bool upstream_keep_alive =
      !hasToken(response_.headers, "connection", "close") &&
      (response_.version_minor == 1 || hasToken(response_.headers, "connection", "keep-alive"));
  const bool switching = response_.status == 101;
  stripHopByHopHeaders(response_.headers, switching);
  if (switching) response_.headers.set("connection", "upgrade");
  response_.headers.set("server", hcm.server_name);
  const auto service_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - upstream_start).count();
  response_.headers.set("x-envoy-upstream-service-time", std::to_string(service_ms));
  cluster->config->stats->responseReceived(response_.status, static_cast<uint64_t>(service_ms));
  active.status = response_.status;
  route.applyResponseHeaderMutations(response_.headers);

  // An upgrade the upstream refused (any answer but 101) ends the connection,
  // as in Envoy: the client may already have sent upgrade payload after the
  // request, and those bytes must never be read as a next request (the
  // WebSocket smuggling trick behind a front proxy that saw only the Upgrade).
  const bool refused_upgrade = upgrade && !switching;
  bool close_downstream = wantsClose() || !request_body_complete_ || refused_upgrade;
  bool chunked_out = false;
  const auto kind = framing.framing.kind;
  if (kind == Framing::Kind::Chunked || kind == Framing::Kind::UntilClose) {
    if (client_minor == 1) {
      chunked_out = true;
      response_.headers.add("transfer-encoding", "chunked");
    } else {
      close_downstream = true;  // an HTTP/1.0 client reads to the close
    }
  }
  // The client has no framing to tell a complete body from a cut one.
  const bool client_reads_to_close =
      (kind == Framing::Kind::Chunked || kind == Framing::Kind::UntilClose) && !chunked_out;
  if (close_downstream && !switching) {
    response_.headers.add("connection", "close");
  } else if (client_minor == 0 && !switching) {
    response_.headers.add("connection", "keep-alive");
  }
  info_.response_code = response_.status;
  hcm.stats->responseStarted(response_.status);
  info_.response_code_details = "via_upstream";
  response_.version_minor = 1;
  out_.clear();
  http::http1::appendResponseHead(response_, out_);
  // A Content-Length body already read whole (a small response) goes out with
  // the head: one write (system call) instead of two.
  bool body_sent = kind == Framing::Kind::None;
  if (!body_sent && !switching) {
    bodies_->response.reset(framing.framing);
    if (kind == Framing::Kind::ContentLength && upstream_in_.allocated() &&
        upstream_in_.size() >= framing.framing.length) {
      const auto step = bodies_->response.decode(upstream_in_.readable());
      out_.append(step.data);
      info_.bytes_sent += step.data.size();
      upstream_in_.consume(step.consumed);
      body_sent = true;
    }
  }
  if (!co_await writeAll(*transport_, out_)) {
    upstream->transport->close();
    info_.response_flags |= kDownstreamConnectionTermination;
    co_return false;
  }
  if (switching) {
    timer_.clear(kUpstreamResponse);
    startTunnel(std::move(cluster), std::move(upstream));
    co_return false;
  }

  bool upstream_reusable =
      upstream_keep_alive && kind != Framing::Kind::UntilClose && request_body_complete_ && !refused_upgrade;
  if (!body_sent) {
    const auto result = co_await pumpBody(*upstream->transport, upstream_in_, bodies_->response, *transport_,
                                          chunked_out, kind == Framing::Kind::UntilClose, info_.bytes_sent,
                                          cluster->config->per_connection_buffer_limit_bytes);
    if (result != PumpResult::Done) {
      // Headers are out: the client connection closes. A client that reads
      // the body to the close (HTTP/1.0) would take a plain close for the
      // end, so it is reset (SO_LINGER 0); a chunked or content-length client
      // sees the cut in its framing, and a reset would only make the kernel
      // drop response bytes not yet delivered.
      info_.response_flags |= result == PumpResult::SinkFailed    ? kDownstreamConnectionTermination
                              : timer_.expired(kUpstreamResponse) ? kUpstreamRequestTimeout
                              : result == PumpResult::Malformed   ? kUpstreamProtocolError
                                                                  : kUpstreamConnectionTermination;
      upstream->transport->close();
      if (client_reads_to_close) abort();
      co_return false;
    }
  }
  timer_.clear(kUpstreamResponse);
  // Bytes after a complete response were never asked for: do not reuse.
  if (upstream_in_.allocated() && !upstream_in_.empty()) upstream_reusable = false;
  worker_.buffers().give(upstream_in_);
  if (upstream_reusable && !draining_) {
    cluster->pool.release(std::move(upstream));
  } else {
    upstream->transport->close();
  }
  co_return !close_downstream;
}

}  // namespace sluice::proxy
