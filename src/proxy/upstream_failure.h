// What ended one upstream attempt before a final response head: a value the
// attempt returns, so the caller decides from it alone whether to try again
// and what to answer. Plain data; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::proxy {

struct UpstreamFailure {
  enum class Kind : uint8_t {
    None,                   // no failure: the attempt has a final head
    ConnectFailure,         // 503 UF: no connection (refused, unreachable)
    ConnectTimeout,         // 503 UF: connect_timeout passed
    ConnectionTermination,  // 503 UC: the upstream closed or reset before a head
    ProtocolError,          // 502 UPE: the upstream's response does not parse
    ResponseTimeout,        // 504 UT: the route's timeout passed
    PerTryTimeout,          // 504 UT: the retry policy's per_try_timeout / per_try_idle_timeout passed
    StreamTimeout,          // 408: a downstream stream timeout (its reason is the stream's)
    DownstreamGone,         // DC: the client closed or reset; nothing is answered
    DownstreamMalformed,    // 400 DPE: the client's body is malformed
    Overflow,               // 503 UO: a circuit breaker is open (max_requests, max_pending_requests, max_connections)
  };
  Kind kind = Kind::None;
  // The request may be sent once more on a new connection: a reused
  // connection failed before any response byte and the method is safe.
  bool retryable = false;
  uint32_t response_flag = 0;  // the access log's flag (accesslog/stream_info.h)
  std::string_view detail;     // DownstreamMalformed: the body decoder's detail (static text)

  explicit operator bool() const { return kind != Kind::None; }
};

}  // namespace sluice::proxy
