// Fuzzes route-table building and matching. The input is a RouteConfiguration
// in YAML, then a line "%%", then one request, a line each:
//   authority / path / method / source IP, then "name: value" header lines
//   and "@key=value" runtime entries.
// The configuration goes through what a bootstrap or a discovery file gets
// (YAML to proto, the supported-subset gate, PGV rules); if it passes,
// RouteTable::build compiles it (errors are fine, crashes are not) and the
// request is matched and put through everything the router does with a route:
// cluster choice, hash policy, path rewrite, redirect, header mutations.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "config/pgv_validator.h"
#include "config/supported_fields.h"
#include "config/yaml_to_proto.h"
#include "fuzz_util.h"
#include "proto_log.h"
#include "router/route_table.h"

using namespace sluice;

namespace {

std::string_view nextLine(std::string_view& rest) {
  const size_t end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n%%\n");
  const std::string_view yaml = input.substr(0, split);
  std::string_view rest = split == std::string_view::npos ? std::string_view() : input.substr(split + 4);

  envoy::config::route::v3::RouteConfiguration config;
  config::ErrorList errors;
  config::parseYamlInto(yaml, config, errors);
  if (errors.empty()) {
    config::checkSupported(config, "", errors);
    config::validateRules(config, "", errors);
  }
  std::shared_ptr<const router::RouteTable> table;
  if (errors.empty()) table = router::RouteTable::build(config, "route_config", errors);
  sluice::fuzz::verbose(errors.empty() ? "table built\n" : errors.toString());
  if (table == nullptr && errors.empty()) FUZZ_CHECK(false);
  FUZZ_CHECK(table == nullptr || errors.empty());
  for (const auto& e : errors.errors()) FUZZ_CHECK(!e.message.empty());
  if (!table) return 0;

  const std::string authority(nextLine(rest));
  const std::string path(nextLine(rest));
  const std::string method(nextLine(rest));
  const std::string source_ip(nextLine(rest));
  http::HeaderMap headers;
  std::map<std::string, std::string, std::less<>> runtime_values;
  while (!rest.empty()) {
    const std::string_view line = nextLine(rest);
    if (line.starts_with("@")) {
      const size_t eq = line.find('=');
      runtime_values[std::string(line.substr(1, eq - 1))] =
          eq == std::string_view::npos ? std::string() : std::string(line.substr(eq + 1));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(" ")) value.remove_prefix(1);
    headers.add(line.substr(0, colon), value);
  }
  const runtime::Snapshot runtime(std::move(runtime_values));
  const uint64_t random = size * 0x9e3779b97f4a7c15ull;

  const router::RequestView request{authority, path, method, "http", headers, source_ip};
  for (const router::MatchOptions options :
       {router::MatchOptions{}, router::MatchOptions{true, false, 0}, router::MatchOptions{false, true, 8080}}) {
    const router::Route* route = table->match(request, options, runtime, random);
    sluice::fuzz::verbose(route == nullptr ? "no route\n" : "route '" + route->name() + "'\n");
    if (route == nullptr) continue;
    FUZZ_CHECK(route->matches(request, runtime, random));
    http::HeaderMap upstream_headers = headers;
    route->applyRequestHeaderMutations(upstream_headers);
    http::HeaderMap response_headers;
    route->applyResponseHeaderMutations(response_headers);
    switch (route->kind()) {
      case router::Route::Kind::kForward: {
        const router::RouteAction* action = route->forward();
        FUZZ_CHECK(action != nullptr);
        (void)action->chooseCluster(headers, runtime, random);
        (void)action->hash(request);
        (void)action->upgradeEnabled("websocket");
        (void)route->rewritePath(path);
        break;
      }
      case router::Route::Kind::kRedirect:
        FUZZ_CHECK(route->redirect() != nullptr);
        (void)route->redirectLocation(request);
        break;
      case router::Route::Kind::kDirectResponse:
        FUZZ_CHECK(route->directResponse() != nullptr);
        break;
    }
  }
  return 0;
}
