// What the router reads from a request, and the small pure helpers over it
// (query-string and port handling) shared by the matchers, rewrites and hash
// policies. A RequestView holds views into the stream's own storage and lives
// for one call; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/header_map.h"

namespace sluice::router {

struct RequestView {
  std::string_view authority;  // :authority (or HTTP/1 Host), as received
  std::string_view path;       // :path including the query string
  std::string_view method;     // :method
  std::string_view scheme;     // the scheme the client used ("http"/"https"); used by redirects
  const http::HeaderMap& headers;
  std::string_view source_ip;  // downstream address without port; empty when unknown
};

// Virtual-host selection options that belong to the connection manager
// (HttpConnectionManager.strip_any_host_port / strip_matching_host_port) and
// the listener.
struct MatchOptions {
  bool strip_any_host_port = false;
  bool strip_matching_host_port = false;  // strip only when the port equals listener_port
  uint32_t listener_port = 0;
};

// `path` up to (not including) the first '?' or '#'.
std::string_view pathWithoutQuery(std::string_view path);

// The first value of query parameter `name` in `path` (raw, not
// percent-decoded, as Envoy's route matcher sees it); a parameter without '='
// has the empty value. nullopt when absent.
std::optional<std::string_view> findQueryParameter(std::string_view path, std::string_view name);

// Where the port of `authority` starts (the ':'), or npos. Handles "[v6]:port";
// a bare IPv6 literal (two or more colons, no brackets) has no port.
size_t hostPortStart(std::string_view authority);

// The authority used for virtual-host selection: without its port when the
// options (or the route table's ignore_port_in_host_matching) say so. A port
// that is not a number is never stripped. The connection manager may also use
// this to rewrite the Host header, as Envoy does.
std::string_view stripHostPort(std::string_view authority, const MatchOptions& options, bool ignore_port = false);

// The value of request header `name` (lowercase) as Envoy's header matchers
// and hash policies see it: pseudo-headers (:authority, :path, :method,
// :scheme) come from the view; several fields of one name are joined with ','
// into `storage`. nullopt when absent.
std::optional<std::string_view> requestHeaderValue(const RequestView& request, std::string_view name,
                                                   std::string& storage);

// ASCII case-insensitive helpers that compare in place.
bool startsWith(std::string_view value, std::string_view prefix, bool ignore_case);
bool endsWith(std::string_view value, std::string_view suffix, bool ignore_case);
bool contains(std::string_view value, std::string_view needle, bool ignore_case);
bool equals(std::string_view a, std::string_view b, bool ignore_case);
std::string toLower(std::string_view value);

}  // namespace sluice::router
