// Header rules of a proxy hop (RFC 9110 7.6, Envoy's HTTP connection manager):
// hop-by-hop fields removed, the trusted client address, x-forwarded-for /
// -proto, x-envoy-external-address, x-request-id. Pure functions over a
// HeaderMap; any thread.
#pragma once

#include <asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "accesslog/stream_info.h"
#include "http/header_map.h"

namespace sluice::proxy {

// True when a field `name` (lowercase) lists `token` in its comma-separated
// values, compared case-insensitively (e.g. connection: keep-alive, Upgrade).
bool hasToken(const http::HeaderMap& headers, std::string_view name, std::string_view token);

// The router's retry headers of a request, parsed: x-envoy-retry-on,
// x-envoy-max-retries, x-envoy-upstream-rq-per-try-timeout-ms (a value that
// does not parse is absent; unknown retry_on names are ignored, as Envoy).
// Whether they count is the request's trust (RetryState: internal only).
struct RetryHeaders {
  uint32_t retry_on = 0;
  std::optional<uint32_t> max_retries;
  std::optional<std::chrono::milliseconds> per_try_timeout;
  // When `field` is one of the three: keeps its value and returns true.
  bool take(const http::HeaderMap::Entry& field);
};

// Removes connection-specific fields: Connection and every field it names,
// Keep-Alive, Proxy-Connection, Transfer-Encoding (sluice re-frames bodies),
// TE (unless just "trailers"), Upgrade (unless `keep_upgrade`, for WebSockets).
// With `retry`, also the retry headers, parsed into it (the same pass: no
// request goes upstream with them, as Envoy sanitises and consumes them).
void stripHopByHopHeaders(http::HeaderMap& headers, bool keep_upgrade, RetryHeaders* retry = nullptr);

struct ForwardingContext {
  std::string_view remote_ip;  // the downstream peer
  std::string_view scheme;     // "http" or "https"
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  uint64_t random_high = 0;  // randomness for a generated x-request-id
  uint64_t random_low = 0;
  // The request's trusted client (resolveDownstreamClient); null: none known.
  const accesslog::DownstreamClient* client = nullptr;
};

// Envoy's edge/internal behaviour: with use_remote_address the peer's address
// is appended to x-forwarded-for, x-forwarded-proto is overwritten (kept when
// trusted hops sent one) and an external request (the client is not internal)
// gets x-envoy-external-address: the trusted client address. Otherwise
// x-forwarded-for and -proto are kept and x-forwarded-proto is added when
// absent. x-request-id is generated (UUID v4) when absent.
void applyForwardingHeaders(http::HeaderMap& headers, const ForwardingContext& context);

// Envoy's trusted client address of a request, from x-forwarded-for as it
// arrived (all its lines, in order), into `out`:
//   use_remote_address, no trusted hops: the peer;
//   use_remote_address, N trusted hops: the N-th address from the right;
//   otherwise: the (N+1)-th address from the right;
// the peer when there are fewer entries or that entry is not an IP address.
// `out.internal` is Envoy's internal request: after this hop's append, XFF
// holds one address, and it is internal (Envoy's default set: 10/8,
// 172.16/12, 192.168/16, 127.0.0.1, fd00::/8, ::1). `peer_text` is `peer`
// as text (empty: the peer is not known). Once per request, before the
// headers change; allocates nothing.
void resolveDownstreamClient(const http::HeaderMap& headers, const asio::ip::address& peer, std::string_view peer_text,
                             bool use_remote_address, uint32_t xff_num_trusted_hops, accesslog::DownstreamClient& out);

// Envoy's default internal addresses (internal_address_config unset).
bool isInternalAddress(const asio::ip::address& address);

// Writes a random UUID v4 (36 characters) into `out`.
void formatUuid4(uint64_t high, uint64_t low, char (&out)[36]);

}  // namespace sluice::proxy
