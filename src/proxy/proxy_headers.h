// Header rules of a proxy hop (RFC 9110 7.6, Envoy's HTTP connection manager):
// hop-by-hop fields removed, x-forwarded-for / -proto, x-request-id. Pure
// functions over a HeaderMap; any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/header_map.h"

namespace sluice::proxy {

// True when a field `name` (lowercase) lists `token` in its comma-separated
// values, compared case-insensitively (e.g. connection: keep-alive, Upgrade).
bool hasToken(const http::HeaderMap& headers, std::string_view name, std::string_view token);

// Removes connection-specific fields: Connection and every field it names,
// Keep-Alive, Proxy-Connection, Transfer-Encoding (sluice re-frames bodies),
// TE (unless just "trailers"), Upgrade (unless `keep_upgrade`, for WebSockets).
void stripHopByHopHeaders(http::HeaderMap& headers, bool keep_upgrade);

struct ForwardingContext {
  std::string_view remote_ip;  // the downstream peer
  std::string_view scheme;     // "http" or "https"
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  uint64_t random_high = 0;  // randomness for a generated x-request-id
  uint64_t random_low = 0;
};

// Envoy's edge/internal behaviour: with use_remote_address the peer's address
// is appended to x-forwarded-for and x-forwarded-proto is overwritten;
// otherwise both are kept and x-forwarded-proto is added when absent.
// x-request-id is generated (UUID v4) when absent.
void applyForwardingHeaders(http::HeaderMap& headers, const ForwardingContext& context);

// The client address Envoy would trust: the peer with use_remote_address and
// no trusted hops, else the x-forwarded-for entry `xff_num_trusted_hops` from
// the right (the peer when there are not enough entries).
std::string_view trustedClientAddress(const http::HeaderMap& headers, const ForwardingContext& context);

// Writes a random UUID v4 (36 characters) into `out`.
void formatUuid4(uint64_t high, uint64_t low, char (&out)[36]);

}  // namespace sluice::proxy
