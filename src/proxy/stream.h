// Stream: one request/response exchange on a downstream connection: its
// phase, its heads, its access-log record, its timeouts, its upstream request
// and what ended it. The connection (DownstreamConnection) owns the
// transport, the codec buffers, the keep-alive and drain lifecycle and the
// connection's own timeouts (idle, max_connection_duration); HTTP/1 carries
// one stream at a time, so it holds one Stream and resets it per request. A
// connection that multiplexes (HTTP/2) holds one per stream id, each with its
// own timer. Worker thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "http/http1_parser.h"
#include "network/slot_timer.h"
#include "proxy/stream_info.h"
#include "proxy/stream_state.h"
#include "proxy/upstream_request.h"

namespace sluice::proxy {

// What ended a stream early; each answers 408 with Envoy's text if no
// response has started.
enum class StreamTimeout : uint8_t { None, Idle, RequestHeaders, Request, MaxDuration };

struct Stream;

// Whoever carries the stream acts on its timeouts (it owns the transport the
// stream's I/O waits on).
class StreamOwner {
 public:
  virtual void onStreamDeadline(Stream& stream, size_t slot) = 0;

 protected:
  ~StreamOwner() = default;
};

struct Stream {
  // The stream's deadlines (network/slot_timer.h: one asio timer for all).
  enum Timeout : size_t {
    kHeaders,           // request_headers_timeout / stream_idle_timeout while reading a head
    kRequest,           // request_timeout: until the request is read or the response starts
    kDuration,          // max_stream_duration
    kIdle,              // route idle_timeout / stream_idle_timeout (forwarding, tunnels)
    kUpstreamResponse,  // the route's timeout: ends the upstream request (UpstreamRequest::onResponseTimeout)
    kPerTry,            // the retry policy's per-try timeout: ends the try (UpstreamRequest::onPerTryTimeout)
    kTimeoutCount
  };

  Stream(asio::io_context& io, StreamOwner& owner) : timer(io, *this), owner_(owner) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  StreamState state;
  http::http1::RequestHead request;
  http::http1::ResponseHead response;
  StreamInfo info;
  uint64_t random = 0;  // the stream's random value (routing, access-log sampling)
  bool request_body_complete = true;
  bool client_close = false;  // the client asked to close after this response
  bool client_gone = false;   // the client closed while its response was awaited
  StreamTimeout timeout = StreamTimeout::None;
  uint32_t attempt_count = 0;                                         // upstream tries made (x-envoy-attempt-count)
  StreamTimeout head_timeout_reason = StreamTimeout::RequestHeaders;  // what kHeaders stands for
  network::SlotTimer<Stream, kTimeoutCount> timer;
  // The router's request to its upstream host, from when a host is chosen
  // until the response is done (or the tunnel after a 101 ends).
  std::optional<UpstreamRequest> upstream;

  // The stream idle timeout (route idle_timeout or HCM stream_idle_timeout)
  // while a request is forwarded or tunnelled; every read and write touches
  // it (touch() only stamps the time; kIdle re-arms for the remainder).
  void startIdle(std::chrono::milliseconds after) {
    idle_timeout = after;
    if (after.count() == 0) {
      timer.clear(kIdle);
      return;
    }
    last_activity = std::chrono::steady_clock::now();
    timer.set(kIdle, last_activity + after);
  }
  void touch() {
    if (idle_timeout.count() > 0) last_activity = std::chrono::steady_clock::now();
  }
  // kIdle passed: true when the stream was really quiet for its idle
  // timeout; otherwise the deadline is moved to the remainder.
  bool idleExpired() {
    if (idle_timeout.count() == 0) return false;
    if (std::chrono::steady_clock::now() - last_activity < idle_timeout) {
      timer.set(kIdle, last_activity + idle_timeout + std::chrono::milliseconds(1));
      return false;
    }
    return true;
  }
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::steady_clock::time_point last_activity;

  // The timer's callback.
  void onDeadline(size_t slot) { owner_.onStreamDeadline(*this, slot); }

 private:
  StreamOwner& owner_;
};

}  // namespace sluice::proxy
