// The trusted client address (Envoy's x-forwarded-for rules), the
// forwarding headers that depend on it, hop-by-hop fields and x-request-id.
#include "proxy/proxy_headers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::proxy {
namespace {

const asio::ip::address kPeer = asio::ip::make_address("192.0.2.10");  // external
const asio::ip::address kInternalPeer = asio::ip::make_address("10.1.2.3");

http::HeaderMap withXff(const std::vector<std::string>& lines) {
  http::HeaderMap headers;
  for (const auto& l : lines) headers.add("x-forwarded-for", l);
  return headers;
}

accesslog::DownstreamClient resolve(const http::HeaderMap& headers, bool use_remote_address, uint32_t hops,
                                    const asio::ip::address& peer = kPeer) {
  accesslog::DownstreamClient out;
  resolveDownstreamClient(headers, peer, peer.to_string(), use_remote_address, hops, out);
  return out;
}

TEST(DownstreamClient, WithoutRemoteAddressTheNPlusFirstFromTheRightIsTrusted) {
  const auto headers = withXff({"203.0.113.1, 203.0.113.2,203.0.113.3"});
  EXPECT_EQ(resolve(headers, false, 0).ip(), "203.0.113.3");
  EXPECT_EQ(resolve(headers, false, 1).ip(), "203.0.113.2");
  EXPECT_EQ(resolve(headers, false, 2).ip(), "203.0.113.1");
  EXPECT_TRUE(resolve(headers, false, 2).from_xff);
  // Not enough entries: the peer.
  EXPECT_EQ(resolve(headers, false, 3).ip(), "192.0.2.10");
  EXPECT_FALSE(resolve(headers, false, 3).from_xff);
}

TEST(DownstreamClient, WithRemoteAddressTheNthFromTheRightIsTrusted) {
  const auto headers = withXff({"203.0.113.1, 203.0.113.2"});
  EXPECT_EQ(resolve(headers, true, 0).ip(), "192.0.2.10");
  EXPECT_EQ(resolve(headers, true, 1).ip(), "203.0.113.2");
  EXPECT_EQ(resolve(headers, true, 2).ip(), "203.0.113.1");
  EXPECT_EQ(resolve(headers, true, 3).ip(), "192.0.2.10");
}

TEST(DownstreamClient, SeveralXffLinesCountAsOneList) {
  const auto headers = withXff({"203.0.113.1", "203.0.113.2, 203.0.113.3"});
  EXPECT_EQ(resolve(headers, false, 1).ip(), "203.0.113.2");
  EXPECT_EQ(resolve(headers, false, 2).ip(), "203.0.113.1");
}

TEST(DownstreamClient, AnEntryThatIsNotAnAddressTrustsThePeer) {
  EXPECT_EQ(resolve(withXff({"unknown, 203.0.113.2"}), false, 1).ip(), "192.0.2.10");
  EXPECT_EQ(resolve(withXff({"203.0.113.2,"}), false, 0).ip(), "192.0.2.10");
}

TEST(DownstreamClient, Ipv6IsNormalised) {
  EXPECT_EQ(resolve(withXff({"2001:DB8:0::1"}), false, 0).ip(), "2001:db8::1");
}

TEST(DownstreamClient, InternalIsOneInternalAddressAfterThisHop) {
  // use_remote_address: no XFF and an internal peer.
  EXPECT_TRUE(resolve(http::HeaderMap(), true, 0, kInternalPeer).internal);
  EXPECT_FALSE(resolve(http::HeaderMap(), true, 0, kPeer).internal);
  // Any XFF means two addresses once this hop appends the peer.
  EXPECT_FALSE(resolve(withXff({"10.0.0.1"}), true, 1, kInternalPeer).internal);
  // Without use_remote_address: XFF is exactly one internal address.
  EXPECT_TRUE(resolve(withXff({"192.168.1.1"}), false, 0).internal);
  EXPECT_FALSE(resolve(withXff({"10.0.0.1, 192.168.1.1"}), false, 0).internal);
  EXPECT_FALSE(resolve(http::HeaderMap(), false, 0, kInternalPeer).internal);
}

TEST(DownstreamClient, EnvoysDefaultInternalAddresses) {
  for (const char* a : {"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "127.0.0.1", "fd00::1", "::1"}) {
    EXPECT_TRUE(isInternalAddress(asio::ip::make_address(a))) << a;
  }
  for (const char* a : {"172.32.0.1", "192.169.0.1", "127.0.0.2", "8.8.8.8", "fc00::1", "2001:db8::1"}) {
    EXPECT_FALSE(isInternalAddress(asio::ip::make_address(a))) << a;
  }
}

TEST(ForwardingHeaders, AnExternalRequestAtTheEdgeNamesItsClient) {
  auto headers = withXff({"203.0.113.7"});
  headers.add("x-forwarded-proto", "https");
  const auto client = resolve(headers, true, 1);
  applyForwardingHeaders(headers, {"192.0.2.10", "http", true, 1, 1, 2, &client});
  EXPECT_EQ(headers.get("x-envoy-external-address").value_or(""), "203.0.113.7");
  EXPECT_EQ(headers.get("x-forwarded-for").value_or(""), "203.0.113.7,192.0.2.10");
  EXPECT_EQ(headers.get("x-forwarded-proto").value_or(""), "https");  // the trusted hop's
}

TEST(ForwardingHeaders, AnInternalRequestOrNoEdgeSetsNoExternalAddress) {
  http::HeaderMap internal;
  const auto client = resolve(internal, true, 0, kInternalPeer);
  applyForwardingHeaders(internal, {"10.1.2.3", "http", true, 0, 1, 2, &client});
  EXPECT_FALSE(internal.has("x-envoy-external-address"));

  auto inner = withXff({"203.0.113.7"});
  const auto inner_client = resolve(inner, false, 0);
  applyForwardingHeaders(inner, {"192.0.2.10", "http", false, 0, 1, 2, &inner_client});
  EXPECT_FALSE(inner.has("x-envoy-external-address"));
  EXPECT_EQ(inner.get("x-forwarded-for").value_or(""), "203.0.113.7");
}

// Hop-by-hop fields, x-forwarded-for / -proto and x-request-id.
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

}  // namespace
}  // namespace sluice::proxy
