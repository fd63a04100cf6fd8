// Header additions and removals at route, virtual-host and route-config level.
#include <gtest/gtest.h>

#include <vector>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

std::vector<std::string> values(const http::HeaderMap& headers, std::string_view name) {
  std::vector<std::string> out;
  headers.forEach([&](const http::HeaderMap::Entry& e) {
    if (e.name == name) out.emplace_back(e.value);
  });
  return out;
}

using Values = std::vector<std::string>;

// One route with request_headers_to_add `adds` (a YAML flow list) applied to
// `headers`.
http::HeaderMap applyRouteAdds(std::string_view adds, http::HeaderMap headers) {
  auto table =
      buildTable(singleHost("  - match: {prefix: /}\n    direct_response: {status: 200}\n"
                            "    request_headers_to_add: " +
                            std::string(adds) + "\n"));
  table->virtualHosts()[0]->routes()[0]->applyRequestHeaderMutations(headers);
  return headers;
}

http::HeaderMap withHeader(std::string_view name, std::string_view value) {
  http::HeaderMap headers;
  headers.add(name, value);
  return headers;
}

TEST(AppendAction, AppendIfExistsOrAddIsTheDefault) {
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: b}}]", withHeader("x", "a")), "x"), (Values{"a", "b"}));
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: b}}]", http::HeaderMap()), "x"), (Values{"b"}));
}

TEST(AppendAction, AddIfAbsent) {
  const std::string add = "[{header: {key: x, value: b}, append_action: ADD_IF_ABSENT}]";
  EXPECT_EQ(values(applyRouteAdds(add, withHeader("x", "a")), "x"), (Values{"a"}));
  EXPECT_EQ(values(applyRouteAdds(add, http::HeaderMap()), "x"), (Values{"b"}));
}

TEST(AppendAction, OverwriteIfExistsOrAdd) {
  const std::string add = "[{header: {key: x, value: b}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]";
  http::HeaderMap two = withHeader("x", "a1");
  two.add("x", "a2");
  EXPECT_EQ(values(applyRouteAdds(add, std::move(two)), "x"), (Values{"b"}));
  EXPECT_EQ(values(applyRouteAdds(add, http::HeaderMap()), "x"), (Values{"b"}));
}

TEST(AppendAction, OverwriteIfExists) {
  const std::string add = "[{header: {key: x, value: b}, append_action: OVERWRITE_IF_EXISTS}]";
  EXPECT_EQ(values(applyRouteAdds(add, withHeader("x", "a")), "x"), (Values{"b"}));
  EXPECT_EQ(values(applyRouteAdds(add, http::HeaderMap()), "x"), (Values{}));
}

TEST(AppendAction, DeprecatedAppendFlag) {
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: b}, append: true}]", withHeader("x", "a")), "x"),
            (Values{"a", "b"}));
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: b}, append: false}]", withHeader("x", "a")), "x"),
            (Values{"b"}));
}

TEST(AppendAction, EmptyValuesAreSkippedUnlessKept) {
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: ''}}]", http::HeaderMap()), "x"), (Values{}));
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: ''}, keep_empty_value: true}]", http::HeaderMap()), "x"),
            (Values{""}));
}

TEST(AppendAction, ConditionsSeeTheHeadersBeforeThisLevelsAdditions) {
  // Both entries are decided against the original (empty) headers, so both add.
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: a}}, "
                                  "{header: {key: x, value: b}, append_action: ADD_IF_ABSENT}]",
                                  http::HeaderMap()),
                   "x"),
            (Values{"a", "b"}));
}

TEST(AppendAction, OverwritesLandBeforeAppendsWithinALevel) {
  EXPECT_EQ(values(applyRouteAdds("[{header: {key: x, value: a}}, "
                                  "{header: {key: x, value: b}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]",
                                  withHeader("x", "orig")),
                   "x"),
            (Values{"b", "a"}));
}

TEST(HeaderRemoval, RemovalsHappenBeforeAdditions) {
  auto table = buildTable(singleHost(
      "  - match: {prefix: /}\n    direct_response: {status: 200}\n"
      "    request_headers_to_remove: [x-secret, X-Drop]\n"
      "    request_headers_to_add: [{header: {key: x-secret, value: new}, append_action: ADD_IF_ABSENT}]\n"));
  http::HeaderMap headers = withHeader("x-secret", "old");
  headers.add("x-drop", "1");
  headers.add("x-keep", "1");
  table->virtualHosts()[0]->routes()[0]->applyRequestHeaderMutations(headers);
  EXPECT_EQ(values(headers, "x-secret"), (Values{"new"}));
  EXPECT_FALSE(headers.has("x-drop"));
  EXPECT_TRUE(headers.has("x-keep"));
}

