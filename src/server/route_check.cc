#include "server/route_check.h"

#include <map>
#include <set>
#include <utility>

#include "config/input_limits.h"
#include "config/pgv_validator.h"
#include "config/semantic_validator.h"
#include "config/supported_fields.h"
#include "config/yaml_to_proto.h"
#include "server/config_compiler.h"
#include "server/runtime_loader.h"
#include "stats/stats.h"

namespace sluice::server {
namespace {

std::string quoted(std::string_view value) { return "'" + std::string(value) + "'"; }

// "virtual_hosts[0].routes[2] 'name'" for each route of `table`.
std::map<const router::Route*, std::string> routeLabels(const router::RouteTable& table) {
  std::map<const router::Route*, std::string> labels;
  const auto& hosts = table.virtualHosts();
  for (size_t v = 0; v < hosts.size(); ++v) {
    const auto& routes = hosts[v]->routes();
    for (size_t r = 0; r < routes.size(); ++r) {
      std::string label = "virtual_hosts[" + std::to_string(v) + "].routes[" + std::to_string(r) + "]";
      if (!routes[r]->name().empty()) label += " " + quoted(routes[r]->name());
      labels.emplace(routes[r].get(), std::move(label));
    }
  }
  return labels;
}

const char* kindName(router::Route::Kind kind) {
  switch (kind) {
    case router::Route::Kind::kForward:
      return "forward";
    case router::Route::Kind::kRedirect:
      return "redirect";
    case router::Route::Kind::kDirectResponse:
      return "direct_response";
  }
  return "";
}

// The runtime for one test: the bootstrap's values, with every
// runtime_fraction key of the table other than the test's own set to 0 (so
// its route is off), as Envoy's tool enables only the key a test names.
runtime::Snapshot testRuntime(const router::RouteTable& table, const runtime::Snapshot& base,
                              const std::string& enabled_key) {
  auto values = base.values();
  for (const auto& host : table.virtualHosts()) {
    for (const auto& route : host->routes()) {
      const auto& fraction = route->matcher().runtimeFraction();
      if (fraction && !fraction->runtimeKey().empty() && fraction->runtimeKey() != enabled_key) {
        values[fraction->runtimeKey()] = "0";
      }
    }
  }
  return runtime::Snapshot(std::move(values));
}

// The request of `in` through the steps DownstreamConnection takes around
// RouteTable::match (proxy/downstream_connection.cc, proxy/forward.cc), with
// sluice's own functions for each; nothing is sent anywhere.
RouteCheckActual routeRequest(const RouteCheckTarget& target, const std::map<const router::Route*, std::string>& labels,
                              const RouteTestInput& in, const runtime::Snapshot& runtime) {
  RouteCheckActual a;
  http::HeaderMap& headers = a.request_headers;
  // Envoy's tool: the scheme in x-forwarded-proto, x-envoy-internal when internal.
  headers.add("host", in.authority);
  headers.add("x-forwarded-proto", in.ssl ? "https" : "http");
  if (in.internal) headers.add("x-envoy-internal", "true");
  for (const auto& h : in.request_headers) headers.add(h.key, h.value);
  for (const auto& h : in.response_headers) a.response_headers.add(h.key, h.value);

  // The strip_*_host_port options change the Host the upstream sees too.
  const std::string host(router::stripHostPort(in.authority, target.match_options));
  headers.set("host", host);
  std::string path = in.path;
  switch (http::normalizeRequestPath(path, target.path_normalization)) {
    case http::PathVerdict::Forward:
      break;
    case http::PathVerdict::Reject:
      a.note = "path normalization rejects the path: sluice answers 400";
      return a;
    case http::PathVerdict::Redirect:
      a.note = "path normalization redirects to " + quoted(path) + ": sluice answers 307";
      return a;
  }
  // sluice's listeners are plain HTTP: the scheme a redirect keeps is http.
  const router::RequestView view{host, path, in.method, "http", headers, in.ip_address};
  const router::Route* route = target.table->match(view, target.match_options, runtime, in.random_value);
  if (route == nullptr) {
    a.note = target.table->findVirtualHost(host, target.match_options) == nullptr
                 ? "no virtual host matches " + quoted(host) + ": sluice answers 404"
                 : "no route matches: sluice answers 404";
    return a;
  }
  a.routed = true;
  a.route = route;
  a.route_label = labels.at(route);
  a.kind = kindName(route->kind());
  a.virtual_host_name = route->virtualHost().name();
  switch (route->kind()) {
    case router::Route::Kind::kForward: {
      const auto& action = *route->forward();
      a.cluster_name = std::string(action.chooseCluster(headers, runtime, in.random_value));
      if (a.cluster_name.empty()) {
        a.note = "no cluster (missing cluster header, or every weight 0): sluice answers " +
                 std::to_string(action.clusterNotFoundResponseCode());
      }
      // In prepareUpstreamRequest's order: path, host, then the header mutations.
      a.path = route->rewritePath(path).value_or(path);
      if (const auto rewrite = action.hostRewrite()) {
        headers.set("host", *rewrite);
      } else if (action.autoHostRewrite()) {
        a.note = "auto_host_rewrite: the host becomes the chosen endpoint's address when a request is sent";
      }
      route->applyRequestHeaderMutations(headers);
      a.host = std::string(headers.get("host").value_or(""));
      break;
    }
    case router::Route::Kind::kRedirect:
      a.path_redirect = route->redirectLocation(view);
      a.code = route->redirect()->responseCode();
      a.response_headers.add("location", a.path_redirect);
      break;
    case router::Route::Kind::kDirectResponse:
      a.code = route->directResponse()->status;
      break;
  }
  route->applyResponseHeaderMutations(a.response_headers);
  return a;
}

std::string headerValue(const router::RequestView& view, const std::string& name) {
  std::string storage;
  const auto value = router::requestHeaderValue(view, name, storage);
  return value ? std::string(*value) : std::string("(absent)");
}

RouteCheckResult checkTest(const RouteCheckTarget& target, const std::map<const router::Route*, std::string>& labels,
                           const RouteTest& test, const runtime::Snapshot& base_runtime) {
  RouteCheckResult result;
  result.test_name = test.name;
  const runtime::Snapshot runtime = testRuntime(*target.table, base_runtime, test.input.runtime);
  result.actual = routeRequest(target, labels, test.input, runtime);
  const RouteCheckActual& a = result.actual;
  auto compare = [&](std::string field, const std::optional<std::string>& expected, const std::string& actual) {
    if (!expected) return;
    if (*expected == actual) {
      result.passed_fields.push_back(std::move(field));
    } else {
      result.failures.push_back({std::move(field), *expected, actual});
    }
  };
  compare("cluster_name", test.expect.cluster_name, a.cluster_name);
  compare("virtual_host_name", test.expect.virtual_host_name, a.virtual_host_name);
  compare("path_rewrite", test.expect.path_rewrite, a.path);
  compare("host_rewrite", test.expect.host_rewrite, a.host);
  compare("path_redirect", test.expect.path_redirect, a.path_redirect);
  if (test.expect.code_redirect) {
    compare("code_redirect", std::to_string(*test.expect.code_redirect), a.code ? std::to_string(*a.code) : "");
  }
  // Headers last, as Envoy checks them: those of the rewritten request.
  const bool forwarded = a.routed && a.route->kind() == router::Route::Kind::kForward;
  const std::string authority(a.request_headers.get("host").value_or(""));
  const router::RequestView request{authority,         forwarded ? a.path : test.input.path,
                                    test.input.method, "http",
                                    a.request_headers, test.input.ip_address};
  const router::RequestView response{"", "", "", "", a.response_headers, ""};
  auto checkHeaders = [&](const std::vector<RouteTestHeaderCheck>& checks, const router::RequestView& view) {
    for (const auto& check : checks) {
      std::string field = check.field;
      if (check.matcher.matches(view)) {
        result.passed_fields.push_back(std::move(field));
      } else {
        result.failures.push_back(
            {std::move(field), check.description, check.header + ": " + headerValue(view, check.header)});
      }
    }
  };
  checkHeaders(test.expect.request_headers, request);
  checkHeaders(test.expect.response_headers, response);
  return result;
}

std::string describe(const RouteCheckActual& a) {
  std::string text;
  if (a.routed) {
    text = "matched " + a.route_label + " (" + a.kind + ") of virtual host " + quoted(a.virtual_host_name);
    if (a.kind == "forward") {
      text += ": cluster " + quoted(a.cluster_name) + ", host " + quoted(a.host) + ", path " + quoted(a.path);
    } else if (a.kind == "redirect") {
      text += ": " + std::to_string(*a.code) + " to " + quoted(a.path_redirect);
    } else {
      text += ": status " + std::to_string(*a.code);
    }
  }
  if (!a.note.empty()) text += (text.empty() ? "" : "; ") + a.note;
  return text;
}

// Each coverage unit: a route, or one cluster of a weighted route.
struct CoverageUnit {
  const router::Route* route;
  std::string cluster;  // weighted routes only
  std::string label;
  std::vector<std::string_view> fields;  // the checks --covall counts
};

std::vector<CoverageUnit> coverageUnits(const router::RouteTable& table) {
  static constexpr std::string_view kForward[] = {"cluster_name", "virtual_host_name", "path_rewrite", "host_rewrite"};
  static constexpr std::string_view kRedirect[] = {"virtual_host_name", "path_redirect", "code_redirect"};
  static constexpr std::string_view kDirect[] = {"virtual_host_name", "code_redirect"};
  const auto labels = routeLabels(table);
  std::vector<CoverageUnit> units;
  for (const auto& host : table.virtualHosts()) {
    for (const auto& route : host->routes()) {
      const std::string& label = labels.at(route.get());
      const std::string prefix = "host: " + host->name() + ", route: " + label;
      switch (route->kind()) {
        case router::Route::Kind::kForward:
          if (route->forward()->clusterKind() == router::RouteAction::ClusterKind::kWeighted) {
            for (const auto& entry : route->forward()->weightedClusters()) {
              units.push_back({route.get(), entry.name, prefix + ", cluster: " + entry.name, {}});
              units.back().fields.assign(std::begin(kForward), std::end(kForward));
            }
            continue;
          }
          units.push_back({route.get(), "", prefix, {std::begin(kForward), std::end(kForward)}});
          break;
        case router::Route::Kind::kRedirect:
          units.push_back({route.get(), "", prefix, {std::begin(kRedirect), std::end(kRedirect)}});
          break;
        case router::Route::Kind::kDirectResponse:
          units.push_back({route.get(), "", prefix, {std::begin(kDirect), std::end(kDirect)}});
          break;
      }
    }
  }
  return units;
}

runtime::Snapshot bootstrapRuntime(const envoy::config::bootstrap::v3::Bootstrap& bootstrap) {
  RuntimeValues values;
  for (const auto& layer : bootstrap.layered_runtime().layers()) {
    if (!layer.has_static_layer()) continue;
    RuntimeValues layer_values;
    flattenStaticLayer(layer.static_layer(), layer_values);
    for (auto& [key, value] : layer_values) values[key] = std::move(value);
  }
  return runtime::Snapshot(std::move(values));
}

void printErrors(std::ostream& err, const std::string& what, const config::ErrorList& errors) {
  err << what << " (" << errors.size() << (errors.size() == 1 ? " error" : " errors") << "):\n" << errors.toString();
}

}  // namespace

std::optional<RouteCheckTarget> selectRouteTable(const proxy::ProxyConfig& config, const std::string& name,
                                                 std::string& error) {
  std::vector<RouteCheckTarget> tables;
  std::vector<std::string> rds_listeners;
  for (const auto& listener : config.listeners) {
    for (const auto& chain : listener->filter_chains) {
      if (!chain.hcm.routes) {
        rds_listeners.push_back(listener->name);
        continue;
      }
      tables.push_back({listener->name, chain.hcm.routes, chain.hcm.match_options, chain.hcm.path_normalization});
    }
  }
  auto list = [&] {
    std::string text;
    for (const auto& t : tables) {
      text += "\n  listener " + quoted(t.listener) + ": route_config " + quoted(t.table->name());
    }
    for (const auto& l : rds_listeners)
      text += "\n  listener " + quoted(l) + ": rds (not checked: its routes arrive at run time)";
    return text;
  };
  if (tables.empty()) {
    error = "no route table to check: no listener has an inline route_config" + list();
    return std::nullopt;
  }
  if (name.empty()) {
    if (tables.size() == 1) return tables.front();
    error = "the config has " + std::to_string(tables.size()) +
            " route tables: choose one with --route-config NAME (a listener's or a route_config's name):" + list();
    return std::nullopt;
  }
  for (const auto& t : tables) {
    if (t.listener == name) return t;
  }
  std::vector<const RouteCheckTarget*> named;
  for (const auto& t : tables) {
    if (t.table->name() == name) named.push_back(&t);
  }
  if (named.size() == 1) return *named.front();
  if (named.empty()) {
    error = "--route-config " + quoted(name) + ": no listener or route_config of that name; there are:" + list();
  } else {
    error = "--route-config " + quoted(name) +
            ": several listeners have a route_config of that name; name the listener:" + list();
  }
  return std::nullopt;
}

std::vector<RouteCheckResult> runRouteTests(const RouteCheckTarget& target, const std::vector<RouteTest>& tests,
                                            const runtime::Snapshot& runtime) {
  const auto labels = routeLabels(*target.table);
  std::vector<RouteCheckResult> results;
  results.reserve(tests.size());
  for (const auto& test : tests) results.push_back(checkTest(target, labels, test, runtime));
  return results;
}

double routeCoverage(const router::RouteTable& table, const std::vector<RouteCheckResult>& results, bool comprehensive,
                     std::vector<std::string>* uncovered) {
  const auto units = coverageUnits(table);
  if (units.empty()) return 100;
  // The checks that held, by the unit that answered them.
  std::map<std::pair<const router::Route*, std::string>, std::set<std::string, std::less<>>> held;
  for (const auto& r : results) {
    if (!r.actual.routed || r.passed_fields.empty()) continue;
    const bool weighted = r.actual.route->kind() == router::Route::Kind::kForward &&
                          r.actual.route->forward()->clusterKind() == router::RouteAction::ClusterKind::kWeighted;
    auto& fields = held[{r.actual.route, weighted ? r.actual.cluster_name : std::string()}];
    fields.insert(r.passed_fields.begin(), r.passed_fields.end());
  }
  double covered = 0;
  for (const auto& unit : units) {
    const auto it = held.find({unit.route, unit.cluster});
    if (it == held.end()) {
      if (uncovered != nullptr) uncovered->push_back(unit.label);
      continue;
    }
    if (!comprehensive) {
      covered += 1;
      continue;
    }
    size_t fields = 0;
    for (const auto field : unit.fields) fields += it->second.contains(field) ? 1 : 0;
    covered += static_cast<double>(fields) / static_cast<double>(unit.fields.size());
  }
  return 100 * covered / static_cast<double>(units.size());
}

namespace {

// Loads the tests and runs them against `target`; prints the results.
int checkTarget(const RouteCheckOptions& rc, const RouteCheckTarget& target, const runtime::Snapshot& runtime,
                const std::string& against, std::ostream& out, std::ostream& err) {
  config::ErrorList errors;
  const auto tests = loadRouteTests(rc.tests_path, errors);
  if (!errors.empty()) {
    printErrors(err, "route tests '" + rc.tests_path + "' are invalid", errors);
    return 1;
  }

  const auto results = runRouteTests(target, tests, runtime);
  size_t failed = 0;
  for (const auto& r : results) {
    const bool passed = r.failures.empty();
    failed += passed ? 0 : 1;
    if (rc.details && !(passed && rc.only_show_failures)) {
      out << r.test_name << (passed ? "" : " (failed)") << "\n  " << describe(r.actual) << "\n";
    } else if (!passed) {
      out << r.test_name << " (failed)\n";
      if (!r.actual.note.empty()) out << "  " << r.actual.note << "\n";
    }
    // Envoy's tool's words for a failure.
    for (const auto& f : r.failures) {
      out << "  expected: [" << f.expected << "], actual: [" << f.actual << "], test type: " << f.field << "\n";
    }
  }
  out << "route-check: " << results.size() << (results.size() == 1 ? " test" : " tests") << " against " << against
      << ": " << results.size() - failed << " passed, " << failed << " failed\n";

  int code = failed == 0 ? 0 : 1;
  if (rc.coverage || rc.comprehensive || rc.detailed_coverage || rc.fail_under) {
    std::vector<std::string> uncovered;
    const double coverage = routeCoverage(*target.table, results, rc.comprehensive, &uncovered);
    out << "Current route coverage: " << coverage << "%\n";
    if (rc.detailed_coverage) {
      for (const auto& unit : uncovered) out << "Missing test for " << unit << "\n";
    }
    if (rc.fail_under && coverage < *rc.fail_under) {
      err << "Failed to meet coverage requirement: " << *rc.fail_under << "%\n";
      code = 1;
    }
  }
  return code;
}

}  // namespace

int runRouteCheck(const Options& options, const envoy::config::bootstrap::v3::Bootstrap& bootstrap, std::ostream& out,
                  std::ostream& err) {
  const std::string config_name = options.config_path.empty() ? "--config-yaml" : options.config_path;
  // The static listeners, compiled as serve and --mode validate compile them
  // (the bootstrap has passed validateBootstrap). File and xDS sources are
  // not read: their routes are not what a tests file can pin down.
  stats::Store store(1);
  proxy::StatsRegistry registry(store);
  config::ErrorList errors;
  const auto compiled = compileStatic(bootstrap, registry, errors, nullptr);
  if (!errors.empty()) {
    printErrors(err, "configuration '" + config_name + "' is invalid", errors);
    return 1;
  }
  std::string error;
  const auto target = selectRouteTable(*compiled, options.route_check.route_config, error);
  if (!target) {
    err << "configuration '" << config_name << "': " << error << "\n";
    return 1;
  }
  return checkTarget(options.route_check, *target, bootstrapRuntime(bootstrap),
                     "listener " + quoted(target->listener) + " (route_config " + quoted(target->table->name()) + ")",
                     out, err);
}

bool isRouteConfigurationFile(const std::string& path) {
  if (!(path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json"))) return false;
  std::string text;
  config::ErrorList errors;
  YAML::Node root;
  if (!config::readConfigFile(path, text, errors) || !config::loadBoundedYaml(text, path, root, errors)) return false;
  return root.IsMap() && root["virtual_hosts"].IsDefined() && !root["static_resources"].IsDefined();
}

int runRouteCheckOnRouteConfiguration(const Options& options, std::ostream& out, std::ostream& err) {
  const std::string& path = options.config_path;
  // Checked as an RDS route configuration is: rules, gate, semantics (no
  // cluster references: there are no clusters), then compiled.
  config::ErrorList errors;
  envoy::config::route::v3::RouteConfiguration config;
  std::string text;
  if (config::readConfigFile(path, text, errors)) config::parseYamlInto(text, config, errors, path);
  if (errors.empty()) {
    config::validateRules(config, "", errors);
    config::checkSupported(config, "", errors);
  }
  if (errors.empty()) config::checkRouteConfiguration(config, "", errors);
  RouteCheckTarget target;
  target.listener = "";
  if (errors.empty()) target.table = router::RouteTable::build(config, "", errors);
  if (!errors.empty() || !target.table) {
    printErrors(err, "route configuration '" + path + "' is invalid", errors);
    return 1;
  }
  const std::string& wanted = options.route_check.route_config;
  if (!wanted.empty() && wanted != config.name()) {
    err << "route configuration '" << path << "': --route-config " << quoted(wanted)
        << ": the file's route configuration is named " << quoted(config.name()) << "\n";
    return 1;
  }
  // No connection manager: Envoy's defaults (no port stripping, no normalisation).
  return checkTarget(options.route_check, target, runtime::Snapshot(), "route_config " + quoted(config.name()), out,
                     err);
}

}  // namespace sluice::server
