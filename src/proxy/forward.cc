// The router filter: sends a routed request to an upstream host and streams
// the response back, one step per function: pick the cluster and host,
// prepare the request, attempt (stream_.upstream, an UpstreamRequest:
// acquire a connection, send, await the final head; a failure is an
// UpstreamFailure value), then forward the response or answer the failure.
// The HTTP/1 client exchange itself is upstream/http1_exchange.h. Part of
// DownstreamConnection (see its header).
#include <algorithm>

#include "http/http1_serializer.h"
#include "network/asio_util.h"
#include "proxy/downstream_connection.h"
#include "proxy/proxy_headers.h"
#include "proxy/retry_state.h"
#include "proxy/worker.h"
#include "router/route.h"

namespace sluice::proxy {

using http::http1::Framing;
using Kind = UpstreamFailure::Kind;

namespace {

constexpr std::string_view kConnectFailure =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
constexpr std::string_view kConnectTimeout =
    "upstream connect error or disconnect/reset before headers. reset reason: connection timeout";
constexpr std::string_view kConnectionTermination =
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
constexpr std::string_view kOverflow =
    "upstream connect error or disconnect/reset before headers. reset reason: overflow";
constexpr std::string_view kProtocolError =
    "upstream connect error or disconnect/reset before headers. reset reason: protocol error";

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
    stream_.client_gone = true;
    if (stream_.upstream) stream_.upstream->closeConnection();
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

void DownstreamConnection::onAwaitingHead() {
  // Wait for the upstream, but notice a client that gives up meanwhile: its
  // request is then abandoned upstream too (Envoy resets it). The client is
  // watched only once the response is slow (kClientWatchDelay): starting a
  // watch costs a system call, and most responses come sooner.
  if (stream_.request_body_complete && !client_watching_ && !timer_.isSet(kClientWatch)) {
    timer_.setAfter(kClientWatch, kClientWatchDelay);
  }
}

asio::awaitable<bool> DownstreamConnection::forward(const router::Route& route, const Framing& request_framing) {
  const auto& hcm = chain_.hcm;
  const auto& action = *route.forward();

  // The cluster.
  const std::string_view cluster_name =
      action.chooseClusterSpread(stream_.request.headers, worker_.runtime(), worker_.spread());
  std::shared_ptr<ClusterState> cluster = cluster_name.empty() ? nullptr : worker_.cluster(cluster_name);
  if (!cluster) {
    hcm.stats->no_cluster.inc();
    co_return co_await sendLocalReply(static_cast<int>(action.clusterNotFoundResponseCode()), "", "cluster_not_found",
                                      kNoClusterFound);
  }
  stream_.info.upstream_cluster = cluster_name;

  // WebSocket: allowed when the connection manager enables it and the route does not disable it.
  // An h2c upgrade, or an Upgrade that Connection does not name, is no
  // upgrade at all: the request is served as plain HTTP/1.1 (Envoy does the same).
  bool upgrade = false;
  if (const auto type = stream_.request.headers.get("upgrade");
      type && !http::equalsIgnoreCase(*type, "h2c") && hasToken(stream_.request.headers, "connection", "upgrade")) {
    const bool enabled = http::equalsIgnoreCase(*type, "websocket") && hcm.websocket_enabled &&
                         action.upgradeEnabled(*type).value_or(true);
    if (!enabled) co_return co_await sendLocalReply(403, "", "upgrade_failed", 0, {}, &route);
    upgrade = true;
  }

  // The host.
  const router::RequestView view{stream_.request.headers.get("host").value_or(""),
                                 stream_.request.target,
                                 stream_.request.method,
                                 "http",
                                 stream_.request.headers,
                                 stream_.info.downstream_client.ip()};
  const upstream::LbContext lb_context{action.hash(view)};
  const upstream::Host* chosen = cluster->chooseHost(&lb_context);
  if (chosen == nullptr) {
    cluster->config->stats->upstream_cx_none_healthy.inc();
    co_return co_await sendLocalReply(503, "no healthy upstream", "no_healthy_upstream", kNoHealthyUpstream, {},
                                      &route);
  }
  // Shares ownership of the host set, so the host outlives any EDS update.
  stream_.info.upstream_host = chosen->address_string;
  stream_.upstream.emplace(cluster, upstream::HostPtr(cluster->hosts(), chosen));

  // Envoy's stream idle timeout (the route's idle_timeout overrides the
  // connection manager's stream_idle_timeout; 0 disables): nothing read or
  // written for that long and the stream ends, with 408 if no response started.
  stream_.startIdle(action.idleTimeout().value_or(hcm.stream_idle_timeout));
  stream_.client_gone = false;
  stream_.attempt_count = 0;
  struct EndForward {
    DownstreamConnection& connection;
    ~EndForward() {
      connection.stopClientWatch();
      auto& stream = connection.stream_;
      stream.timer.clear(Stream::kUpstreamResponse);
      stream.timer.clear(Stream::kPerTry);
      if (stream.state.tunnelling()) return;  // the tunnel keeps its idle timeout and upstream
      stream.startIdle(Millis(0));
      if (connection.worker_.stopped()) return;  // destroyed with the event loop: the buffer pool is gone
      connection.worker_.buffers().give(stream.upstream->buffer());
      stream.upstream.reset();
    }
  } end_forward{*this};

  const PreparedRequest request = prepareUpstreamRequest(route, stream_.upstream->host(), upgrade, request_framing);
  // Like Envoy (proxy_100_continue off), sluice answers 100-continue itself.
  if (request.expect_continue && !co_await writeAll(*transport_, "HTTP/1.1 100 Continue\r\n\r\n")) co_return false;

  // The retry policy (after the forwarding headers: they decide whether the
  // request is internal, which its x-envoy-retry-* headers need).
  RetryState retry(action.retryPolicy(), request.retry_headers, stream_.info.downstream_client.internal);
  if (upgrade) retry.disable();  // a tunnel is never sent twice
  const upstream::Http1ClientExchange::RequestBody body{*transport_,
                                                        in_,
                                                        bodies_->request,
                                                        request_framing.kind == Framing::Kind::Chunked,
                                                        stream_.info.bytes_received,
                                                        listener_->per_connection_buffer_limit_bytes};
  UpstreamRequest::Send send{io_, hcm.response_limits, request_framing.kind == Framing::Kind::None ? nullptr : &body,
                             action.timeout().value_or(Millis(0)), request.replayable};
  // A body is retried only when it was kept whole (Envoy buffers it within
  // the route's per_request_buffer_limit_bytes); not allocated otherwise.
  std::string kept_body;
  if (retry.enabled()) {
    send.per_try_timeout = perTryTimeout(retry);
    if (send.body != nullptr) {
      const auto kept = co_await keepRequestBody(route, request_framing, kept_body);
      if (kept) co_return co_await replyToFailure(kept, route);
      if (kept_body.size() == request_framing.length && request_framing.kind == Framing::Kind::ContentLength &&
          stream_.request_body_complete) {
        send.body = nullptr;
        send.buffered_body = kept_body;
      } else {
        retry.disable();
        cluster->config->stats->retry_or_shadow_abandoned.inc();
      }
    }
  }

  // Attempts until one has a final head or fails in a way not retried. (The
  // attempt is awaited here directly: a coroutine frame around it would cost
  // more than the rest of the step.)
  const bool count_attempts = route.virtualHost().includeRequestAttemptCount();
  const auto upstream_start = std::chrono::steady_clock::now();
  for (;;) {
    ++stream_.attempt_count;
    if (count_attempts) stream_.request.headers.set("x-envoy-attempt-count", std::to_string(stream_.attempt_count));
    const auto failure = withStreamFacts(co_await stream_.upstream->attempt(stream_, send));
    if (!failure && !retry.enabled()) break;
    RetryState::Decision decision = RetryState::Decision::No;
    const ClusterConfig& config = *stream_.upstream->cluster().config;
    if (!failure) {
      decision = retry.onResponse(stream_.response.status, stream_.response.headers, *config.stats, config.breakers);
      if (decision != RetryState::Decision::Retry) {
        if (decision == RetryState::Decision::LimitExceeded) stream_.info.response_flags |= kUpstreamRetryLimitExceeded;
        break;
      }
      discardRetriedResponse(upstream_start);
    } else {
      stream_.upstream->reportFailure(failure);
      if (failure.retryable && send.may_replay) {  // a stale pooled connection: once more on a new one
        send.may_replay = false;
        cluster->config->stats->upstream_rq_retry.inc();
        continue;
      }
      if (retry.enabled()) decision = retry.onFailure(failure, *config.stats, config.breakers);
      if (decision != RetryState::Decision::Retry) {
        if (decision == RetryState::Decision::LimitExceeded) stream_.info.response_flags |= kUpstreamRetryLimitExceeded;
        co_return co_await replyToFailure(failure, route);
      }
    }
    send.may_replay = false;
    if (const auto interrupted = co_await backOff(retry)) co_return co_await replyToFailure(interrupted, route);
    if (!nextTry(retry, lb_context, cluster)) {
      cluster->config->stats->upstream_cx_none_healthy.inc();
      co_return co_await sendLocalReply(503, "no healthy upstream", "no_healthy_upstream", kNoHealthyUpstream, {},
                                        &route);
    }
  }
  stopClientWatch();
  co_return co_await forwardResponse(route, request, upstream_start);
}

Millis DownstreamConnection::perTryTimeout(const RetryState& retry) const {
  const Millis per_try = retry.perTryTimeout();
  const Millis idle = retry.perTryIdleTimeout();
  if (per_try.count() == 0) return idle;
  if (idle.count() == 0) return per_try;
  return std::min(per_try, idle);
}

asio::awaitable<UpstreamFailure> DownstreamConnection::keepRequestBody(const router::Route& route,
                                                                       const Framing& framing, std::string& kept) {
  const uint32_t limit = route.perRequestBufferLimit().value_or(listener_->per_connection_buffer_limit_bytes);
  if (framing.kind != Framing::Kind::ContentLength || framing.length > limit) co_return UpstreamFailure{};
  kept.reserve(framing.length);
  const auto read =
      co_await upstream::readBody(io_, *transport_, in_, bodies_->request, kept, stream_.info.bytes_received,
                                  listener_->per_connection_buffer_limit_bytes);
  switch (read) {
    case upstream::PumpResult::Done:
      stream_.request_body_complete = true;
      stream_.timer.clear(Stream::kRequest);  // request_timeout covers the request until its last byte
      stream_.info.markRequestComplete();
      co_return UpstreamFailure{};
    case upstream::PumpResult::Malformed:
      if (const auto failed = bodies_->request.decode({}); failed.error) {
        co_return UpstreamFailure{Kind::DownstreamMalformed, false, kDownstreamProtocolError, failed.detail};
      }
      [[fallthrough]];
    case upstream::PumpResult::SourceFailed:
    case upstream::PumpResult::SinkFailed:
      break;
  }
  co_return withStreamFacts(UpstreamFailure{Kind::DownstreamGone, false, kDownstreamConnectionTermination});
}

void DownstreamConnection::discardRetriedResponse(std::chrono::steady_clock::time_point upstream_start) {
  // The head is counted as any other (upstream_rq_<code>, the host's
  // outlier detection); its connection is closed rather than read to the end.
  auto& upstream = *stream_.upstream;
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - upstream_start).count();
  upstream.cluster().config->stats->responseReceived(stream_.response.status, static_cast<uint64_t>(ms));
  upstream.setStatus(stream_.response.status);
  upstream.closeConnection();
  stream_.response = http::http1::ResponseHead();
}

asio::awaitable<UpstreamFailure> DownstreamConnection::backOff(const RetryState& retry) {
  auto& upstream = *stream_.upstream;
  upstream.cluster().config->stats->upstream_rq_retry_backoff_exponential.inc();
  asio::steady_timer timer(worker_.io(), retry.backOff(worker_.random()));
  upstream.setBackOffTimer(&timer);
  co_await timer.async_wait(network::kNoThrow);
  upstream.setBackOffTimer(nullptr);
  // The route's timeout, a stream timeout or a client that left ends the wait.
  if (upstream.timedOut()) {
    upstream.cluster().config->stats->upstream_rq_timeout.inc();
    co_return UpstreamFailure{Kind::ResponseTimeout, false, kUpstreamRequestTimeout};
  }
  const auto facts = withStreamFacts(UpstreamFailure{Kind::ConnectionTermination});
  co_return facts.kind == Kind::ConnectionTermination ? UpstreamFailure{} : facts;
}

bool DownstreamConnection::nextTry(RetryState& retry, const upstream::LbContext& lb_context,
                                   const std::shared_ptr<ClusterState>& cluster) {
  auto& previous = *stream_.upstream;
  retry.tried(&previous.host());
  const upstream::Host* chosen = nullptr;
  const uint32_t picks = retry.previousHosts() ? std::max<uint32_t>(1, retry.hostSelectionMaxAttempts()) : 1;
  for (uint32_t i = 0; i < picks; ++i) {
    chosen = cluster->chooseHost(&lb_context);
    if (chosen == nullptr || !retry.previousHosts() || !retry.triedBefore(chosen)) break;
  }
  if (chosen == nullptr) return false;
  worker_.buffers().give(previous.buffer());
  stream_.upstream.reset();
  stream_.info.upstream_host = chosen->address_string;
  stream_.upstream.emplace(cluster, upstream::HostPtr(cluster->hosts(), chosen));
  return true;
}

DownstreamConnection::PreparedRequest DownstreamConnection::prepareUpstreamRequest(const router::Route& route,
                                                                                   const upstream::Host& host,
                                                                                   bool upgrade,
                                                                                   const Framing& framing) {
  const auto& hcm = chain_.hcm;
  const auto& action = *route.forward();
  if (auto path = route.rewritePath(stream_.request.target)) stream_.request.target = std::move(*path);
  if (const auto host_rewrite = action.hostRewrite()) {
    stream_.request.headers.set("host", std::string(*host_rewrite));
  } else if (action.autoHostRewrite()) {
    stream_.request.headers.set("host", host.address_string);
  }
  route.applyRequestHeaderMutations(stream_.request.headers);
  PreparedRequest request;
  request.upgrade = upgrade;
  request.expect_continue = stream_.request.version_minor == 1 && framing.kind != Framing::Kind::None &&
                            hasToken(stream_.request.headers, "expect", "100-continue");
  stream_.request.headers.remove("expect");
  stripHopByHopHeaders(stream_.request.headers, upgrade, &request.retry_headers);
  if (upgrade) stream_.request.headers.set("connection", "upgrade");
  const ForwardingContext forwarding{remote_ip_,
                                     tls_ != nullptr ? "https" : "http",
                                     hcm.use_remote_address,
                                     hcm.xff_num_trusted_hops,
                                     worker_.random(),
                                     worker_.random(),
                                     &stream_.info.downstream_client};
  applyForwardingHeaders(stream_.request.headers, forwarding);
  if (framing.kind == Framing::Kind::Chunked) stream_.request.headers.add("transfer-encoding", "chunked");
  request.method = stream_.request.method;  // the response's framing depends on it
  request.client_minor = stream_.request.version_minor;
  stream_.request.version_minor = 1;
  request.replayable =
      isSafeToReplay(request.method) &&
      (framing.kind == Framing::Kind::None || (framing.kind == Framing::Kind::ContentLength && framing.length == 0));
  return request;
}

UpstreamFailure DownstreamConnection::withStreamFacts(UpstreamFailure failure) const {
  // The stream's own facts explain a failed read or write first: the
  // upstream connection was closed because the client left or a stream
  // timeout passed (a response that does not parse is the upstream's).
  if (!failure || failure.kind == Kind::ProtocolError) return failure;
  if (stream_.client_gone) return UpstreamFailure{Kind::DownstreamGone, false, kDownstreamConnectionTermination};
  if (stream_.timeout != StreamTimeout::None) return UpstreamFailure{Kind::StreamTimeout};
  // The route's timeout passed while a retry connected: no further try.
  if (failure.kind != Kind::ResponseTimeout && stream_.upstream && stream_.upstream->timedOut()) {
    return UpstreamFailure{Kind::ResponseTimeout, false, kUpstreamRequestTimeout};
  }
  return failure;
}

asio::awaitable<bool> DownstreamConnection::replyToFailure(const UpstreamFailure& failure, const router::Route& route) {
  switch (failure.kind) {
    case Kind::ConnectFailure:
    case Kind::ConnectTimeout:
      co_return co_await sendLocalReply(503, failure.kind == Kind::ConnectTimeout ? kConnectTimeout : kConnectFailure,
                                        "upstream_reset_before_response_started{connection_failure}",
                                        failure.response_flag, {}, &route);
    case Kind::ConnectionTermination:
      co_return co_await sendLocalReply(503, kConnectionTermination,
                                        "upstream_reset_before_response_started{connection_termination}",
                                        failure.response_flag, {}, &route);
    case Kind::ProtocolError:
      co_return co_await sendLocalReply(502, kProtocolError, "upstream_reset_before_response_started{protocol_error}",
                                        failure.response_flag);
    case Kind::ResponseTimeout:
    case Kind::PerTryTimeout:
      co_return co_await sendLocalReply(504, "upstream request timeout", "upstream_response_timeout",
                                        failure.response_flag, {}, &route);
    case Kind::StreamTimeout:
      co_return co_await sendStreamTimeoutReply(&route);
    case Kind::Overflow:  // x-envoy-overloaded: true goes with the UO flag (sendLocalReply)
      co_return co_await sendLocalReply(503, kOverflow, "upstream_reset_before_response_started{overflow}",
                                        failure.response_flag, {}, &route);
    case Kind::DownstreamMalformed:
      escalate(Lifecycle::Draining);
      co_return co_await sendLocalReply(400, "", failure.detail, failure.response_flag, {}, &route);
    case Kind::DownstreamGone:
    case Kind::None:
      break;
  }
  stream_.info.response_flags |= failure.response_flag;
  co_return false;
}

asio::awaitable<bool> DownstreamConnection::forwardResponse(const router::Route& route, const PreparedRequest& request,
                                                            std::chrono::steady_clock::time_point upstream_start) {
  const auto& hcm = chain_.hcm;
  auto& upstream = *stream_.upstream;
  auto& upstream_in = upstream.buffer();
  const ClusterConfig& cluster = *upstream.cluster().config;
  stream_.timer.clear(Stream::kRequest);  // the response has started
  auto framing = http::http1::responseFraming(stream_.response, request.method, hcm.response_limits);
  if (!framing.ok || (stream_.response.status == 101 && !request.upgrade)) {
    upstream.closeConnection();
    co_return co_await sendLocalReply(502, kProtocolError, "upstream_reset_before_response_started{protocol_error}",
                                      kUpstreamProtocolError, {}, &route);
  }
  const bool upstream_keep_alive =
      !hasToken(stream_.response.headers, "connection", "close") &&
      (stream_.response.version_minor == 1 || hasToken(stream_.response.headers, "connection", "keep-alive"));
  const bool switching = stream_.response.status == 101;
  stripHopByHopHeaders(stream_.response.headers, switching);
  // Envoy's router: the header tells the health checker, never the client.
  if (stream_.response.headers.remove("x-envoy-immediate-health-check-fail") != 0 && cluster.health_monitor)
      [[unlikely]] {
    cluster.health_monitor->immediateFailure(upstream.host().address_string);
  }
  if (switching) stream_.response.headers.set("connection", "upgrade");
  stream_.response.headers.set("server", hcm.server_name);
  const auto service_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - upstream_start).count();
  stream_.response.headers.set("x-envoy-upstream-service-time", std::to_string(service_ms));
  if (route.virtualHost().includeAttemptCountInResponse()) {
    stream_.response.headers.set("x-envoy-attempt-count", std::to_string(stream_.attempt_count));
  }
  cluster.stats->responseReceived(stream_.response.status, static_cast<uint64_t>(service_ms));
  upstream.setStatus(stream_.response.status);
  route.applyResponseHeaderMutations(stream_.response.headers);

