#include "proxy/proxy_headers.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "router/retry_policy.h"

namespace sluice::proxy {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each comma-separated, trimmed, non-empty token.
template <typename F>
void forEachToken(std::string_view list, F f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const auto token = trim(list.substr(0, comma));
    if (!token.empty()) f(token);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

bool hasToken(const http::HeaderMap& headers, std::string_view name, std::string_view token) {
  bool found = false;
  headers.forEach([&](const http::HeaderMap::Entry& e) {
    if (found || e.name != name) return;
    forEachToken(e.value, [&](std::string_view item) { found = found || http::equalsIgnoreCase(item, token); });
  });
  return found;
}

bool RetryHeaders::take(const http::HeaderMap::Entry& field) {
  static constexpr std::string_view kRetryOn = "x-envoy-retry-on";
  if (field.name.size() < kRetryOn.size() || !field.name.starts_with("x-envoy-")) return false;
  const auto number = [](std::string_view text) -> std::optional<uint32_t> {
    uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  };
  if (field.name == kRetryOn) {
    retry_on |= router::parseRetryOn(field.value);
  } else if (field.name == "x-envoy-max-retries") {
    if (const auto n = number(field.value)) max_retries = *n;
  } else if (field.name == "x-envoy-upstream-rq-per-try-timeout-ms") {
    if (const auto ms = number(field.value)) per_try_timeout = std::chrono::milliseconds(*ms);
  } else {
    return false;
  }
  return true;
}

void stripHopByHopHeaders(http::HeaderMap& headers, bool keep_upgrade, RetryHeaders* retry) {
  // Fields named by Connection are hop-by-hop too (RFC 9110 7.6.1). Copy the
  // names first: removing fields invalidates views into the map.
  std::string named;
  headers.forEach([&](const http::HeaderMap::Entry& e) {
    if (e.name == "connection") {
      named += e.value;
      named += ',';
    }
  });
  forEachToken(named, [&](std::string_view token) {
    if (keep_upgrade && http::equalsIgnoreCase(token, "upgrade")) return;
    headers.remove(token);
  });
  headers.removeIf([keep_upgrade, retry](const http::HeaderMap::Entry& e) {
    if (retry != nullptr && retry->take(e)) return true;  // parsed now: removing may move the storage
    if (e.name == "connection" || e.name == "keep-alive" || e.name == "proxy-connection" ||
        e.name == "transfer-encoding") {
      return true;
    }
    if (e.name == "upgrade") return !keep_upgrade;
    if (e.name == "te") return !http::equalsIgnoreCase(trim(e.value), "trailers");
    return false;
  });
}

void formatUuid4(uint64_t high, uint64_t low, char (&out)[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Version 4 and the RFC 4122 variant bits.
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  int pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
    const uint64_t word = i < 8 ? high : low;
    const auto byte = static_cast<uint8_t>(word >> (8 * (7 - (i % 8))));
    out[pos++] = kHex[byte >> 4];
    out[pos++] = kHex[byte & 0xf];
  }
}

void applyForwardingHeaders(http::HeaderMap& headers, const ForwardingContext& context) {
  if (context.use_remote_address) {
    std::string xff;
    headers.forEach([&](const http::HeaderMap::Entry& e) {
      if (e.name != "x-forwarded-for") return;
      if (!xff.empty()) xff += ',';
      xff += e.value;
    });
    if (!xff.empty()) xff += ',';
    xff += context.remote_ip;
    headers.set("x-forwarded-for", xff);
    // Behind trusted hops, the nearest one's x-forwarded-proto is kept.
    if (context.xff_num_trusted_hops == 0 || !headers.has("x-forwarded-proto")) {
      headers.set("x-forwarded-proto", context.scheme);
    }
    // The first hop into the trusted network names the external client.
    if (context.client != nullptr && !context.client->internal) {
      headers.set("x-envoy-external-address", context.client->ip());
    }
  } else if (!headers.has("x-forwarded-proto")) {
    headers.add("x-forwarded-proto", context.scheme);
  }
  if (!headers.has("x-request-id")) {
    char uuid[36];
    formatUuid4(context.random_high, context.random_low, uuid);
    headers.add("x-request-id", std::string_view(uuid, sizeof uuid));
  }
}

bool isInternalAddress(const asio::ip::address& address) {
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    return b[0] == 10 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168) ||
           address.to_v4() == asio::ip::address_v4::loopback();
  }
  const auto v6 = address.to_v6();
  return v6.to_bytes()[0] == 0xfd || v6.is_loopback();
}

