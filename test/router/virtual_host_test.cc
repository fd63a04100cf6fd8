// Virtual-host selection: domain precedence, case, ports and build errors.
#include <gtest/gtest.h>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

// Each virtual host answers with a route named after itself.
constexpr std::string_view kDomains = R"(
virtual_hosts:
- name: exact
  domains: [www.foo.com]
  routes: [{name: exact, match: {prefix: /}, direct_response: {status: 200}}]
- name: suffix_short
  domains: ['*.com']
  routes: [{name: suffix_short, match: {prefix: /}, direct_response: {status: 200}}]
- name: suffix_long
  domains: ['*.foo.com']
  routes: [{name: suffix_long, match: {prefix: /}, direct_response: {status: 200}}]
- name: suffix_dash
  domains: ['*-bar.foo.com']
  routes: [{name: suffix_dash, match: {prefix: /}, direct_response: {status: 200}}]
- name: prefix_short
  domains: ['api.*']
  routes: [{name: prefix_short, match: {prefix: /}, direct_response: {status: 200}}]
- name: prefix_long
  domains: ['api.internal.*']
  routes: [{name: prefix_long, match: {prefix: /}, direct_response: {status: 200}}]
- name: default
  domains: ['*']
  routes: [{name: default, match: {prefix: /}, direct_response: {status: 200}}]
)";

std::string hostFor(const RouteTable& table, std::string_view authority, const MatchOptions& options = {}) {
  const VirtualHost* vh = table.findVirtualHost(authority, options);
  return vh == nullptr ? "<none>" : vh->name();
}

TEST(VirtualHostSelection, ExactDomainBeatsWildcards) {
  auto table = buildTable(kDomains);
  EXPECT_EQ(hostFor(*table, "www.foo.com"), "exact");
}

TEST(VirtualHostSelection, LongestSuffixWildcardWins) {
  auto table = buildTable(kDomains);
  EXPECT_EQ(hostFor(*table, "a.foo.com"), "suffix_long");
  EXPECT_EQ(hostFor(*table, "a.other.com"), "suffix_short");
  EXPECT_EQ(hostFor(*table, "web-bar.foo.com"), "suffix_dash");
}

TEST(VirtualHostSelection, SuffixWildcardNeedsAtLeastOneCharacter) {
  auto table = buildTable(kDomains);
  // "*.foo.com" does not match "foo.com" itself; "*.com" does.
  EXPECT_EQ(hostFor(*table, "foo.com"), "suffix_short");
  EXPECT_EQ(hostFor(*table, ".com"), "default");
}

TEST(VirtualHostSelection, SuffixWildcardBeatsPrefixWildcard) {
  auto table = buildTable(kDomains);
  EXPECT_EQ(hostFor(*table, "api.foo.com"), "suffix_long");
}

TEST(VirtualHostSelection, LongestPrefixWildcardWins) {
  auto table = buildTable(kDomains);
  EXPECT_EQ(hostFor(*table, "api.internal.net"), "prefix_long");
  EXPECT_EQ(hostFor(*table, "api.example.net"), "prefix_short");
}

TEST(VirtualHostSelection, StarIsTheFallback) {
  auto table = buildTable(kDomains);
  EXPECT_EQ(hostFor(*table, "example.net"), "default");
  EXPECT_EQ(hostFor(*table, ""), "default");
}

TEST(VirtualHostSelection, NoVirtualHostWithoutStar) {
  auto table = buildTable(R"(
virtual_hosts:
- name: only
  domains: [foo.com]
  routes: [{match: {prefix: /}, direct_response: {status: 200}}]
)");
  EXPECT_EQ(hostFor(*table, "bar.com"), "<none>");
  EXPECT_EQ(matchRoute(*table, TestRequest("/", "bar.com")), nullptr);
}

TEST(VirtualHostSelection, DomainsAreCaseInsensitive) {
  auto table = buildTable(kDomains);
  EXPECT_EQ(hostFor(*table, "WWW.Foo.COM"), "exact");
  EXPECT_EQ(hostFor(*table, "A.FOO.com"), "suffix_long");
  EXPECT_EQ(hostFor(*table, "API.Internal.net"), "prefix_long");
}

TEST(VirtualHostSelection, MatchUsesTheSelectedHostsRoutes) {
  auto table = buildTable(kDomains);
  EXPECT_EQ(routeName(matchRoute(*table, TestRequest("/x", "www.foo.com"))), "exact");
  EXPECT_EQ(routeName(matchRoute(*table, TestRequest("/x", "b.foo.com"))), "suffix_long");
}

constexpr std::string_view kPorts = R"(
virtual_hosts:
- name: plain
  domains: [foo.com]
  routes: [{match: {prefix: /}, direct_response: {status: 200}}]