  // An upgrade the upstream refused (any answer but 101) ends the connection,
  // as in Envoy: the client may already have sent upgrade payload after the
  // request, and those bytes must never be read as a next request (the
  // WebSocket smuggling trick behind a front proxy that saw only the Upgrade).
  const bool refused_upgrade = request.upgrade && !switching;
  bool close_downstream = wantsClose() || !stream_.request_body_complete || refused_upgrade;
  bool chunked_out = false;
  const auto kind = framing.framing.kind;
  if (kind == Framing::Kind::Chunked || kind == Framing::Kind::UntilClose) {
    if (request.client_minor == 1) {
      chunked_out = true;
      stream_.response.headers.add("transfer-encoding", "chunked");
    } else {
      close_downstream = true;  // an HTTP/1.0 client reads to the close
    }
  }
  // The client has no framing to tell a complete body from a cut one.
  const bool client_reads_to_close =
      (kind == Framing::Kind::Chunked || kind == Framing::Kind::UntilClose) && !chunked_out;
  if (close_downstream && !switching) {
    stream_.response.headers.add("connection", "close");
  } else if (request.client_minor == 0 && !switching) {
    stream_.response.headers.add("connection", "keep-alive");
  }
  stream_.info.response_code = stream_.response.status;
  hcm.stats->responseStarted(stream_.response.status);
  stream_.info.response_code_details = "via_upstream";
  stream_.response.version_minor = 1;
  out_.clear();
  http::http1::appendResponseHead(stream_.response, out_);
  // A Content-Length body already read whole (a small response) goes out with
  // the head: one write (system call) instead of two.
  bool body_sent = kind == Framing::Kind::None;
  if (!body_sent && !switching) {
    bodies_->response.reset(framing.framing);
    if (kind == Framing::Kind::ContentLength && upstream_in.allocated() &&
        upstream_in.size() >= framing.framing.length) {
      const auto step = bodies_->response.decode(upstream_in.readable());
      out_.append(step.data);
      stream_.info.bytes_sent += step.data.size();
      upstream_in.consume(step.consumed);
      body_sent = true;
    }
  }
  if (!co_await writeAll(*transport_, out_)) {
    upstream.closeConnection();
    stream_.info.response_flags |= kDownstreamConnectionTermination;
    co_return false;
  }
  if (switching) {
    stream_.timer.clear(Stream::kUpstreamResponse);
    startTunnel();
    co_return false;
  }