namespace {

// The entry `skip` places from the right of x-forwarded-for (all its lines,
// joined by ',' as Envoy joins them), parsed into `out` and its text into
// `text`: false when there are not that many entries or the entry is not an
// IP address. `single`: XFF is one entry.
bool xffEntryFromRight(const http::HeaderMap& headers, uint32_t skip, asio::ip::address& out, std::string_view& text,
                       bool& single) {
  size_t entries = 0;
  headers.forEach([&](const http::HeaderMap::Entry& e) {
    if (e.name == "x-forwarded-for")
      entries += 1 + static_cast<size_t>(std::count(e.value.begin(), e.value.end(), ','));
  });
  single = entries == 1;
  if (entries <= skip) return false;
  const size_t wanted = entries - 1 - skip;  // from the left
  size_t index = 0;
  bool have = false;
  headers.forEach([&](const http::HeaderMap::Entry& e) {
    if (have || e.name != "x-forwarded-for") return;
    std::string_view list = e.value;
    while (true) {
      const size_t comma = list.find(',');
      if (index++ == wanted) {
        text = trim(list.substr(0, comma));
        have = true;
        return;
      }
      if (comma == std::string_view::npos) return;
      list.remove_prefix(comma + 1);
    }
  });
  char terminated[64];
  if (!have || text.empty() || text.size() >= sizeof terminated) return false;
  std::memcpy(terminated, text.data(), text.size());
  terminated[text.size()] = '\0';
  std::error_code ec;
  out = asio::ip::make_address(terminated, ec);
  return !ec;
}

void setText(accesslog::DownstreamClient& out, std::string_view text) {
  out.length = static_cast<uint8_t>(std::min(text.size(), sizeof out.text));
  std::memcpy(out.text, text.data(), out.length);
}

}  // namespace

void resolveDownstreamClient(const http::HeaderMap& headers, const asio::ip::address& peer, std::string_view peer_text,
                             bool use_remote_address, uint32_t xff_num_trusted_hops, accesslog::DownstreamClient& out) {
  bool single = false;
  bool from_xff = false;
  asio::ip::address address;
  std::string_view text;
  if (use_remote_address) {
    // This hop appends the peer: XFF is then one address if it arrived without one.
    single = !headers.has("x-forwarded-for");
    bool ignored = false;
    from_xff = xff_num_trusted_hops > 0 && xffEntryFromRight(headers, xff_num_trusted_hops - 1, address, text, ignored);
  } else {
    from_xff = xffEntryFromRight(headers, xff_num_trusted_hops, address, text, single);
    single = single && xff_num_trusted_hops == 0;
  }
  // Envoy: internal only when the one XFF address is; no address found is external.
  out.internal = single && (from_xff || use_remote_address) && isInternalAddress(from_xff ? address : peer);
  out.from_xff = from_xff;
  if (!from_xff) {
    out.address = peer;
    setText(out, peer_text);
    return;
  }
  out.address = address;
  // An IPv4 address inet_pton accepted is in its one text form already; IPv6
  // is written in its canonical form (inet_ntop costs ~1,700 instructions).
  if (address.is_v4()) {
    setText(out, text);
    return;
  }
  char canonical[INET6_ADDRSTRLEN] = {};
  const auto bytes = address.to_v6().to_bytes();
  inet_ntop(AF_INET6, bytes.data(), canonical, sizeof canonical);
  static_assert(sizeof out.text >= INET6_ADDRSTRLEN);
  setText(out, canonical);
}

}  // namespace sluice::proxy