- name: with_port
  domains: ['foo.com:8080']
  routes: [{match: {prefix: /}, direct_response: {status: 200}}]
- name: wild_port
  domains: ['*.bar.com:9000']
  routes: [{match: {prefix: /}, direct_response: {status: 200}}]
)";

TEST(VirtualHostPorts, HostWithPortOnlyMatchesDomainWithThatPort) {
  auto table = buildTable(kPorts);
  EXPECT_EQ(hostFor(*table, "foo.com:8080"), "with_port");
  EXPECT_EQ(hostFor(*table, "foo.com"), "plain");
  EXPECT_EQ(hostFor(*table, "foo.com:9090"), "<none>");
  EXPECT_EQ(hostFor(*table, "a.bar.com:9000"), "wild_port");
  EXPECT_EQ(hostFor(*table, "a.bar.com"), "<none>");
}

TEST(VirtualHostPorts, StripAnyHostPortIgnoresEveryPort) {
  auto table = buildTable(kPorts);
  const MatchOptions strip_any{.strip_any_host_port = true, .strip_matching_host_port = false, .listener_port = 80};
  EXPECT_EQ(hostFor(*table, "foo.com:9090", strip_any), "plain");
  EXPECT_EQ(hostFor(*table, "foo.com:8080", strip_any), "plain");
}

TEST(VirtualHostPorts, StripMatchingHostPortOnlyStripsTheListenerPort) {
  auto table = buildTable(kPorts);
  const MatchOptions strip_matching{
      .strip_any_host_port = false, .strip_matching_host_port = true, .listener_port = 9090};
  EXPECT_EQ(hostFor(*table, "foo.com:9090", strip_matching), "plain");
  EXPECT_EQ(hostFor(*table, "foo.com:8080", strip_matching), "with_port");
  EXPECT_EQ(hostFor(*table, "foo.com:7070", strip_matching), "<none>");
}

TEST(VirtualHostPorts, IgnorePortInHostMatchingStripsEveryPort) {
  auto table = buildTable(R"(
ignore_port_in_host_matching: true
virtual_hosts:
- name: plain
  domains: [foo.com]
  routes: [{match: {prefix: /}, direct_response: {status: 200}}]
)");
  EXPECT_EQ(hostFor(*table, "foo.com:1234"), "plain");
}

TEST(VirtualHostPorts, IPv6LiteralPortIsStrippedButNotItsColons) {
  auto table = buildTable(R"(
virtual_hosts:
- name: v6
  domains: ['[::1]']
  routes: [{match: {prefix: /}, direct_response: {status: 200}}]
)");
  const MatchOptions strip_any{.strip_any_host_port = true, .strip_matching_host_port = false, .listener_port = 0};
  EXPECT_EQ(hostFor(*table, "[::1]:8080", strip_any), "v6");
  EXPECT_EQ(hostFor(*table, "[::1]", strip_any), "v6");
  EXPECT_EQ(hostFor(*table, "[::1]:8080"), "<none>");
}

TEST(VirtualHostPorts, NonNumericPortIsNotStripped) {
  EXPECT_EQ(stripHostPort("foo.com:http", MatchOptions{.strip_any_host_port = true}), "foo.com:http");
  EXPECT_EQ(stripHostPort("foo.com:", MatchOptions{.strip_any_host_port = true}), "foo.com:");
  EXPECT_EQ(stripHostPort("::1", MatchOptions{.strip_any_host_port = true}), "::1");
}

TEST(VirtualHostBuild, DuplicateDomainAcrossHostsIsAnErrorWithItsPath) {
  auto errors = buildErrors(R"(
virtual_hosts:
- name: a
  domains: [foo.com]
- name: b
  domains: [bar.com, FOO.com]
)");
  ASSERT_EQ(errors.size(), 1u) << errors.toString();
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[1].domains[1]");
  EXPECT_NE(errors.errors()[0].message.find("virtual host 'a'"), std::string::npos);
}

TEST(VirtualHostBuild, TwoStarHostsAreAnError) {
  auto errors = buildErrors("virtual_hosts:\n- {name: a, domains: ['*']}\n- {name: b, domains: ['*']}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[1].domains[0]");
}

TEST(VirtualHostBuild, ErrorPathsStartAtTheGivenRoot) {
  config::ErrorList errors;
  auto table = RouteTable::build(parseRouteConfig("virtual_hosts:\n- {name: a, domains: []}\n"),
                                 "filters[0].typed_config.route_config", errors);
  EXPECT_EQ(table, nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "filters[0].typed_config.route_config.virtual_hosts[0].domains");
}

}  // namespace
}  // namespace sluice::router::test
