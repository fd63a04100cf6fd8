// HTTP/1.1 message heads (RFC 9112 sections 2-5): request and status lines and
// field sections, parsed strictly because request smuggling lives in the gaps
// between lenient parsers.
//
// Pure functions, no I/O and no state between calls: the connection code reads
// into its buffer and calls again with more bytes on Incomplete. The caller owns
// the head objects and reuses them per message, so once their strings and header
// arenas are warm no parse allocates. Any thread; nothing shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/header_map.h"

namespace sluice::http::http1 {

struct Limits {
  // Raw bytes of the head: request/status line, field lines and the final CRLF
  // (Envoy's max_request_headers_kb default, 60 KiB).
  size_t max_header_bytes = 60 * 1024;
  uint32_t max_headers_count = 100;  // Envoy default
  // http_protocol_options.allow_chunked_length: accept Content-Length next to
  // chunked by dropping the Content-Length.
  bool allow_chunked_length = false;
  // Names containing '_' (some systems treat '_' and '-' alike). Applies to
  // whatever message these limits are used for: request, response or trailers.
  enum class Underscores { Allow, RejectRequest, DropHeader } headers_with_underscores = Underscores::Allow;
};

struct RequestHead {
  std::string method;
  std::string target;
  int version_minor = 1;  // HTTP/1.<version_minor>
  HeaderMap headers;
  void clear();  // keeps capacity
};

struct ResponseHead {
  int status = 0;
  std::string reason;
  int version_minor = 1;
  HeaderMap headers;
  void clear();  // keeps capacity
};

enum class ParseStatus { Incomplete, Complete, Error };

struct HeadResult {
  ParseStatus status = ParseStatus::Incomplete;
  size_t consumed = 0;      // bytes of the head incl. the final CRLF, when Complete
  int error_status = 0;     // when Error: the HTTP status to answer (400, 431, 501, 505; 502 for responses)
  std::string_view detail;  // when Error: Envoy-style response code detail, one of `details::`
};

// Response code details (static strings; compare by value).
namespace details {
inline constexpr std::string_view kCodecError = "http1.codec_error";  // line structure: bare CR/LF, obs-fold, ...
inline constexpr std::string_view kInvalidCharacters = "http1.invalid_characters";  // bad byte in a name/value
inline constexpr std::string_view kInvalidUrl = "http1.invalid_url";                // bad request-target or wrong form
inline constexpr std::string_view kUnsupportedVersion = "http1.unsupported_version";  // HTTP/x.y not 1.0/1.1
inline constexpr std::string_view kHeadersTooLarge = "http1.headers_too_large";
inline constexpr std::string_view kTooManyHeaders = "http1.too_many_headers";
inline constexpr std::string_view kUnexpectedUnderscore = "http1.unexpected_underscore";
inline constexpr std::string_view kMultipleHosts = "http1.multiple_host_headers";
inline constexpr std::string_view kInvalidTransferEncoding = "http1.invalid_transfer_encoding";
inline constexpr std::string_view kTransferEncodingNotAllowed = "http1.transfer_encoding_not_allowed";
inline constexpr std::string_view kChunkedContentLength = "http1.content_length_and_chunked_not_allowed";
inline constexpr std::string_view kInvalidContentLength = "http1.invalid_content_length";
inline constexpr std::string_view kContentLengthNotAllowed = "http1.content_length_not_allowed";
inline constexpr std::string_view kInvalidChunkSize = "http1.invalid_chunk_size";
inline constexpr std::string_view kInvalidChunkExtension = "http1.invalid_chunk_extension";
inline constexpr std::string_view kInvalidChunkFraming = "http1.invalid_chunk_framing";
}  // namespace details

// Parses one complete request head at the start of `data`; up to a few empty
// lines before the request line are skipped (RFC 9112 2.2) and counted in
// `consumed`. More than one Host field is an error; a missing Host is left to
// the caller (it depends on config, e.g. default_host_for_http_10). Fills `out` (cleared first). Never reads past
// data.size(). Returns Error as soon as the bytes seen so far are invalid or exceed the limits (431), even when the
// head is incomplete.
HeadResult parseRequestHead(std::string_view data, const Limits& limits, RequestHead& out);

// Whether parsing a head again can reach another verdict than Incomplete, given
// that the first `scanned` bytes of `data` were Incomplete: only when a line
// ended since, the data at least doubled, or it passed `limit`. Parsing only
// then keeps a peer that sends a head one byte per read from costing O(n^2)
// (fuzzing measured 1.6 s of CPU for one 60 KiB head before this).
inline bool worthReparsing(std::string_view data, size_t scanned, size_t limit) {
  if (scanned == 0 || scanned > data.size() || data.size() > limit || data.size() >= 2 * scanned) return true;
  return data.find('\n', scanned) != std::string_view::npos;
}

// As parseRequestHead, for a status line and its fields. Every error answers
// 502 (the proxy's reply to its client); `detail` says what was wrong.
HeadResult parseResponseHead(std::string_view data, const Limits& limits, ResponseHead& out);

// Parses field lines up to and including the empty line that ends them (a
// chunked body's trailer section, RFC 9112 7.1.2), with the head rules and
// limits. Appends to `out` (not cleared). Errors answer 400 or 431.
HeadResult parseTrailerSection(std::string_view data, const Limits& limits, HeaderMap& out);

}  // namespace sluice::http::http1
