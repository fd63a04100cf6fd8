// What happened to one request (stream), for access logs and stats: Envoy's
// response flags and response code details, timings, addresses, bytes.
// Filled along the request path by the worker thread that owns the stream and
// read there when the stream ends (access logs format their line then).
#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::accesslog {

// Envoy's response flags (the letters are what %RESPONSE_FLAGS% prints).
enum ResponseFlag : uint32_t {
  kFailedLocalHealthCheck = 1u << 0,            // LH
  kNoHealthyUpstream = 1u << 1,                 // UH
  kUpstreamRequestTimeout = 1u << 2,            // UT
  kLocalReset = 1u << 3,                        // LR
  kUpstreamRemoteReset = 1u << 4,               // UR
  kUpstreamConnectionFailure = 1u << 5,         // UF
  kUpstreamConnectionTermination = 1u << 6,     // UC
  kUpstreamOverflow = 1u << 7,                  // UO
  kNoRouteFound = 1u << 8,                      // NR
  kDelayInjected = 1u << 9,                     // DI
  kFaultInjected = 1u << 10,                    // FI
  kRateLimited = 1u << 11,                      // RL
  kDownstreamConnectionTermination = 1u << 12,  // DC
  kUpstreamProtocolError = 1u << 13,            // UPE
  kNoClusterFound = 1u << 14,                   // NC
  kStreamIdleTimeout = 1u << 15,                // SI
  kDownstreamProtocolError = 1u << 16,          // DPE
  kDurationTimeout = 1u << 17,                  // DT: max_stream_duration reached
  kUpstreamRetryLimitExceeded = 1u << 18,       // URX: retriable, but the retries were used up
};

// "UF,URX"-style text of the flags set, or "-" when none.
std::string responseFlagsText(uint32_t flags);
// Appends the same text to `out` (no allocation once `out` has room).
void appendResponseFlags(uint32_t flags, std::string& out);

// The TLS session of a downstream connection (set once its handshake is
// done; owned by the connection).
struct DownstreamTls {
  std::string version;       // %DOWNSTREAM_TLS_VERSION%: TLSv1.3
  std::string cipher;        // %DOWNSTREAM_TLS_CIPHER%: OpenSSL's (= BoringSSL's) name
  std::string server_name;   // %REQUESTED_SERVER_NAME%: SNI
  std::string peer_subject;  // %DOWNSTREAM_PEER_SUBJECT%: RFC 2253
  std::string peer_uri_san;  // %DOWNSTREAM_PEER_URI_SAN%: comma separated
};

// The downstream client as the connection manager trusts it, per stream:
// Envoy's x-forwarded-for rules (proxy::resolveDownstreamClient).
struct DownstreamClient {
  asio::ip::address address;  // the trusted client address (the peer's unless taken from XFF)
  bool from_xff = false;      // taken from x-forwarded-for: no port is known (Envoy logs ip:0)
  bool internal = false;      // Envoy's internal request: one XFF address after this hop's, internal
  uint8_t length = 0;         // of `text`
  char text[46] = {};         // `address` as text (INET6_ADDRSTRLEN), kept here: no allocation
  std::string_view ip() const { return {text, length}; }
};

struct StreamInfo {
  using Clock = std::chrono::steady_clock;

  uint32_t response_flags = 0;
  int response_code = 0;                   // 0: no response was sent
  std::string_view response_code_details;  // static strings, e.g. "via_upstream", "route_not_found"
  Clock::time_point start;                 // the request head was read
  Clock::time_point request_complete;      // last request byte read; {} until then
  Clock::time_point first_upstream_byte;   // first response byte from the upstream; {} until then
  uint64_t bytes_received = 0;             // request body bytes from downstream (tunnel: bytes up)
  uint64_t bytes_sent = 0;                 // response body bytes to downstream (tunnel: bytes down)
  std::string upstream_host;               // "ip:port" of the chosen host
  std::string upstream_cluster;
  std::string route_name;
  asio::ip::tcp::endpoint upstream_local;  // port 0: no upstream connection
  int upstream_connect_errno = 0;          // the errno of a failed upstream connect, or 0
  bool active = false;                     // a stream is in progress (reset() to its end)
  DownstreamClient downstream_client;      // once the request head is read; else downstream_remote

  // Per connection: set once, kept across the streams of the connection.
  uint64_t connection_id = 0;
  asio::ip::tcp::endpoint downstream_remote;  // the peer (Envoy's direct remote address)
  asio::ip::tcp::endpoint downstream_local;
  const DownstreamTls* downstream_tls = nullptr;  // a TLS connection's session; null: plain TCP

  // A new stream starts now.
  void reset() {
    response_flags = 0;
    response_code = 0;
    response_code_details = {};
    start = Clock::now();
    request_complete = first_upstream_byte = Clock::time_point();
    bytes_received = bytes_sent = 0;
    upstream_host.clear();
    upstream_cluster.clear();
    route_name.clear();
    upstream_local = asio::ip::tcp::endpoint();
    upstream_connect_errno = 0;
    downstream_client.from_xff = false;
    active = true;
  }
  void markRequestComplete() {
    if (request_complete == Clock::time_point()) request_complete = Clock::now();
  }
  void markFirstUpstreamByte() {
    if (first_upstream_byte == Clock::time_point()) first_upstream_byte = Clock::now();
  }
};

}  // namespace sluice::accesslog
