// Request helpers: query-string lookup, port handling, header values.
#include "router/request.h"

#include <gtest/gtest.h>

namespace sluice::router {
namespace {

TEST(PathWithoutQuery, StopsAtQueryOrFragment) {
  EXPECT_EQ(pathWithoutQuery("/a/b?c=d"), "/a/b");
  EXPECT_EQ(pathWithoutQuery("/a#frag"), "/a");
  EXPECT_EQ(pathWithoutQuery("/a"), "/a");
}

TEST(FindQueryParameter, FirstValueRawAndEmptyWithoutEquals) {
  EXPECT_EQ(findQueryParameter("/p?a=1&b=2&a=3", "a"), "1");
  EXPECT_EQ(findQueryParameter("/p?a=1&b=2", "b"), "2");
  EXPECT_EQ(findQueryParameter("/p?flag&x=1", "flag"), "");
  EXPECT_EQ(findQueryParameter("/p?x=a%20b", "x"), "a%20b");
  EXPECT_EQ(findQueryParameter("/p?x=1#y=2", "y"), std::nullopt);
  EXPECT_EQ(findQueryParameter("/p", "x"), std::nullopt);
  EXPECT_EQ(findQueryParameter("/p?xx=1", "x"), std::nullopt);
}

TEST(HostPortStart, NamesAndIPv6) {
  EXPECT_EQ(hostPortStart("foo.com:80"), 7u);
  EXPECT_EQ(hostPortStart("foo.com"), std::string_view::npos);
  EXPECT_EQ(hostPortStart("[::1]:80"), 5u);
  EXPECT_EQ(hostPortStart("[::1]"), std::string_view::npos);
  EXPECT_EQ(hostPortStart("::1"), std::string_view::npos);
}

TEST(StripHostPort, OnlyWhenAsked) {
  const MatchOptions none;
  MatchOptions any;
  any.strip_any_host_port = true;
  MatchOptions matching;
  matching.strip_matching_host_port = true;
  matching.listener_port = 8080;
  EXPECT_EQ(stripHostPort("foo.com:8080", none), "foo.com:8080");
  EXPECT_EQ(stripHostPort("foo.com:8080", any), "foo.com");
  EXPECT_EQ(stripHostPort("foo.com:8080", matching), "foo.com");
  EXPECT_EQ(stripHostPort("foo.com:9090", matching), "foo.com:9090");
  EXPECT_EQ(stripHostPort("foo.com:9090", none, /*ignore_port=*/true), "foo.com");
}

TEST(RequestHeaderValue, JoinsRepeatedHeadersAndReadsPseudoHeaders) {
  http::HeaderMap headers;
  headers.add("a", "1");
  headers.add("b", "x");
  headers.add("a", "2");
  const RequestView request{"example.com", "/p?q", "PUT", "https", headers, "10.0.0.1"};
  std::string storage;
  EXPECT_EQ(requestHeaderValue(request, "a", storage), "1,2");
  EXPECT_EQ(requestHeaderValue(request, "b", storage), "x");
  EXPECT_EQ(requestHeaderValue(request, "c", storage), std::nullopt);
  EXPECT_EQ(requestHeaderValue(request, ":method", storage), "PUT");
  EXPECT_EQ(requestHeaderValue(request, ":path", storage), "/p?q");
  EXPECT_EQ(requestHeaderValue(request, ":authority", storage), "example.com");
  EXPECT_EQ(requestHeaderValue(request, ":scheme", storage), "https");
  EXPECT_EQ(requestHeaderValue(request, "host", storage), "example.com");
}

TEST(CaseInsensitiveHelpers, CompareInPlace) {
  EXPECT_TRUE(startsWith("/API/x", "/api", true));
  EXPECT_FALSE(startsWith("/API/x", "/api", false));
  EXPECT_TRUE(endsWith("file.JSON", ".json", true));
  EXPECT_TRUE(contains("GoogleBot/2", "bot", true));
  EXPECT_FALSE(contains("bo", "bot", true));
  EXPECT_TRUE(equals("Abc", "aBC", true));
}

}  // namespace
}  // namespace sluice::router
