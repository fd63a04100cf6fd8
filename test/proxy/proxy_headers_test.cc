// The headers a proxy hop changes: hop-by-hop fields removed (RFC 9110 7.6.1),
// x-forwarded-for / x-forwarded-proto by Envoy's use_remote_address rules,
// x-request-id generated when absent, and the trusted client address.
#include "proxy/proxy_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::proxy {
namespace {

std::string all(const http::HeaderMap& headers, std::string_view name) {
  std::string out;
  headers.forEach([&](const http::HeaderMap::Entry& e) {
    if (e.name != name) return;
    if (!out.empty()) out += '|';
    out += e.value;
  });
  return out;
}

ForwardingContext edge(std::string_view peer = "10.0.0.9") {
  return ForwardingContext{peer, "http", true, 0, 0x0123456789abcdefULL, 0xfedcba9876543210ULL};
}

TEST(HasToken, FindsATokenInAnyFieldOfTheNameIgnoringCaseAndSpaces) {
  http::HeaderMap h;
  h.add("connection", "keep-alive");
  h.add("Connection", " Foo ,UPGRADE");
  EXPECT_TRUE(hasToken(h, "connection", "upgrade"));
  EXPECT_TRUE(hasToken(h, "connection", "keep-alive"));
  EXPECT_FALSE(hasToken(h, "connection", "close"));
  EXPECT_FALSE(hasToken(h, "upgrade", "foo"));
}

TEST(StripHopByHop, RemovesConnectionSpecificFieldsAndTheOnesConnectionNames) {
  http::HeaderMap h;
  h.add("connection", "x-private, keep-alive");
  h.add("keep-alive", "timeout=5");
  h.add("proxy-connection", "keep-alive");
  h.add("transfer-encoding", "chunked");
  h.add("x-private", "1");
  h.add("te", "gzip");
  h.add("upgrade", "websocket");
  h.add("x-kept", "yes");
  stripHopByHopHeaders(h, false);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.get("x-kept"), "yes");
}

TEST(StripHopByHop, KeepsTeTrailersAndTheUpgradeOfAWebSocket) {
  http::HeaderMap h;
  h.add("connection", "upgrade");
  h.add("upgrade", "websocket");
  h.add("te", " trailers ");
  stripHopByHopHeaders(h, true);
  EXPECT_EQ(h.get("upgrade"), "websocket");
  EXPECT_EQ(h.get("te"), " trailers ");
  EXPECT_FALSE(h.has("connection"));
}

TEST(ForwardingHeaders, AtTheEdgeThePeerIsAppendedToXffAndProtoIsOverwritten) {
  http::HeaderMap h;
  h.add("x-forwarded-for", "1.1.1.1");
  h.add("x-forwarded-for", "2.2.2.2");
  h.add("x-forwarded-proto", "https");
  applyForwardingHeaders(h, edge());
  EXPECT_EQ(all(h, "x-forwarded-for"), "1.1.1.1,2.2.2.2,10.0.0.9");
  EXPECT_EQ(all(h, "x-forwarded-proto"), "http");
}

TEST(ForwardingHeaders, AtTheEdgeWithoutXffThePeerIsTheWholeList) {
  http::HeaderMap h;
  applyForwardingHeaders(h, edge());
  EXPECT_EQ(all(h, "x-forwarded-for"), "10.0.0.9");
  EXPECT_EQ(all(h, "x-forwarded-proto"), "http");
}

TEST(ForwardingHeaders, WithoutUseRemoteAddressXffIsKeptAndProtoOnlyAdded) {
  http::HeaderMap h;
  h.add("x-forwarded-for", "1.1.1.1");
  auto internal = edge();
  internal.use_remote_address = false;
  applyForwardingHeaders(h, internal);
  EXPECT_EQ(all(h, "x-forwarded-for"), "1.1.1.1");
  EXPECT_EQ(all(h, "x-forwarded-proto"), "http");

  http::HeaderMap given;
  given.add("x-forwarded-proto", "https");
  applyForwardingHeaders(given, internal);
  EXPECT_EQ(all(given, "x-forwarded-proto"), "https");
  EXPECT_FALSE(given.has("x-forwarded-for"));
}

TEST(ForwardingHeaders, AMissingRequestIdIsAUuid4AndAGivenOneIsKept) {
  http::HeaderMap h;
  applyForwardingHeaders(h, edge());
  const auto id = h.get("x-request-id");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "01234567-89ab-4def-bedc-ba9876543210");

  http::HeaderMap given;
  given.add("x-request-id", "abc");
  applyForwardingHeaders(given, edge());
  EXPECT_EQ(all(given, "x-request-id"), "abc");
}

TEST(FormatUuid4, SetsTheVersionAndVariantBits) {
  char out[36];
  formatUuid4(0, 0, out);
  EXPECT_EQ(std::string_view(out, sizeof out), "00000000-0000-4000-8000-000000000000");
  formatUuid4(~0ULL, ~0ULL, out);
  EXPECT_EQ(std::string_view(out, sizeof out), "ffffffff-ffff-4fff-bfff-ffffffffffff");
}

TEST(TrustedClientAddress, IsThePeerAtTheEdgeWithNoTrustedHops) {
  http::HeaderMap h;
  h.add("x-forwarded-for", "1.1.1.1");
  EXPECT_EQ(trustedClientAddress(h, edge()), "10.0.0.9");
}

TEST(TrustedClientAddress, SkipsTrustedHopsFromTheRight) {
  http::HeaderMap h;
  h.add("x-forwarded-for", "1.1.1.1, 2.2.2.2,3.3.3.3");
  auto internal = edge();
  internal.use_remote_address = false;
  internal.xff_num_trusted_hops = 0;
  EXPECT_EQ(trustedClientAddress(h, internal), "3.3.3.3");
  internal.xff_num_trusted_hops = 1;
  EXPECT_EQ(trustedClientAddress(h, internal), "2.2.2.2");
  internal.xff_num_trusted_hops = 5;  // not enough entries: the peer
  EXPECT_EQ(trustedClientAddress(h, internal), "10.0.0.9");
  auto trusted_edge = edge();
  trusted_edge.xff_num_trusted_hops = 1;  // the peer itself is the first hop
  EXPECT_EQ(trustedClientAddress(h, trusted_edge), "3.3.3.3");
}

TEST(TrustedClientAddress, WithoutXffIsThePeer) {
  http::HeaderMap h;
  auto internal = edge();
  internal.use_remote_address = false;
  EXPECT_EQ(trustedClientAddress(h, internal), "10.0.0.9");
}

}  // namespace
}  // namespace sluice::proxy
