// Stream: one request/response exchange on a downstream connection: its
// phase, its heads, its access-log record and what ended it. The connection
// (DownstreamConnection) owns the transport, the codec buffers and the
// keep-alive and drain lifecycle; HTTP/1 carries one stream at a time, so it
// holds one Stream and resets it per request. Worker thread only.
#pragma once

#include <cstdint>

#include "http/http1_parser.h"
#include "proxy/stream_info.h"
#include "proxy/stream_state.h"

namespace sluice::proxy {

// What ended a stream early; each answers 408 with Envoy's text if no
// response has started.
enum class StreamTimeout : uint8_t { None, Idle, RequestHeaders, Request, MaxDuration };

struct Stream {
  StreamState state;
  http::http1::RequestHead request;
  http::http1::ResponseHead response;
  StreamInfo info;
  uint64_t random = 0;  // the stream's random value (routing, access-log sampling)
  bool request_body_complete = true;
  bool client_close = false;  // the client asked to close after this response
  bool client_gone = false;   // the client closed while its response was awaited
  StreamTimeout timeout = StreamTimeout::None;
  StreamTimeout head_timeout_reason = StreamTimeout::RequestHeaders;  // what kHeaders stands for
};

}  // namespace sluice::proxy
