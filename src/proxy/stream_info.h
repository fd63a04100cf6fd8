// What happened to one request, for access logs and stats: Envoy's response
// flags and response code details. Filled along the request path by the
// worker thread that owns the stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::proxy {

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
};

// "UF,URX"-style text of the flags set, or "-" when none.
std::string responseFlagsText(uint32_t flags);

struct StreamInfo {
  uint32_t response_flags = 0;
  int response_code = 0;
  std::string_view response_code_details;  // static strings, e.g. "via_upstream", "route_not_found"
  std::chrono::steady_clock::time_point start;
  uint64_t bytes_received = 0;  // request body bytes from downstream
  uint64_t bytes_sent = 0;      // response body bytes to downstream
  std::string upstream_host;    // "ip:port" of the chosen host
  std::string upstream_cluster;
  std::string route_name;

  void reset() {
    response_flags = 0;
    response_code = 0;
    response_code_details = {};
    bytes_received = bytes_sent = 0;
    upstream_host.clear();
    upstream_cluster.clear();
    route_name.clear();
  }
};

}  // namespace sluice::proxy
