// HTTP/1.1 serialisation of heads and chunked framing into a caller's output
// buffer (appended, so one buffer can gather a head and its first body bytes
// for a single write). Pure functions; any thread.
//
// The inputs are trusted: names and values must already be valid field
// content (as the parser guarantees); nothing here re-validates or escapes.
#pragma once

#include <string>
#include <string_view>

#include "http/header_map.h"
#include "http/http1_parser.h"

namespace sluice::http::http1 {

// "METHOD target HTTP/1.<version_minor>\r\n" then "name: value\r\n" per field,
// then "\r\n". Names are emitted as stored (lowercase), which HTTP/1.1 allows.
void appendRequestHead(const RequestHead& head, std::string& out);

// "HTTP/1.<version_minor> 200 OK\r\n", fields, "\r\n". The reason is
// head.reason, or reasonPhrase(status) when that is empty.
void appendResponseHead(const ResponseHead& head, std::string& out);

// One chunk: hex size, CRLF, data, CRLF. Nothing for empty data (a zero-size
// chunk would end the body).
void appendChunk(std::string_view data, std::string& out);

// The last chunk "0\r\n", the trailer fields if any, and the final "\r\n".
void appendLastChunk(const HeaderMap* trailers, std::string& out);

// The registered reason phrase of `status` (RFC 9110 15), or "" if none.
std::string_view reasonPhrase(int status);

}  // namespace sluice::http::http1
