// --mode route-check: Envoy's router check tool on sluice's own compiled
// route tables. A test's request goes through the steps the connection
// manager takes before and after routing (host port stripping, path
// normalisation, RouteTable::match, the cluster choice, rewrites, header
// mutations, the redirect or direct response), and the results are compared
// with what the test expects. Main thread; nothing here opens a socket.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/proxy_config.h"
#include "router/route_table.h"
#include "runtime/runtime.h"
#include "server/options.h"
#include "server/route_check_tests.h"

namespace sluice::server {

// The table the tests run against, with its connection manager's settings.
struct RouteCheckTarget {
  std::string listener;  // the listener that holds it
  std::shared_ptr<const router::RouteTable> table;
  router::MatchOptions match_options;
  http::PathNormalizationOptions path_normalization;
};

// The route table named `name` (a listener's name, else a route
// configuration's name) among the inline route_configs of `config`'s
// listeners; with `name` empty, the only one. nullopt with `error` saying
// what there is to choose from.
std::optional<RouteCheckTarget> selectRouteTable(const proxy::ProxyConfig& config, const std::string& name,
                                                 std::string& error);

// What one test's request got.
struct RouteCheckActual {
  bool routed = false;  // a route matched
  std::string note;     // why nothing was routed, or what the values cannot show
  const router::Route* route = nullptr;
  std::string route_label;  // virtual_hosts[0].routes[2] (and its name)
  std::string kind;         // forward, redirect, direct_response
  std::string cluster_name;
  std::string virtual_host_name;
  std::string host;  // after rewrites and mutations (forward routes)
  std::string path;
  std::string path_redirect;     // the Location (redirect routes)
  std::optional<uint32_t> code;  // the local answer's status (redirect and direct_response)
  http::HeaderMap request_headers;
  http::HeaderMap response_headers;
};

struct RouteCheckFailure {
  std::string field;  // test type: cluster_name, request_header_matches[0], ...
  std::string expected;
  std::string actual;
};

struct RouteCheckResult {
  std::string test_name;
  RouteCheckActual actual;
  std::vector<RouteCheckFailure> failures;
  std::vector<std::string> passed_fields;  // the checks that held (for coverage)
};

// Runs each test against `target`. `runtime` holds the bootstrap's runtime
// values; as in Envoy's tool, a runtime_fraction route is enabled only for a
// test whose `runtime` names its key (then by random_value).
std::vector<RouteCheckResult> runRouteTests(const RouteCheckTarget& target, const std::vector<RouteTest>& tests,
                                            const runtime::Snapshot& runtime);

// Route coverage, Envoy's way: each route (each cluster of a weighted route)
// counts once; it is covered when a check on a test that it answered held.
// `comprehensive` (--covall): the share of its checkable fields that did.
// Percent, 0..100 (100 for a table without routes).
double routeCoverage(const router::RouteTable& table, const std::vector<RouteCheckResult>& results, bool comprehensive,
                     std::vector<std::string>* uncovered = nullptr);

// The whole mode: compile `bootstrap`'s static listeners (as serve and
// --mode validate do; `bootstrap` has passed validateBootstrap), choose the
// table, load the tests, run them and print to `out` (results) and `err`
// (problems). Exit code: 0 when every test passed (and the coverage is at
// least --fail-under), else 1.
int runRouteCheck(const Options& options, const envoy::config::bootstrap::v3::Bootstrap& bootstrap, std::ostream& out,
                  std::ostream& err);

// Whether `path` (-c) is a bare RouteConfiguration, the input of Envoy's
// router check tool: a YAML or JSON map with `virtual_hosts` at its top.
bool isRouteConfigurationFile(const std::string& path);

// runRouteCheck for such a file: validated as an RDS route configuration is
// (rules, gate, semantics without cluster references), compiled, tested with
// no connection manager settings and no runtime values.
int runRouteCheckOnRouteConfiguration(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace sluice::server
