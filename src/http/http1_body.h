// HTTP/1.1 message framing (RFC 9112 6) and incremental body decoding
// (Content-Length, chunked with trailers, read-until-close).
//
// requestFraming/responseFraming are pure functions of a parsed head. A
// BodyDecoder is owned by one connection, reused for each message (reset()),
// and touched only by the thread running that connection; it copies no body
// bytes and allocates nothing once warm (only trailers split across reads are
// buffered, in a string whose capacity is kept).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/header_map.h"
#include "http/http1_parser.h"

namespace sluice::http::http1 {

struct Framing {
  // None: no body. ContentLength: exactly `length` bytes (0 is an empty body).
  // Chunked: chunked coding with optional trailers. UntilClose: responses only,
  // the body ends when the server closes the connection.
  enum class Kind { None, ContentLength, Chunked, UntilClose } kind = Kind::None;
  uint64_t length = 0;  // ContentLength only
};

struct FramingResult {
  bool ok = true;
  Framing framing;
  int error_status = 0;     // when !ok: 400/501 for requests, 502 for responses
  std::string_view detail;  // when !ok: one of `details::`
};

// RFC 9112 6.1-6.3 for a request. Transfer-Encoding must be exactly `chunked`
// (any case) on HTTP/1.1; Content-Length 1*DIGIT, repeats only if identical
// (normalised to one field). Both present is an error unless
// limits.allow_chunked_length, which removes the Content-Length from `head`.
// A CONNECT request may carry no body. No Content-Length and no
// Transfer-Encoding means no body.
FramingResult requestFraming(RequestHead& head, const Limits& limits);

// The same rules for a response to a `request_method` request; errors are 502.
// HEAD responses, 1xx, 204 and 304 have no body; a 2xx to CONNECT has none
// either (the caller tunnels). Without Content-Length or Transfer-Encoding the
// body runs until close.
FramingResult responseFraming(ResponseHead& head, std::string_view request_method, const Limits& limits);

// Decodes one message body at a time, incrementally and without copying:
// returned data points into the caller's input.
class BodyDecoder {
 public:
  // `limits` bound the trailer section (max_header_bytes, max_headers_count)
  // and apply the header rules to it.
  explicit BodyDecoder(const Limits& limits = Limits{}) : limits_(limits) {}

  // Starts a new body; also clears the trailers.
  void reset(Framing framing);

  struct Step {
    size_t consumed = 0;      // input bytes used by this step
    std::string_view data;    // body bytes produced (a slice of input), may be empty
    bool done = false;        // message body complete (UntilClose: never; the caller ends it at EOF)
    bool error = false;       // the body is malformed; the decoder stays failed until reset()
    std::string_view detail;  // when error: one of `details::`
  };

  // Decodes from the start of `input`; at most one data slice per step. Call
  // again with the unconsumed rest while a step consumes bytes or yields data;
  // when input runs short a step may consume nothing. Bytes after the end of
  // the body (a pipelined message) are never consumed.
  Step decode(std::string_view input);

  // After done, for chunked bodies: the trailer fields (possibly none).
  const HeaderMap& trailers() const { return trailers_; }
  bool chunked() const { return framing_.kind == Framing::Kind::Chunked; }

 private:
  enum class State : uint8_t {
    Body,            // Content-Length or until-close bytes
    ChunkSize,       // in the hex chunk-size
    ChunkSizeWs,     // whitespace after the size: only ";" may follow
    ChunkExtension,  // after ";", up to the CR
    ChunkSizeLf,     // CR seen, LF expected
    ChunkData,       // chunk bytes, returned as slices of the input
    ChunkDataCr,     // CRLF expected after the chunk's data
    ChunkDataLf,     // its LF
    Trailers,        // after the last chunk, through the empty line
    Done,
    Failed,
  };

  Step decodeChunked(std::string_view input);
  Step decodeTrailers(std::string_view input, size_t consumed_before);
  // Feeds one byte of chunk framing; false (and state Failed) when invalid.
  bool consumeFramingByte(char c);
  Step fail(size_t consumed, std::string_view detail);

  Limits limits_;
  Framing framing_;
  State state_ = State::Done;
  uint64_t remaining_ = 0;  // Content-Length bytes or current chunk bytes left
  uint64_t chunk_size_ = 0;
  size_t chunk_size_digits_ = 0;
  size_t extension_bytes_ = 0;
  std::string_view error_detail_;
  std::string trailer_buffer_;  // a trailer section split across inputs
  HeaderMap trailers_;
};

}  // namespace sluice::http::http1
