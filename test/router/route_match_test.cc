// Route matching: path specifiers, case, order, runtime fraction and errors.
#include <gtest/gtest.h>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

std::string matchedName(std::string_view routes_yaml, const TestRequest& request, uint64_t random = 0,
                        const runtime::Snapshot& runtime = runtime::Snapshot()) {
  auto table = buildTable(singleHost(routes_yaml));
  if (table == nullptr) return "<no table>";
  return routeName(matchRoute(*table, request, random, runtime));
}

constexpr std::string_view kOk = "direct_response: {status: 200}";

std::string route(std::string_view name, std::string_view match) {
  return "  - name: " + std::string(name) + "\n    match: " + std::string(match) + "\n    " + std::string(kOk) + "\n";
}

TEST(PathMatch, PrefixMatchesTheStartOfThePath) {
  const auto routes = route("r", "{prefix: /api}");
  EXPECT_EQ(matchedName(routes, TestRequest("/api/v1")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/apix")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/ap")), "<none>");
  EXPECT_EQ(matchedName(routes, TestRequest("/other")), "<none>");
}

TEST(PathMatch, PrefixComparesTheFullPathIncludingQuery) {
  const auto routes = route("r", "{prefix: '/a?x=1'}");
  EXPECT_EQ(matchedName(routes, TestRequest("/a?x=1&y=2")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/a?x=2")), "<none>");
}

TEST(PathMatch, PathIsExactAndIgnoresTheQuery) {
  const auto routes = route("r", "{path: /login}");
  EXPECT_EQ(matchedName(routes, TestRequest("/login")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/login?next=/home")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/login/")), "<none>");
  EXPECT_EQ(matchedName(routes, TestRequest("/Login")), "<none>");
}

TEST(PathMatch, SafeRegexMustMatchTheWholePathWithoutQuery) {
  const auto routes = route("r", "{safe_regex: {regex: '/users/[0-9]+'}}");
  EXPECT_EQ(matchedName(routes, TestRequest("/users/42")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/users/42?verbose=1")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/users/42/posts")), "<none>");
  EXPECT_EQ(matchedName(routes, TestRequest("/x/users/42")), "<none>");
}

TEST(PathMatch, PathSeparatedPrefixEndsAtASlashOrTheQuery) {
  const auto routes = route("r", "{path_separated_prefix: /api}");
  EXPECT_EQ(matchedName(routes, TestRequest("/api")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/api/v1")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/api?x=1")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/api#frag")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/apix")), "<none>");
}

TEST(PathMatch, CaseInsensitivePrefixAndPath) {
  const auto routes = route("p", "{prefix: /API, case_sensitive: false}") +
                      route("x", "{path: /Exact, case_sensitive: false}") +
                      route("s", "{path_separated_prefix: /Sep, case_sensitive: false}");
  EXPECT_EQ(matchedName(routes, TestRequest("/api/v1")), "p");
  EXPECT_EQ(matchedName(routes, TestRequest("/EXACT?q")), "x");
  EXPECT_EQ(matchedName(routes, TestRequest("/sep/a")), "s");
  EXPECT_EQ(matchedName(routes, TestRequest("/other")), "<none>");
}

TEST(PathMatch, CaseSensitiveByDefault) {
  const auto routes = route("p", "{prefix: /API}") + route("c", "{prefix: /Api, case_sensitive: true}");
  EXPECT_EQ(matchedName(routes, TestRequest("/api")), "<none>");
  EXPECT_EQ(matchedName(routes, TestRequest("/Api")), "c");
}

TEST(PathMatch, CaseSensitiveDoesNotApplyToRegex) {
  const auto routes = route("r", "{safe_regex: {regex: '/abc'}, case_sensitive: false}");
  EXPECT_EQ(matchedName(routes, TestRequest("/abc")), "r");
  EXPECT_EQ(matchedName(routes, TestRequest("/ABC")), "<none>");
}

TEST(RouteOrder, FirstMatchingRouteWins) {
  const auto routes = route("specific", "{prefix: /api/v2}") + route("general", "{prefix: /api}") +
                      route("late", "{prefix: /api/v2/late}") + route("all", "{prefix: /}");
  EXPECT_EQ(matchedName(routes, TestRequest("/api/v2/late")), "specific");
  EXPECT_EQ(matchedName(routes, TestRequest("/api/v1")), "general");
  EXPECT_EQ(matchedName(routes, TestRequest("/")), "all");
}

TEST(RuntimeFraction, DefaultFractionComparesTheRandomValue) {
  const auto routes = route("canary", "{prefix: /, runtime_fraction: {default_value: {numerator: 25}}}") +
                      route("stable", "{prefix: /}");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 24), "canary");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 124), "canary");  // random % 100
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 25), "stable");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 99), "stable");
}

TEST(RuntimeFraction, DenominatorIsHonoured) {
  const auto routes =
      route("canary", "{prefix: /, runtime_fraction: {default_value: {numerator: 5, denominator: TEN_THOUSAND}}}");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 4), "canary");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 5), "<none>");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 10004), "canary");
}

TEST(RuntimeFraction, RuntimeKeyOverridesTheNumerator) {
  const auto routes =
      route("canary", "{prefix: /, runtime_fraction: {default_value: {numerator: 0}, runtime_key: routing.canary}}");
  const runtime::Snapshot runtime = runtimeWith({{"routing.canary", "50"}});
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 49, runtime), "canary");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 50, runtime), "<none>");
  EXPECT_EQ(matchedName(routes, TestRequest("/"), 0), "<none>");  // key absent: default 0%
}

TEST(RouteMatchBuild, BadRegexNamesTheFieldPath) {
  auto errors = buildErrors(singleHost(route("ok", "{prefix: /}") + route("ok2", "{prefix: /a}") +
                                       route("bad", "{safe_regex: {regex: '/(unclosed'}}")));
  ASSERT_EQ(errors.size(), 1u) << errors.toString();
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[2].match.safe_regex.regex");
  EXPECT_NE(errors.errors()[0].message.find("invalid RE2 pattern"), std::string::npos) << errors.toString();
}

TEST(RouteMatchBuild, OversizedRegexIsRejectedAsEnvoyDoes) {
  auto errors = buildErrors(singleHost(route("big", "{safe_regex: {regex: '/[a-z]{200}'}}")));
  ASSERT_EQ(errors.size(), 1u) << errors.toString();
  EXPECT_NE(errors.errors()[0].message.find("program size"), std::string::npos);
}

TEST(RouteMatchBuild, EveryBadRouteIsReported) {
  auto errors = buildErrors(singleHost(route("a", "{safe_regex: {regex: '['}}") +
                                       route("b", "{prefix: /, headers: [{name: x, safe_regex_match: {regex: '('}}]}") +
                                       "  - match: {prefix: /}\n"));
  ASSERT_EQ(errors.size(), 3u) << errors.toString();
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].match.safe_regex.regex");
  EXPECT_EQ(errors.errors()[1].path, "virtual_hosts[0].routes[1].match.headers[0].safe_regex_match.regex");
  EXPECT_EQ(errors.errors()[2].path, "virtual_hosts[0].routes[2]");
}

// Conditions sluice cannot evaluate (grpc, tls_context, dynamic_metadata) are
// rejected by the gate: SupportedFields.RejectsEveryRouteAndAccessLogFieldSluiceDoesNotImplement.

TEST(RouteMatchBuild, PathSeparatedPrefixMustNotEndInSlash) {
  auto errors = buildErrors(singleHost(route("s", "{path_separated_prefix: /api/}")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].match.path_separated_prefix");
}

}  // namespace
}  // namespace sluice::router::test
