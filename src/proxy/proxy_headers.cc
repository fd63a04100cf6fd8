#include "proxy/proxy_headers.h"

#include <string>

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

void stripHopByHopHeaders(http::HeaderMap& headers, bool keep_upgrade) {
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
  headers.removeIf([keep_upgrade](const http::HeaderMap::Entry& e) {
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
    headers.set("x-forwarded-proto", context.scheme);
  } else if (!headers.has("x-forwarded-proto")) {
    headers.add("x-forwarded-proto", context.scheme);
  }
  if (!headers.has("x-request-id")) {
    char uuid[36];
    formatUuid4(context.random_high, context.random_low, uuid);
    headers.add("x-request-id", std::string_view(uuid, sizeof uuid));
  }
}

std::string_view trustedClientAddress(const http::HeaderMap& headers, const ForwardingContext& context) {
  if (context.use_remote_address && context.xff_num_trusted_hops == 0) return context.remote_ip;
  const auto xff = headers.get("x-forwarded-for");
  if (!xff) return context.remote_ip;
  // Walk from the right: skip the trusted hops, take the next entry.
  std::string_view list = *xff;
  uint32_t skip = context.use_remote_address ? context.xff_num_trusted_hops - 1 : context.xff_num_trusted_hops;
  while (!list.empty()) {
    const size_t comma = list.rfind(',');
    const auto entry = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
    if (skip == 0) return entry;
    --skip;
    if (comma == std::string_view::npos) break;
    list = list.substr(0, comma);
  }
  return context.remote_ip;
}

}  // namespace sluice::proxy
