// Routes the proxy answers itself: redirects (Location, response code) and
// direct responses.
#include <gtest/gtest.h>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

class RedirectTest : public ::testing::Test {
 protected:
  // The Location for `request` through a route `match: {prefix: /old}` with `redirect`.
  std::string location(std::string_view redirect, const TestRequest& request) {
    table_ = buildTable(singleHost("  - match: {prefix: /old}\n    redirect: " + std::string(redirect) + "\n"));
    const Route* route = matchRoute(*table_, request);
    if (route == nullptr || route->kind() != Route::Kind::kRedirect) return "<no redirect route>";
    return route->redirectLocation(request.view());
  }
  uint32_t code(std::string_view redirect) {
    table_ = buildTable(singleHost("  - match: {prefix: /}\n    redirect: " + std::string(redirect) + "\n"));
    return deref(table_->virtualHosts()[0]->routes()[0]->redirect()).responseCode();
  }

  static TestRequest request(std::string path, std::string authority = "example.com", std::string scheme = "http") {
    TestRequest out(std::move(path), std::move(authority));
    out.scheme = std::move(scheme);
    return out;
  }

  std::shared_ptr<const RouteTable> table_;
};

TEST_F(RedirectTest, HttpsRedirectChangesOnlyTheScheme) {
  EXPECT_EQ(location("{https_redirect: true}", request("/old/a?x=1")), "https://example.com/old/a?x=1");
}

TEST_F(RedirectTest, HttpsRedirectDropsTheDefaultHttpPort) {
  EXPECT_EQ(location("{https_redirect: true}", request("/old", "example.com:80")), "https://example.com/old");
  EXPECT_EQ(location("{https_redirect: true}", request("/old", "example.com:8080")), "https://example.com:8080/old");
}

TEST_F(RedirectTest, SchemeRedirectToHttpDropsTheDefaultHttpsPort) {
  EXPECT_EQ(location("{scheme_redirect: http}", request("/old", "example.com:443", "https")), "http://example.com/old");
}

TEST_F(RedirectTest, SameSchemeKeepsThePort) {
  EXPECT_EQ(location("{https_redirect: true}", request("/old", "example.com:443", "https")),
            "https://example.com:443/old");
}

TEST_F(RedirectTest, HostRedirectReplacesTheAuthority) {
  EXPECT_EQ(location("{host_redirect: new.example.org}", request("/old/p?q", "example.com:8080")),
            "http://new.example.org/old/p?q");
}

TEST_F(RedirectTest, PortRedirectReplacesThePort) {
  EXPECT_EQ(location("{port_redirect: 8443}", request("/old", "example.com:8080")), "http://example.com:8443/old");
  EXPECT_EQ(location("{port_redirect: 8443}", request("/old", "example.com")), "http://example.com:8443/old");
}

TEST_F(RedirectTest, HostAndPortAndSchemeTogether) {
  EXPECT_EQ(location("{https_redirect: true, host_redirect: secure.example.com, port_redirect: 9443}",
                     request("/old/x?y=1", "example.com:80")),
            "https://secure.example.com:9443/old/x?y=1");
}

TEST_F(RedirectTest, IPv6AuthorityPortIsDroppedAsAWhole) {
  EXPECT_EQ(location("{port_redirect: 81}", request("/old", "[::1]:80")), "http://[::1]:81/old");
}

TEST_F(RedirectTest, PathRedirectReplacesThePathAndKeepsTheRequestQuery) {
  EXPECT_EQ(location("{path_redirect: /new}", request("/old/a?x=1")), "http://example.com/new?x=1");
  EXPECT_EQ(location("{path_redirect: /new}", request("/old/a")), "http://example.com/new");
}

TEST_F(RedirectTest, PathRedirectWithItsOwnQueryWinsAndSurvivesStripQuery) {
  EXPECT_EQ(location("{path_redirect: '/new?from=old'}", request("/old?x=1")), "http://example.com/new?from=old");
  EXPECT_EQ(location("{path_redirect: '/new?from=old', strip_query: true}", request("/old?x=1")),
            "http://example.com/new?from=old");
}

