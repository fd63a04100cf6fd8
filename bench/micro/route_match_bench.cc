// Route matching: one virtual host with 10 / 100 / 1,000 prefix routes (the
// request hits the last one, the worst case of first-match order), and 100
// virtual hosts of 10 routes each (the authority picks one).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "config/config_error.h"
#include "envoy/config/route/v3/route.pb.h"
#include "router/route_table.h"
#include "runtime/runtime.h"

namespace {

using sluice::router::MatchOptions;
using sluice::router::RequestView;
using sluice::router::RouteTable;

void addRoutes(envoy::config::route::v3::VirtualHost& vh, int routes) {
  for (int i = 0; i < routes; ++i) {
    auto* route = vh.add_routes();
    route->mutable_match()->set_prefix("/service-" + std::to_string(i) + "/");
    route->mutable_route()->set_cluster("cluster-" + std::to_string(i % 10));
  }
}

std::shared_ptr<const RouteTable> build(const envoy::config::route::v3::RouteConfiguration& config) {
  sluice::config::ErrorList errors;
  auto table = RouteTable::build(config, "", errors);
  if (!table) std::abort();
  return table;
}

void match(benchmark::State& state, const RouteTable& table, std::string_view authority, std::string_view path) {
  const sluice::http::HeaderMap headers;
  const sluice::runtime::Snapshot runtime;
  const MatchOptions options;
  const RequestView request{authority, path, "GET", "http", headers, "127.0.0.1"};
  for (auto _ : state) {
    const auto* route = table.match(request, options, runtime, 0);
    if (route == nullptr) state.SkipWithError("no route matched");
    benchmark::DoNotOptimize(route);
  }
}

void BM_RouteMatchLastOfN(benchmark::State& state) {
  const int routes = static_cast<int>(state.range(0));
  envoy::config::route::v3::RouteConfiguration config;
  auto* vh = config.add_virtual_hosts();
  vh->set_name("all");
  vh->add_domains("*");
  addRoutes(*vh, routes);
  const auto table = build(config);
  const std::string path = "/service-" + std::to_string(routes - 1) + "/items/42?x=1";
  match(state, *table, "example.com", path);
}
BENCHMARK(BM_RouteMatchLastOfN)->Arg(10)->Arg(100)->Arg(1000);

void BM_RouteMatch100VirtualHosts(benchmark::State& state) {
  envoy::config::route::v3::RouteConfiguration config;
  for (int i = 0; i < 100; ++i) {
    auto* vh = config.add_virtual_hosts();
    vh->set_name("vh-" + std::to_string(i));
    vh->add_domains("host-" + std::to_string(i) + ".example.com");
    vh->add_domains("*.wild-" + std::to_string(i) + ".example.com");
    addRoutes(*vh, 10);
  }
  const auto table = build(config);
  // An exact domain, and a suffix wildcard one.
  const bool wildcard = state.range(0) == 1;
  match(state, *table, wildcard ? "api.wild-57.example.com" : "host-57.example.com", "/service-5/items/42");
}
BENCHMARK(BM_RouteMatch100VirtualHosts)->ArgName("wildcard")->Arg(0)->Arg(1);

}  // namespace
