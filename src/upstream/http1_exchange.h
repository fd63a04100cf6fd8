// The client side of an HTTP/1.1 exchange on an upstream connection: send the
// request (head, then the body pumped from its source, while watching for an
// early answer), skip interim (1xx) responses, read the final head, pump the
// response body to a sink with backpressure. The router's forward path uses
// it; the health checker will. It knows transports, buffers and the codec,
// not the connection that owns it.
//
// Worker thread only; every object referenced outlives the awaited call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/http1_body.h"
#include "http/http1_parser.h"
#include "network/io_buffer.h"
#include "network/transport.h"

namespace sluice::upstream {

// What an exchange tells its owner, synchronously, on the owner's thread.
class ExchangeObserver {
 public:
  // Bytes were read or written (the owner's stream idle timeout).
  virtual void onActivity() = 0;
  // Response bytes arrived before the final head was complete.
  virtual void onResponseBytes() = 0;
  // The exchange is about to wait for the response head.
  virtual void onAwaitingHead() = 0;

 protected:
  ~ExchangeObserver() = default;
};

// The owner's resources an exchange does its I/O with.
struct ExchangeIo {
  network::BufferPool& buffers;  // a buffer is taken only once bytes arrive
  ExchangeObserver& observer;
  std::string& scratch;  // chunk framing
};

// Reads more bytes from `from` into `buffer` (taking a pooled buffer if it has
// none), at most `limit` per read. Waits for the transport first: an idle
// connection holds no buffer. A close-delimited body tells a complete end
// (Closed: FIN) from a truncated one (Failed: a reset, an error, a cancel).
asio::awaitable<network::ReadStatus> readMore(ExchangeIo& io, network::Transport& from, network::IoBuffer& buffer,
                                              size_t limit = SIZE_MAX);
// Writes all of `data`; false when the sink failed.
asio::awaitable<bool> writeAll(ExchangeIo& io, network::Transport& to, std::string_view data);

enum class PumpResult : uint8_t { Done, SourceFailed, SinkFailed, Malformed };
// Streams a body from `from` (already partly in `buffer`) to `to`, decoding
// with `decoder` and re-encoding chunked when `chunked_out`; one chunk is
// written before the next is read. `until_close`: a clean close ends the body.
asio::awaitable<PumpResult> pumpBody(ExchangeIo& io, network::Transport& from, network::IoBuffer& buffer,
                                     http::http1::BodyDecoder& decoder, network::Transport& to, bool chunked_out,
                                     bool until_close, uint64_t& bytes, size_t read_limit);

// Reads a whole body from `from` (already partly in `buffer`) into `out`,
// decoding with `decoder` (a retry's buffered request body). SourceFailed for
// a close or reset before its end, Malformed for a bad body.
asio::awaitable<PumpResult> readBody(ExchangeIo& io, network::Transport& from, network::IoBuffer& buffer,
                                     http::http1::BodyDecoder& decoder, std::string& out, uint64_t& bytes,
                                     size_t read_limit);

class Http1ClientExchange {
 public:
  // `in` holds the upstream's bytes not yet used; the final head is parsed
  // into `head` within `limits`.
  Http1ClientExchange(ExchangeIo& io, network::Transport& upstream, network::IoBuffer& in,
                      const http::http1::Limits& limits, http::http1::ResponseHead& head)
      : io_(io), upstream_(upstream), in_(in), limits_(limits), head_(head) {}

  // Where a request body comes from (the client, for the router).
  struct RequestBody {
    network::Transport& from;
    network::IoBuffer& buffer;
    http::http1::BodyDecoder& decoder;
    bool chunked;  // send it chunked
    uint64_t& bytes;
    size_t read_limit;
  };
  // Sends the request head; false when the upstream could not be written to.
  // No coroutine of its own (most requests have no body).
  asio::awaitable<bool> sendHead(std::string_view request_head) { return writeAll(io_, upstream_, request_head); }
  enum class BodyResult : uint8_t {
    Sent,              // the whole body
    EarlyResponse,     // the upstream answered before the body was all sent; sending stopped
    UpstreamFailed,    // the upstream could not be written to
    DownstreamFailed,  // the body's source failed or sent a malformed body
  };
  // After sendHead(): sends the body, racing it against the upstream's answer.
  asio::awaitable<BodyResult> sendBody(const RequestBody& body);

  enum class HeadResult : uint8_t {
    Head,       // a final (non-1xx, or 101) head is in `head`, its bytes consumed from `in`
    Malformed,  // the upstream sent a response that does not parse
    Failed,     // the read ended: EOF, reset, cancel (the caller's timers say which)
  };
  // Reads the final response head; 1xx heads other than 101 are dropped
  // (Envoy drops them unless proxy_100_continue).
  asio::awaitable<HeadResult> readFinalHead();

  // The response body, from the upstream to `to`.
  asio::awaitable<PumpResult> pumpResponseBody(http::http1::BodyDecoder& decoder, network::Transport& to,
                                               bool chunked_out, bool until_close, uint64_t& bytes, size_t read_limit) {
    return pumpBody(io_, upstream_, in_, decoder, to, chunked_out, until_close, bytes, read_limit);
  }

 private:
  // While the body is sent: reads the upstream's answer, dropping interim
  // responses; completes at a final head (left in `in`), a parse error, EOF
  // or cancel. Raced against the body pump.
  asio::awaitable<void> awaitFinalResponse();

  ExchangeIo& io_;
  network::Transport& upstream_;
  network::IoBuffer& in_;
  const http::http1::Limits& limits_;
  http::http1::ResponseHead& head_;
};

// A 1xx response other than 101 Switching Protocols: informational, dropped;
// a final response follows.
inline bool isInterimResponse(int status) { return status >= 100 && status < 200 && status != 101; }

}  // namespace sluice::upstream
