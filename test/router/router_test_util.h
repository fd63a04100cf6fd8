// Helpers for router tests: route tables built from YAML, so a test reads like
// the config it exercises, and requests that own their storage.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "config/yaml_to_proto.h"
#include "envoy/config/route/v3/route.pb.h"
#include "router/route_table.h"
#include "runtime/runtime.h"

namespace sluice::router::test {

inline envoy::config::route::v3::RouteConfiguration parseRouteConfig(std::string_view yaml) {
  envoy::config::route::v3::RouteConfiguration config;
  config::ErrorList errors;
  config::parseYamlInto(yaml, config, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  return config;
}

// A table that must build without errors.
inline std::shared_ptr<const RouteTable> buildTable(std::string_view yaml) {
  config::ErrorList errors;
  auto table = RouteTable::build(parseRouteConfig(yaml), "", errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_NE(table, nullptr);
  return table;
}

// The errors of a table that must not build.
inline config::ErrorList buildErrors(std::string_view yaml) {
  config::ErrorList errors;
  auto table = RouteTable::build(parseRouteConfig(yaml), "", errors);
  EXPECT_EQ(table, nullptr);
  EXPECT_FALSE(errors.empty());
  return errors;
}

// One virtual host for every domain, holding `routes_yaml` (a YAML list,
// indented for `routes:`).
inline std::string singleHost(std::string_view routes_yaml) {
  std::string out = "virtual_hosts:\n- name: vh\n  domains: ['*']\n  routes:\n";
  out += routes_yaml;
  return out;
}

struct TestRequest {
  TestRequest() = default;
  explicit TestRequest(std::string request_path, std::string request_authority = "example.com")
      : authority(std::move(request_authority)), path(std::move(request_path)) {}

  TestRequest& header(std::string_view name, std::string_view value) {
    headers.add(name, value);
    return *this;
  }
  RequestView view() const { return RequestView{authority, path, method, scheme, headers, source_ip}; }

  std::string authority = "example.com";
  std::string path = "/";
  std::string method = "GET";
  std::string scheme = "http";
  http::HeaderMap headers;
  std::string source_ip;
};

// A runtime snapshot holding `values`.
inline runtime::Snapshot runtimeWith(std::initializer_list<std::pair<const std::string, std::string>> values) {
  return runtime::Snapshot(std::map<std::string, std::string, std::less<>>(values));
}

// Matches with default options, an empty runtime and random value 0.
inline const Route* matchRoute(const RouteTable& table, const TestRequest& request, uint64_t random = 0,
                               const runtime::Snapshot& runtime = runtime::Snapshot()) {
  return table.match(request.view(), MatchOptions{}, runtime, random);
}

// *pointer, failing the test (and stopping it) when null. Lets tests use the
// nullable accessors without tripping -Wnull-dereference.
template <typename T>
const T& deref(const T* pointer) {
  if (pointer == nullptr) {
    ADD_FAILURE() << "unexpected null pointer";
    std::abort();
  }
  return *pointer;
}

inline std::string routeName(const Route* route) { return route == nullptr ? "<none>" : route->name(); }

}  // namespace sluice::router::test