// The same header set at three levels, each overwriting.
constexpr std::string_view kThreeLevels = R"(
request_headers_to_add: [{header: {key: x-level, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD},
                         {header: {key: x-all, value: config}}]
response_headers_to_add: [{header: {key: x-level, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]
response_headers_to_remove: [server]
virtual_hosts:
- name: vh
  domains: ['*']
  request_headers_to_add: [{header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD},
                           {header: {key: x-all, value: vhost}}]
  response_headers_to_add: [{header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]
  routes:
  - match: {prefix: /}
    route: {cluster: c}
    request_headers_to_add: [{header: {key: x-level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD},
                             {header: {key: x-all, value: route}}]
    response_headers_to_add: [{header: {key: x-level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]
)";

TEST(HeaderLevels, ByDefaultRouteConfigLevelIsAppliedLastAndWins) {
  auto table = buildTable(kThreeLevels);
  const Route* route = matchRoute(*table, TestRequest("/"));
  ASSERT_NE(route, nullptr);
  http::HeaderMap request;
  route->applyRequestHeaderMutations(request);
  EXPECT_EQ(values(request, "x-level"), (Values{"config"}));
  EXPECT_EQ(values(request, "x-all"), (Values{"route", "vhost", "config"}));

  http::HeaderMap response = withHeader("server", "upstream");
  route->applyResponseHeaderMutations(response);
  EXPECT_EQ(values(response, "x-level"), (Values{"config"}));
  EXPECT_FALSE(response.has("server"));
}

TEST(HeaderLevels, MostSpecificHeaderMutationsWinsAppliesTheRouteLast) {
  auto table = buildTable("most_specific_header_mutations_wins: true\n" + std::string(kThreeLevels));
  const Route* route = matchRoute(*table, TestRequest("/"));
  ASSERT_NE(route, nullptr);
  http::HeaderMap request;
  route->applyRequestHeaderMutations(request);
  EXPECT_EQ(values(request, "x-level"), (Values{"route"}));
  EXPECT_EQ(values(request, "x-all"), (Values{"config", "vhost", "route"}));

  http::HeaderMap response;
  route->applyResponseHeaderMutations(response);
  EXPECT_EQ(values(response, "x-level"), (Values{"route"}));
}

TEST(HeaderLevels, AddIfAbsentAtTheRouteWinsByDefault) {
  auto table = buildTable(R"(
request_headers_to_add: [{header: {key: x, value: config}, append_action: ADD_IF_ABSENT}]
virtual_hosts:
- name: vh
  domains: ['*']
  request_headers_to_add: [{header: {key: x, value: vhost}, append_action: ADD_IF_ABSENT}]
  routes:
  - match: {prefix: /}
    route: {cluster: c}
    request_headers_to_add: [{header: {key: x, value: route}, append_action: ADD_IF_ABSENT}]
)");
  http::HeaderMap request;
  deref(matchRoute(*table, TestRequest("/"))).applyRequestHeaderMutations(request);
  EXPECT_EQ(values(request, "x"), (Values{"route"}));
}

TEST(HeaderLevels, VirtualHostLevelAppliesToEveryRouteOfIt) {
  auto table = buildTable(R"(
virtual_hosts:
- name: vh
  domains: ['*']
  response_headers_to_add: [{header: {key: x-vh, value: '1'}}]
  routes:
  - {match: {prefix: /a}, route: {cluster: c}}
  - {match: {prefix: /b}, redirect: {https_redirect: true}}
)");
  for (const char* path : {"/a", "/b"}) {
    http::HeaderMap response;
    deref(matchRoute(*table, TestRequest(path))).applyResponseHeaderMutations(response);
    EXPECT_EQ(values(response, "x-vh"), (Values{"1"})) << path;
  }
}

TEST(HeaderMutationBuild, PseudoHeadersAndHostMayNotBeTouched) {
  auto errors = buildErrors(
      singleHost("  - match: {prefix: /}\n    route: {cluster: c}\n"
                 "    request_headers_to_add: [{header: {key: ':path', value: /x}}, {header: {key: Host, value: h}}]\n"
                 "    request_headers_to_remove: [':authority']\n"));
  ASSERT_EQ(errors.size(), 3u) << errors.toString();
  EXPECT_EQ(errors.errors()[0].path, "virtual_hosts[0].routes[0].request_headers_to_add[0].header.key");
  EXPECT_EQ(errors.errors()[1].path, "virtual_hosts[0].routes[0].request_headers_to_add[1].header.key");
  EXPECT_EQ(errors.errors()[2].path, "virtual_hosts[0].routes[0].request_headers_to_remove[0]");
}

TEST(HeaderMutationBuild, AppendAndAppendActionTogetherAreAnError) {
  auto errors = buildErrors(
      "request_headers_to_add: [{header: {key: x, value: v}, append: true, append_action: ADD_IF_ABSENT}]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "request_headers_to_add[0].append");
}

}  // namespace
}  // namespace sluice::router::test
