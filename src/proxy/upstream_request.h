// UpstreamRequest: what one stream sends to one upstream host (Envoy's
// router UpstreamRequest). It holds, for as long as it lives:
//  - the cluster state (so its stats and pool outlive a CDS removal) and the
//    host (so it outlives an EDS update);
//  - the host's active-request count (least request reads it; /clusters
//    shows rq_active) and the cluster's upstream_rq_active, and on its end
//    charges the host's rq_success or rq_error by the response's status;
//  - the upstream connection and the bytes read from it, until the response
//    is done (then pooled or closed) or, after a 101, for the whole tunnel.
// An attempt acquires a connection, sends the request and reads the final
// head; how it failed is a value (UpstreamFailure), so the stream decides
// from it alone whether to try again and what to answer.
//
// Lives in its Stream (std::optional, no heap allocation); worker thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include <asio/steady_timer.hpp>

#include "http/http1_body.h"
#include "http/http1_parser.h"
#include "network/io_buffer.h"
#include "proxy/proxy_stats.h"
#include "proxy/thread_local_clusters.h"
#include "proxy/upstream_failure.h"
#include "upstream/http1_exchange.h"

namespace sluice::proxy {

struct Stream;

class UpstreamRequest {
 public:
  UpstreamRequest(std::shared_ptr<ClusterState> cluster, upstream::HostPtr host);
  ~UpstreamRequest();
  UpstreamRequest(const UpstreamRequest&) = delete;
  UpstreamRequest& operator=(const UpstreamRequest&) = delete;

  // What an attempt sends: the stream's request head as prepared for the
  // upstream, and its body (none when `body` is null).
  struct Send {
    upstream::ExchangeIo& io;
    const http::http1::Limits& response_limits;
    const upstream::Http1ClientExchange::RequestBody* body;
    // The route's timeout (0: none), from when the request is sent until the
    // response head; it closes the connection, and the attempt reports
    // ResponseTimeout (see onResponseTimeout).
    std::chrono::milliseconds timeout;
    // A failure on a reused connection before any response byte may be
    // retried (the request is safe to send twice).
    bool may_replay;
    // The retry policy's per-try timeout (0: none), from when the request is
    // sent until the response head; the attempt reports PerTryTimeout.
    std::chrono::milliseconds per_try_timeout{0};
    // A request body read whole beforehand so that a retry can send it
    // again (then `body` is null): sent with the head.
    std::string_view buffered_body{};
  };
  // One attempt: acquire a connection (an idle pooled one or a new one),
  // send, await the final head into `stream.response`. The failure names
  // only what the upstream side saw: the stream adds its own facts (its
  // timeouts, a client that left) before acting on it.
  asio::awaitable<UpstreamFailure> attempt(Stream& stream, const Send& send);

  // The route's timeout passed (the stream's timer): closes the connection,
  // which ends the pending read; the attempt or the body pump sees it.
  void onResponseTimeout();
  bool timedOut() const { return timed_out_; }
  // The per-try timeout passed (the stream's timer): closes the connection.
  void onPerTryTimeout();
  // While a retry waits for its back-off: the timer that the route's
  // timeout, a stream timeout or a client that left cancels (closeConnection).
  void setBackOffTimer(asio::steady_timer* timer) { back_off_ = timer; }
  // Closes the connection (a stream timeout, the client left); pending I/O fails.
  void closeConnection();

  // The response is done: pools the connection when `reusable` (and nothing
  // unasked-for followed the response), else closes it.
  void finish(bool reusable, network::BufferPool& buffers);

  ClusterState& cluster() { return *cluster_; }
  const upstream::Host& host() const { return *host_; }
  UpstreamConnection* connection() { return connection_.get(); }
  network::IoBuffer& buffer() { return in_; }  // bytes read from the upstream, not yet used
  // The response's status, for the host's rq_success / rq_error and its
  // outlier detection.
  void setStatus(int status);
  // An attempt failed (after the stream's own facts were added): a failure
  // of the host's counts for its outlier detection; one of the client's or
  // a retried stale connection's does not.
  void reportFailure(const UpstreamFailure& failure);

 private:
  UpstreamFailure sendFailed(upstream::Http1ClientExchange::BodyResult sent, const Send& send, bool may_retry);
  UpstreamFailure headFailed(upstream::Http1ClientExchange::HeadResult head, bool may_retry);

  std::shared_ptr<ClusterState> cluster_;
  upstream::HostPtr host_;
  GaugeScope rq_active_;         // the cluster's upstream_rq_active
  BreakerHold request_breaker_;  // one of the cluster's max_requests, from the first attempt on
  std::unique_ptr<UpstreamConnection> connection_;
  network::IoBuffer in_;
  int status_ = 0;
  bool timed_out_ = false;
  bool per_try_timed_out_ = false;
  asio::steady_timer* back_off_ = nullptr;
  bool refused_ = false;  // max_requests refused it: not counted in the host's rq_success / rq_error
};

}  // namespace sluice::proxy
