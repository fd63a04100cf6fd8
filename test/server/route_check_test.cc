// --mode route-check's checker: the tests file (Envoy's router check schema,
// every field by name), the choice of route table, what a test's request gets
// from the real route table, and Envoy's route coverage.
#include "server/route_check.h"

#include <gtest/gtest.h>

#include "config/yaml_to_proto.h"
#include "router/router_test_util.h"
#include "server/config_compiler.h"
#include "stats/stats.h"

namespace sluice::server {
namespace {

std::vector<RouteTest> parseOk(std::string_view yaml) {
  config::ErrorList errors;
  auto tests = parseRouteTests(yaml, "t.yaml", errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  return tests;
}

std::string parseErrors(std::string_view yaml) {
  config::ErrorList errors;
  parseRouteTests(yaml, "t.yaml", errors);
  return errors.toString();
}

TEST(RouteTests, ReadsEveryFieldOfEnvoysSchema) {
  const auto tests = parseOk(R"(
tests:
- test_name: one
  input:
    authority: a.test
    path: /x
    method: POST
    random_value: 42
    ssl: true
    internal: true
    ip_address: 10.0.0.1
    runtime: k
    additional_request_headers: [{key: X-A, value: b}]
    additional_response_headers: [{key: x-r, value: s}]
  validate:
    cluster_name: c
    virtual_host_name: v
    host_rewrite: h
    path_rewrite: /p
    path_redirect: http://r/
    code_redirect: 301
    request_header_matches: [{name: x-a, string_match: {exact: b}}]
    response_header_matches: [{name: x-r, present_match: true}]
    request_header_fields: [{key: x-a, value: b}]
    response_header_fields: [{key: x-r, value: s}]
)");
  ASSERT_EQ(tests.size(), 1u);
  const auto& t = tests[0];
  EXPECT_EQ(t.name, "one");
  EXPECT_EQ(t.input.authority, "a.test");
  EXPECT_EQ(t.input.method, "POST");
  EXPECT_EQ(t.input.random_value, 42u);
  EXPECT_TRUE(t.input.ssl);
  EXPECT_TRUE(t.input.internal);
  EXPECT_EQ(t.input.ip_address, "10.0.0.1");
  EXPECT_EQ(t.input.runtime, "k");
  ASSERT_EQ(t.input.request_headers.size(), 1u);
  EXPECT_EQ(t.input.request_headers[0].key, "x-a");  // lowercase, as on the wire
  EXPECT_EQ(t.expect.cluster_name, "c");
  EXPECT_EQ(t.expect.code_redirect, 301u);
  EXPECT_EQ(t.expect.request_headers.size(), 2u);
  EXPECT_EQ(t.expect.response_headers.size(), 2u);
  EXPECT_EQ(t.expect.request_headers[0].field, "request_header_matches[0]");
  EXPECT_EQ(t.expect.request_headers[1].field, "request_header_fields[0]");
}

TEST(RouteTests, MethodDefaultsToGetAndAbsentChecksAreUnset) {
  const auto tests = parseOk("tests: [{test_name: t, input: {authority: a, path: /}, validate: {cluster_name: ''}}]");
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].input.method, "GET");
  EXPECT_EQ(tests[0].expect.cluster_name, "");  // set: expects no cluster
  EXPECT_FALSE(tests[0].expect.virtual_host_name.has_value());
  EXPECT_FALSE(tests[0].expect.code_redirect.has_value());
}

TEST(RouteTests, RejectsUnknownFieldsByPath) {
  const std::string errors = parseErrors(R"(
tests:
- test_name: t
  extra: 1
  input: {authority: a, path: /, colour: red}
  validate: {cluster: c}
top: 1
)");
  EXPECT_NE(errors.find("tests[0].extra: unknown field"), std::string::npos) << errors;
  EXPECT_NE(errors.find("tests[0].input.colour: unknown field"), std::string::npos) << errors;
  EXPECT_NE(errors.find("tests[0].validate.cluster: unknown field"), std::string::npos) << errors;
  EXPECT_NE(errors.find("top: unknown field"), std::string::npos) << errors;
}

TEST(RouteTests, RejectsFieldsThatNeedWhatSluiceLacks) {
  const std::string errors = parseErrors(R"(
tests:
- test_name: t
  input: {authority: a, path: /, additional_headers: [{key: a, value: b}]}
  validate: {virtual_cluster_name: v, dynamic_metadata: []}
)");
  EXPECT_NE(errors.find("tests[0].validate.virtual_cluster_name: not supported: sluice has no virtual clusters"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("tests[0].validate.dynamic_metadata: not supported"), std::string::npos) << errors;
  EXPECT_NE(errors.find("tests[0].input.additional_headers: not supported: Envoy's v2 schema"), std::string::npos)
      << errors;
}

TEST(RouteTests, RequiresNameInputValidateAuthorityPathAndOneCheck) {
  EXPECT_NE(parseErrors("tests: [{input: {authority: a, path: /}, validate: {cluster_name: c}}]")
                .find("tests[0].test_name: is required"),
            std::string::npos);
  EXPECT_NE(parseErrors("tests: [{test_name: t, validate: {cluster_name: c}}]").find("tests[0].input: is required"),
            std::string::npos);
  EXPECT_NE(
      parseErrors("tests: [{test_name: t, input: {authority: a, path: /}}]").find("tests[0].validate: is required"),
      std::string::npos);
  EXPECT_NE(parseErrors("tests: [{test_name: t, input: {path: /}, validate: {cluster_name: c}}]")
                .find("tests[0].input.authority: is required"),
            std::string::npos);
  EXPECT_NE(parseErrors("tests: [{test_name: t, input: {authority: a}, validate: {cluster_name: c}}]")
                .find("tests[0].input.path: is required"),
            std::string::npos);
  EXPECT_NE(parseErrors("tests: [{test_name: t, input: {authority: a, path: /}, validate: {}}]")
                .find("tests[0].validate: checks nothing"),
            std::string::npos);
  EXPECT_NE(
      parseErrors("tests: [{test_name: t, input: {authority: a, path: /, method: GE}, validate: {cluster_name: c}}]")
          .find("tests[0].input.method: must be at least 3 characters"),
      std::string::npos);
}

TEST(RouteTests, RejectsWrongTypesAndEmptyFiles) {
  EXPECT_NE(
      parseErrors("tests: [{test_name: t, input: {authority: a, path: /, ssl: maybe}, validate: {cluster_name: c}}]")
          .find("tests[0].input.ssl: expects true or false"),
      std::string::npos);
  EXPECT_NE(parseErrors("tests: [{test_name: t, input: {authority: a, path: /}, validate: {code_redirect: x}}]")
                .find("tests[0].validate.code_redirect: expects a non-negative integer"),
            std::string::npos);
  EXPECT_NE(parseErrors("tests: [{test_name: [t], input: {authority: a, path: /}, validate: {cluster_name: c}}]")
                .find("tests[0].test_name: expects a string"),
            std::string::npos);
  EXPECT_NE(parseErrors("").find("no tests"), std::string::npos);
  EXPECT_NE(parseErrors("tests: []").find("no tests"), std::string::npos);
  EXPECT_NE(parseErrors("[1, 2]").find("expects a map"), std::string::npos);
  EXPECT_NE(parseErrors("tests: {").find("syntax error"), std::string::npos);
}

TEST(RouteTests, HeaderMatchersGoThroughTheGateAndTheCompile) {
  EXPECT_NE(parseErrors("tests: [{test_name: t, input: {authority: a, path: /}, validate: "
                        "{request_header_matches: [{name: x, safe_regex_match: {regex: '('}}]}}]")
                .find("tests[0].validate.request_header_matches[0].safe_regex_match.regex: invalid RE2 pattern"),
            std::string::npos);
  EXPECT_NE(parseErrors("tests: [{test_name: t, input: {authority: a, path: /}, validate: "
                        "{request_header_matches: [{name: '', present_match: true}]}}]")
                .find("tests[0].validate.request_header_matches[0].name"),
            std::string::npos);
}

TEST(RouteTests, MissingFileNamesThePath) {
  config::ErrorList errors;
  loadRouteTests("/nonexistent/tests.yaml", errors);
  EXPECT_NE(errors.toString().find("cannot read '/nonexistent/tests.yaml'"), std::string::npos) << errors.toString();
}

// ---- running tests against a table ----

RouteCheckTarget targetFor(std::string_view yaml) {
  RouteCheckTarget target;
  target.listener = "l";
  target.table = router::test::buildTable(yaml);
  return target;
}

constexpr std::string_view kTable = R"(
name: t
request_headers_to_add: [{header: {key: x-cfg, value: "1"}}]
virtual_hosts:
- name: www
  domains: [www.test]
  routes:
  - name: api
    match: {prefix: /api/}
    route: {cluster: api, prefix_rewrite: /, host_rewrite_literal: api.internal}
    response_headers_to_add: [{header: {key: x-r, value: api}}]
  - name: by-header
    match: {prefix: /h, headers: [{name: x-env, string_match: {exact: internal}}]}
    route: {cluster_header: x-cluster}
  - name: internal-only
    match: {prefix: /i, headers: [{name: x-envoy-internal, present_match: true}]}
    direct_response: {status: 204}
  - name: secure-only
    match: {prefix: /s, headers: [{name: x-forwarded-proto, string_match: {exact: https}}]}
    redirect: {host_redirect: secure.test}
  - match: {prefix: /}
    route: {weighted_clusters: {clusters: [{name: a, weight: 1}, {name: b, weight: 3}]}}
)";

RouteCheckResult runOne(const RouteCheckTarget& target, std::string_view tests_yaml,
                        const runtime::Snapshot& runtime = runtime::Snapshot()) {
  auto tests = parseOk(tests_yaml);
  auto results = runRouteTests(target, tests, runtime);
  EXPECT_EQ(results.size(), 1u);
  return std::move(results.front());
}

TEST(RouteCheck, ReportsWhatTheRealTableDoes) {
  const auto target = targetFor(kTable);
  const auto r = runOne(target, R"(
tests:
- test_name: api
  input: {authority: www.test, path: "/api/x?q"}
  validate:
    cluster_name: api
    virtual_host_name: www
    path_rewrite: "/x?q"
    host_rewrite: api.internal
    request_header_matches: [{name: x-cfg, string_match: {exact: "1"}}, {name: ":path", string_match: {exact: "/x?q"}}]
    response_header_matches: [{name: x-r, string_match: {exact: api}}]
)");
  EXPECT_TRUE(r.failures.empty()) << r.failures[0].field << ": " << r.failures[0].actual;
  EXPECT_EQ(r.actual.route_label, "virtual_hosts[0].routes[0] 'api'");
  EXPECT_EQ(r.actual.kind, "forward");
}

TEST(RouteCheck, EachFailureNamesTheFieldExpectedAndActual) {
  const auto target = targetFor(kTable);
  const auto r = runOne(target, R"(
tests:
- test_name: wrong
  input: {authority: www.test, path: /api/x}
  validate:
    cluster_name: web
    host_rewrite: www.test
    code_redirect: 301
    response_header_matches: [{name: x-r, string_match: {exact: web}}]
)");
  ASSERT_EQ(r.failures.size(), 4u);
  EXPECT_EQ(r.failures[0].field, "cluster_name");
  EXPECT_EQ(r.failures[0].expected, "web");
  EXPECT_EQ(r.failures[0].actual, "api");
  EXPECT_EQ(r.failures[1].field, "host_rewrite");
  EXPECT_EQ(r.failures[1].actual, "api.internal");
  EXPECT_EQ(r.failures[2].field, "code_redirect");
  EXPECT_EQ(r.failures[2].actual, "");
  EXPECT_EQ(r.failures[3].field, "response_header_matches[0]");
  EXPECT_EQ(r.failures[3].actual, "x-r: api");
}

TEST(RouteCheck, AdditionalHeadersInternalAndSslReachTheMatchers) {
  const auto target = targetFor(kTable);
  EXPECT_EQ(runOne(target, R"(
tests:
- test_name: t
  input: {authority: www.test, path: /h, additional_request_headers: [{key: x-env, value: internal}, {key: x-cluster, value: c9}]}
  validate: {cluster_name: c9}
)")
                .failures.size(),
            0u);
  // Without x-cluster: the route matches but names no cluster.
  const auto missing = runOne(target, R"(
tests:
- test_name: t
  input: {authority: www.test, path: /h, additional_request_headers: [{key: x-env, value: internal}]}
  validate: {cluster_name: ""}
)");
  EXPECT_TRUE(missing.failures.empty());
  EXPECT_NE(missing.actual.note.find("no cluster"), std::string::npos);
  EXPECT_EQ(runOne(target,
                   "tests: [{test_name: t, input: {authority: www.test, path: /i, internal: true}, validate: "
                   "{code_redirect: 204}}]")
                .failures.size(),
            0u);
  EXPECT_EQ(runOne(target,
                   "tests: [{test_name: t, input: {authority: www.test, path: /i}, validate: "
                   "{code_redirect: 204}}]")
                .failures.size(),
            1u);
  // ssl sets x-forwarded-proto; sluice's listeners are plain HTTP, so the redirect keeps http.
  const auto secure = runOne(target,
                             "tests: [{test_name: t, input: {authority: www.test, path: /s, ssl: true}, "
                             "validate: {path_redirect: 'http://secure.test/s', code_redirect: 301}}]");
  EXPECT_TRUE(secure.failures.empty()) << secure.failures[0].actual;
}

TEST(RouteCheck, RandomValuePicksTheWeightedCluster) {
  const auto target = targetFor(kTable);
  for (const auto& [random, cluster] :
       std::vector<std::pair<int, std::string>>{{0, "a"}, {1, "b"}, {3, "b"}, {4, "a"}}) {
    const auto r = runOne(target, "tests: [{test_name: t, input: {authority: www.test, path: /, random_value: " +
                                      std::to_string(random) + "}, validate: {cluster_name: " + cluster + "}}]");
    EXPECT_TRUE(r.failures.empty()) << random << ": " << r.failures[0].actual;
  }
}

TEST(RouteCheck, NoVirtualHostMeansEveryValueEmpty) {
  const auto target = targetFor(kTable);
  const auto r = runOne(target,
                        "tests: [{test_name: t, input: {authority: other.test, path: /}, validate: "
                        "{cluster_name: '', virtual_host_name: '', path_rewrite: '', host_rewrite: ''}}]");
  EXPECT_TRUE(r.failures.empty());
  EXPECT_FALSE(r.actual.routed);
  EXPECT_NE(r.actual.note.find("no virtual host matches 'other.test'"), std::string::npos) << r.actual.note;
}

TEST(RouteCheck, RuntimeFractionRoutesAreOnOnlyForTheNamedKeyAndFollowTheRuntime) {
  const auto target = targetFor(R"(
virtual_hosts:
- name: v
  domains: ["*"]
  routes:
  - match: {prefix: /, runtime_fraction: {default_value: {numerator: 30}, runtime_key: on.key}}
    route: {cluster: fraction}
  - match: {prefix: /}
    route: {cluster: rest}
)");
  auto cluster = [&](std::string_view input, const runtime::Snapshot& runtime = runtime::Snapshot()) {
    return runOne(target,
                  "tests: [{test_name: t, input: {authority: a, path: /, " + std::string(input) +
                      "}, validate: {cluster_name: x}}]",
                  runtime)
        .actual.cluster_name;
  };
  EXPECT_EQ(cluster("random_value: 0"), "rest");
  EXPECT_EQ(cluster("random_value: 29, runtime: on.key"), "fraction");
  EXPECT_EQ(cluster("random_value: 30, runtime: on.key"), "rest");
  // The bootstrap's runtime value replaces the default numerator, as in serve.
  const runtime::Snapshot layered(std::map<std::string, std::string, std::less<>>{{"on.key", "50"}});
  EXPECT_EQ(cluster("random_value: 40, runtime: on.key", layered), "fraction");
  EXPECT_EQ(cluster("random_value: 40", layered), "rest");
}

TEST(RouteCheck, HostPortStrippingAndPathNormalisationAreTheConnectionManagers) {
  auto target = targetFor(kTable);
  target.match_options.strip_any_host_port = true;
  target.path_normalization.merge_slashes = true;
  const auto r = runOne(target,
                        "tests: [{test_name: t, input: {authority: 'www.test:8080', path: '//api//x'}, "
                        "validate: {cluster_name: api, path_rewrite: /x}}]");
  EXPECT_TRUE(r.failures.empty()) << r.failures[0].field << ": " << r.failures[0].actual;
}

// ---- coverage ----

TEST(RouteCoverage, CountsEachRouteAndEachWeightedClusterCoveredByAPassingCheck) {
  const auto target = targetFor(kTable);
  // Units: api, by-header, internal-only, secure-only, a, b: six.
  auto tests = parseOk(R"(
tests:
- test_name: api
  input: {authority: www.test, path: /api/}
  validate: {cluster_name: api}
- test_name: a
  input: {authority: www.test, path: /, random_value: 0}
  validate: {cluster_name: a}
- test_name: b fails, so covers nothing
  input: {authority: www.test, path: /, random_value: 1}
  validate: {cluster_name: a}
)");
  const auto results = runRouteTests(target, tests, runtime::Snapshot());
  std::vector<std::string> uncovered;
  EXPECT_DOUBLE_EQ(routeCoverage(*target.table, results, false, &uncovered), 100.0 * 2 / 6);
  ASSERT_EQ(uncovered.size(), 4u);
  EXPECT_EQ(uncovered.back(), "host: www, route: virtual_hosts[0].routes[4], cluster: b");
  // --covall: api and a each have one of their four fields checked.
  EXPECT_DOUBLE_EQ(routeCoverage(*target.table, results, true), 100.0 * (0.25 + 0.25) / 6);
}

// ---- choosing the table ----

TEST(SelectRouteTable, TheOnlyTableOrOneNamedByListenerOrRouteConfig) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  config::ErrorList errors;
  const std::string listener = R"(
- name: %s
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
  filter_chains:
  - filters:
    - name: envoy.filters.network.http_connection_manager
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        stat_prefix: s
        route_config: {name: %s, virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}
        http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
)";
  auto listenerYaml = [&](const std::string& name, const std::string& route_config) {
    std::string text = listener;
    text.replace(text.find("%s"), 2, name);
    text.replace(text.find("%s"), 2, route_config);
    for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 3)) text.insert(at + 1, "  ");
    return text;
  };
  config::parseYamlInto("static_resources:\n  listeners:" + listenerYaml("one", "shared") +
                            listenerYaml("two", "shared") + listenerYaml("three", "own"),
                        bootstrap, errors);
  ASSERT_TRUE(errors.empty()) << errors.toString();
  stats::Store store(1);
  proxy::StatsRegistry registry(store);
  const auto compiled = compileStatic(bootstrap, registry, errors);
  ASSERT_TRUE(errors.empty()) << errors.toString();
  std::string error;
  EXPECT_FALSE(selectRouteTable(*compiled, "", error));
  EXPECT_NE(error.find("3 route tables: choose one with --route-config NAME"), std::string::npos) << error;
  EXPECT_EQ(selectRouteTable(*compiled, "two", error)->listener, "two");
  EXPECT_EQ(selectRouteTable(*compiled, "own", error)->listener, "three");
  EXPECT_FALSE(selectRouteTable(*compiled, "shared", error));
  EXPECT_NE(error.find("several listeners have a route_config of that name"), std::string::npos) << error;
  EXPECT_FALSE(selectRouteTable(*compiled, "none", error));
  EXPECT_NE(error.find("no listener or route_config of that name"), std::string::npos) << error;
}

TEST(SelectRouteTable, ListenersWithRdsAreNamedButNotChecked) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  config::ErrorList errors;
  config::parseYamlInto(R"(
static_resources:
  listeners:
  - name: dynamic
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: s
          rds: {route_config_name: r, config_source: {path_config_source: {path: /nonexistent/rds.yaml}}}
          http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
)",
                        bootstrap, errors);
  ASSERT_TRUE(errors.empty()) << errors.toString();
  stats::Store store(1);
  proxy::StatsRegistry registry(store);
  const auto compiled = compileStatic(bootstrap, registry, errors);
  ASSERT_TRUE(errors.empty()) << errors.toString();
  std::string error;
  EXPECT_FALSE(selectRouteTable(*compiled, "", error));
  EXPECT_NE(error.find("no listener has an inline route_config"), std::string::npos) << error;
  EXPECT_NE(error.find("listener 'dynamic': rds (not checked"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::server