TEST_F(RedirectTest, StripQueryDropsTheRequestQuery) {
  EXPECT_EQ(location("{strip_query: true}", request("/old/a?x=1")), "http://example.com/old/a");
  EXPECT_EQ(location("{path_redirect: /new, strip_query: true}", request("/old?x=1")), "http://example.com/new");
}

TEST_F(RedirectTest, PrefixRewriteReplacesTheMatchedPrefix) {
  EXPECT_EQ(location("{prefix_rewrite: /new}", request("/old/a?x=1")), "http://example.com/new/a?x=1");
  EXPECT_EQ(location("{prefix_rewrite: /new, strip_query: true}", request("/old/a?x=1")), "http://example.com/new/a");
}

TEST_F(RedirectTest, PrefixRewriteToEmptyStillYieldsAnAbsolutePath) {
  EXPECT_EQ(location("{prefix_rewrite: ''}", request("/old")), "http://example.com/old");
  EXPECT_EQ(location("{prefix_rewrite: 'x'}", request("/old/a")), "http://example.com/x/a");
}

TEST_F(RedirectTest, RegexRewriteRewritesThePathAndKeepsTheQuery) {
  EXPECT_EQ(location(R"({regex_rewrite: {pattern: {regex: '^/old/(.*)$'}, substitution: '/v2/\1'}})",
                     request("/old/a/b?x=1")),
            "http://example.com/v2/a/b?x=1");
}

TEST_F(RedirectTest, NonMatchingRequestIsNotRedirected) {
  EXPECT_EQ(location("{https_redirect: true}", request("/elsewhere")), "<no redirect route>");
}

TEST_F(RedirectTest, ResponseCodes) {
  EXPECT_EQ(code("{https_redirect: true}"), 301u);
  EXPECT_EQ(code("{https_redirect: true, response_code: MOVED_PERMANENTLY}"), 301u);
  EXPECT_EQ(code("{https_redirect: true, response_code: FOUND}"), 302u);
  EXPECT_EQ(code("{https_redirect: true, response_code: SEE_OTHER}"), 303u);
  EXPECT_EQ(code("{https_redirect: true, response_code: TEMPORARY_REDIRECT}"), 307u);
  EXPECT_EQ(code("{https_redirect: true, response_code: PERMANENT_REDIRECT}"), 308u);
}

TEST(DirectResponseTest, StatusAndInlineStringBody) {
  auto table =
      buildTable(singleHost("  - name: health\n    match: {path: /healthz}\n    direct_response: {status: 200, body: "
                            "{inline_string: ok}}\n"));
  const Route* route = matchRoute(*table, TestRequest("/healthz"));
  ASSERT_NE(route, nullptr);
  ASSERT_EQ(route->kind(), Route::Kind::kDirectResponse);
  EXPECT_EQ(deref(route->directResponse()).status, 200u);
  EXPECT_EQ(deref(route->directResponse()).body, "ok");
  EXPECT_EQ(route->forward(), nullptr);
  EXPECT_EQ(matchRoute(*table, TestRequest("/other")), nullptr);
}

TEST(DirectResponseTest, InlineBytesAndNoBody) {
  auto table = buildTable(
      singleHost("  - match: {path: /b}\n    direct_response: {status: 503, body: {inline_bytes: aGVsbG8=}}\n"
                 "  - match: {path: /e}\n    direct_response: {status: 204}\n"));
  const DirectResponse& bytes = deref(deref(matchRoute(*table, TestRequest("/b"))).directResponse());
  EXPECT_EQ(bytes.body, "hello");
  EXPECT_EQ(bytes.status, 503u);
  EXPECT_EQ(deref(deref(matchRoute(*table, TestRequest("/e"))).directResponse()).body, "");
}

TEST(DirectResponseTest, BodyOverTheLimitIsAnError) {
  auto errors = buildErrors(
      "max_direct_response_body_size_bytes: 4\n" +
      singleHost("  - match: {path: /}\n    direct_response: {status: 200, body: {inline_string: toolong}}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].direct_response.body");
}

TEST(DirectResponseTest, StatusOutOfRangeIsAnError) {
  auto errors = buildErrors(singleHost("  - match: {path: /}\n    direct_response: {status: 99}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].direct_response.status");
}

}  // namespace
}  // namespace sluice::router::test
