// The tests file of --mode route-check: Envoy's router check tool schema
// (envoy.RouterCheckToolSchema.Validation: `tests: [{test_name, input,
// validate}]`), read from YAML or JSON with the config-input bounds. Every
// field is checked by name: an unknown one, or one of Envoy's that needs a
// feature sluice does not have, is an error naming its path. Plain values;
// main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "router/matchers.h"

namespace sluice::server {

struct RouteTestHeader {
  std::string key;
  std::string value;
};

// ValidationInput: the request (and response headers) a test routes.
struct RouteTestInput {
  std::string authority;
  std::string path;
  std::string method = "GET";
  uint64_t random_value = 0;                      // weighted clusters and runtime fractions
  bool ssl = false;                               // x-forwarded-proto: https (else http)
  bool internal = false;                          // x-envoy-internal: true
  std::string ip_address;                         // the downstream address (hash policies); empty: none
  std::vector<RouteTestHeader> request_headers;   // additional_request_headers
  std::vector<RouteTestHeader> response_headers;  // additional_response_headers
  std::string runtime;                            // the runtime key a runtime_fraction route may be enabled by
};

// One request_header_matches / response_header_matches entry (the deprecated
// *_header_fields are exact matches of the same kind).
struct RouteTestHeaderCheck {
  std::string field;        // e.g. "request_header_matches[0]", for reports
  std::string header;       // lowercase header name
  std::string description;  // what is expected, for reports (e.g. `x-a exact "b"`)
  router::HeaderMatcher matcher;
};

// ValidationAssert: the expected results; an absent field is not checked,
// an empty string expects no value ("no cluster").
struct RouteTestExpect {
  std::optional<std::string> cluster_name;
  std::optional<std::string> virtual_host_name;
  std::optional<std::string> host_rewrite;
  std::optional<std::string> path_rewrite;
  std::optional<std::string> path_redirect;
  std::optional<uint32_t> code_redirect;
  std::vector<RouteTestHeaderCheck> request_headers;
  std::vector<RouteTestHeaderCheck> response_headers;
};

struct RouteTest {
  std::string name;
  RouteTestInput input;
  RouteTestExpect expect;
};

// Parses a tests document (`text`, read from `source`). Errors name the field
// path (`tests[2].validate.cluster_nme: unknown field`); the result is only
// meaningful when none was added.
std::vector<RouteTest> parseRouteTests(std::string_view text, std::string_view source, config::ErrorList& errors);

// Reads the file at `path` and parses it; errors as parseRouteTests', a file
// that cannot be read is one naming the path.
std::vector<RouteTest> loadRouteTests(const std::string& path, config::ErrorList& errors);

}  // namespace sluice::server
