#include "proxy/upstream_request.h"

#include "http/http1_serializer.h"
#include "proxy/stream.h"
#include "proxy/upstream_pool.h"

namespace sluice::proxy {

using Kind = UpstreamFailure::Kind;
using Body = upstream::Http1ClientExchange::BodyResult;
using Head = upstream::Http1ClientExchange::HeadResult;

UpstreamRequest::UpstreamRequest(std::shared_ptr<ClusterState> cluster, upstream::HostPtr host)
    : cluster_(std::move(cluster)), host_(std::move(host)), rq_active_(cluster_->config->stats->upstream_rq_active) {
  host_->active_requests.fetch_add(1, std::memory_order_relaxed);
  host_->stats->rq_active.fetch_add(1, std::memory_order_relaxed);
}

UpstreamRequest::~UpstreamRequest() {
  host_->active_requests.fetch_sub(1, std::memory_order_relaxed);
  host_->stats->rq_active.fetch_sub(1, std::memory_order_relaxed);
  // A request a circuit breaker refused was never the host's.
  if (!refused_) {
    (status_ > 0 && status_ < 500 ? host_->stats->rq_success : host_->stats->rq_error)
        .fetch_add(1, std::memory_order_relaxed);
  }
  connection_.reset();  // its stats live in the cluster, released after it
}

void UpstreamRequest::onResponseTimeout() {
  timed_out_ = true;
  closeConnection();
}

void UpstreamRequest::onPerTryTimeout() {
  per_try_timed_out_ = true;
  if (connection_) connection_->transport->close();
}

void UpstreamRequest::closeConnection() {
  if (connection_) connection_->transport->close();
  if (back_off_ != nullptr) back_off_->cancel();
}

asio::awaitable<UpstreamFailure> UpstreamRequest::attempt(Stream& stream, const Send& send) {
  // Acquire a connection; nothing read from an earlier one counts.
  if (in_.allocated()) in_.reset();
  connection_.reset();
  per_try_timed_out_ = false;
  stream.timer.clear(Stream::kPerTry);
  const ClusterConfig& config = *cluster_->config;
  if (!request_breaker_) {
    request_breaker_ = tryHold(config.stats->requests, config.breakers, config.breakers.max_requests);
    if (!request_breaker_) {
      refused_ = true;
      config.stats->upstream_rq_pending_overflow.inc();  // Envoy counts max_requests here too
      co_return UpstreamFailure{Kind::Overflow, false, kUpstreamOverflow};
    }
  }
  auto acquired = co_await cluster_->pool.acquire(host_);
  if (acquired.overflow) co_return UpstreamFailure{Kind::Overflow, false, kUpstreamOverflow};
  if (!acquired.connection) {
    if (!acquired.timed_out) stream.info.upstream_connect_errno = acquired.error.value();
    co_return UpstreamFailure{acquired.timed_out ? Kind::ConnectTimeout : Kind::ConnectFailure, false,
                              kUpstreamConnectionFailure};
  }
  connection_ = std::move(acquired.connection);
  if (const auto& outlier = cluster_->config->outlier) {
    outlier->putLocalOrigin(host_, upstream::LocalOriginResult::ConnectSuccess);
  }
  stream.info.upstream_local = connection_->local;
  ++connection_->requests;
  cluster_->config->stats->upstream_rq_total.inc();
  host_->stats->rq_total.fetch_add(1, std::memory_order_relaxed);
  // A pooled connection the peer closed meanwhile fails before any response
  // byte; a request that is safe to repeat is then sent once more on a new one.
  const bool may_retry = connection_->reused && send.may_replay;

  // Send the request. (The steps await the exchange directly: a coroutine
  // frame per step would cost more than the rest of the step on this path.)
  upstream::Http1ClientExchange exchange(send.io, *connection_->transport, in_, send.response_limits, stream.response);
  send.io.scratch.clear();
  http::http1::appendRequestHead(stream.request, send.io.scratch);
  send.io.scratch.append(send.buffered_body);
  if (!co_await exchange.sendHead(send.io.scratch)) co_return sendFailed(Body::UpstreamFailed, send, may_retry);
  if (send.body != nullptr) {
    const auto sent = co_await exchange.sendBody(*send.body);
    if (sent == Body::Sent) {
      stream.request_body_complete = true;
      stream.timer.clear(Stream::kRequest);  // request_timeout covers the request until its last byte
      stream.info.markRequestComplete();
    } else if (sent != Body::EarlyResponse) {
      co_return sendFailed(sent, send, may_retry);
    }
    // An early response (the upstream answered before the body was all sent,
    // a 413 say) is forwarded; the client connection closes after it, as its
    // unread body cannot be skipped reliably (request_body_complete stays false).
  }

  // Await the final head. The route's timeout is armed once, when the
  // request has been sent the first time: it bounds every try and back-off.
  if (!stream.timer.isSet(Stream::kUpstreamResponse)) stream.timer.setAfter(Stream::kUpstreamResponse, send.timeout);
  if (send.per_try_timeout.count() > 0) stream.timer.setAfter(Stream::kPerTry, send.per_try_timeout);
  const auto head = co_await exchange.readFinalHead();
  if (head == Head::Head) {
    stream.timer.clear(Stream::kPerTry);  // a try's timeout ends at its head
    co_return UpstreamFailure{};
  }
  co_return headFailed(head, may_retry);
}

UpstreamFailure UpstreamRequest::sendFailed(Body sent, const Send& send, bool may_retry) {
  closeConnection();
  if (sent == Body::DownstreamFailed) {
    // A malformed body (a bad chunk) is the client's protocol error: 400, as
    // for a bad head, since no response has started. The upstream saw none
    // of the bytes from the bad one on.
    if (const auto failed = send.body->decoder.decode({}); failed.error) {
      return UpstreamFailure{Kind::DownstreamMalformed, false, kDownstreamProtocolError, failed.detail};
    }
    return UpstreamFailure{Kind::DownstreamGone, false, kDownstreamConnectionTermination};
  }
  return UpstreamFailure{Kind::ConnectionTermination, may_retry, kUpstreamConnectionTermination};
}

UpstreamFailure UpstreamRequest::headFailed(Head head, bool may_retry) {
  closeConnection();
  if (head == Head::Malformed) return UpstreamFailure{Kind::ProtocolError, false, kUpstreamProtocolError};
  if (timed_out_) {
    cluster_->config->stats->upstream_rq_timeout.inc();
    host_->stats->rq_timeout.fetch_add(1, std::memory_order_relaxed);
    return UpstreamFailure{Kind::ResponseTimeout, false, kUpstreamRequestTimeout};
  }
  if (per_try_timed_out_) {
    cluster_->config->stats->upstream_rq_per_try_timeout.inc();
    return UpstreamFailure{Kind::PerTryTimeout, false, kUpstreamRequestTimeout};
  }
  // Retried only when nothing of a response arrived.
  return UpstreamFailure{Kind::ConnectionTermination, may_retry && in_.empty(), kUpstreamConnectionTermination};
}

void UpstreamRequest::setStatus(int status) {
  status_ = status;
  if (const auto& outlier = cluster_->config->outlier) outlier->putHttpStatus(host_, status);
}

void UpstreamRequest::reportFailure(const UpstreamFailure& failure) {
  const auto& outlier = cluster_->config->outlier;
  if (!outlier || failure.retryable) return;
  switch (failure.kind) {
    case Kind::ConnectFailure:
    case Kind::ConnectTimeout:
    case Kind::ConnectionTermination:
    case Kind::ProtocolError:
      outlier->putLocalOrigin(host_, upstream::LocalOriginResult::ConnectFailed);
      break;
    case Kind::ResponseTimeout:
    case Kind::PerTryTimeout:
      outlier->putLocalOrigin(host_, upstream::LocalOriginResult::Timeout);
      break;
    case Kind::None:
    case Kind::StreamTimeout:
    case Kind::DownstreamGone:
    case Kind::DownstreamMalformed:
    case Kind::Overflow:  // the cluster's limit, not the host's fault
      break;
  }
}

void UpstreamRequest::finish(bool reusable, network::BufferPool& buffers) {
  if (!connection_) return;
  // Bytes after a complete response were never asked for: do not reuse.
  if (in_.allocated() && !in_.empty()) reusable = false;
  buffers.give(in_);
  if (reusable) {
    cluster_->pool.release(std::move(connection_));
  } else {
    connection_->transport->close();
    connection_.reset();
  }
}

}  // namespace sluice::proxy