  bool upstream_reusable =
      upstream_keep_alive && kind != Framing::Kind::UntilClose && stream_.request_body_complete && !refused_upgrade;
  if (!body_sent) {
    upstream::Http1ClientExchange exchange(io_, *upstream.connection()->transport, upstream_in, hcm.response_limits,
                                           stream_.response);
    const auto result = co_await exchange.pumpResponseBody(bodies_->response, *transport_, chunked_out,
                                                           kind == Framing::Kind::UntilClose, stream_.info.bytes_sent,
                                                           cluster.per_connection_buffer_limit_bytes);
    if (result != upstream::PumpResult::Done) {
      // Headers are out: the client connection closes. A client that reads
      // the body to the close (HTTP/1.0) would take a plain close for the
      // end, so it is reset (SO_LINGER 0); a chunked or content-length client
      // sees the cut in its framing, and a reset would only make the kernel
      // drop response bytes not yet delivered.
      stream_.info.response_flags |= result == upstream::PumpResult::SinkFailed  ? kDownstreamConnectionTermination
                                     : upstream.timedOut()                       ? kUpstreamRequestTimeout
                                     : result == upstream::PumpResult::Malformed ? kUpstreamProtocolError
                                                                                 : kUpstreamConnectionTermination;
      upstream.closeConnection();
      if (client_reads_to_close) abort();
      co_return false;
    }
  }
  stream_.timer.clear(Stream::kUpstreamResponse);
  upstream.finish(upstream_reusable && lifecycle_ < Lifecycle::Draining, worker_.buffers());
  co_return !close_downstream;
}

}  // namespace sluice::proxy
