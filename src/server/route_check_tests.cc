#include "server/route_check_tests.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <functional>
#include <map>

#include "config/input_limits.h"
#include "config/pgv_validator.h"
#include "config/supported_fields.h"
#include "config/yaml_to_proto.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "router/request.h"

namespace sluice::server {
namespace {

using config::childPath;
using config::ErrorList;
using config::indexPath;

// Fields of Envoy's schema that need what sluice does not have: refused by
// name, never passed as if checked.
const std::map<std::string_view, std::string_view>& unsupportedFields() {
  static const std::map<std::string_view, std::string_view> fields = {
      {"virtual_cluster_name", "sluice has no virtual clusters (VirtualHost.virtual_clusters)"},
      {"dynamic_metadata", "sluice has no dynamic metadata (no set_metadata filter)"},
      {"additional_headers", "Envoy's v2 schema; the v3 field is additional_request_headers"},
      {"header_fields", "Envoy's v2 schema; use request_header_matches"},
      {"custom_header_fields", "Envoy's v2 schema; use request_header_matches"},
  };
  return fields;
}

// A map's entries by key, each handled by the matching function; every
// other key is an error at its path.
using FieldHandlers = std::map<std::string_view, std::function<void(const YAML::Node&, const std::string&)>>;

void forEachField(const YAML::Node& node, const std::string& path, const FieldHandlers& handlers, ErrorList& errors) {
  if (!node.IsMap()) {
    errors.add(path, "expects a map");
    return;
  }
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      errors.add(path, "keys must be strings");
      continue;
    }
    const std::string& key = entry.first.Scalar();
    const std::string field_path = childPath(path, key);
    if (const auto it = handlers.find(key); it != handlers.end()) {
      it->second(entry.second, field_path);
    } else if (const auto unsupported = unsupportedFields().find(key); unsupported != unsupportedFields().end()) {
      errors.add(field_path, "not supported: " + std::string(unsupported->second));
    } else {
      errors.add(field_path, "unknown field");
    }
  }
}

bool readString(const YAML::Node& node, const std::string& path, std::string& out, ErrorList& errors) {
  if (!node.IsScalar()) {
    errors.add(path, "expects a string");
    return false;
  }
  out = node.Scalar();
  return true;
}

template <typename Int>
bool readInteger(const YAML::Node& node, const std::string& path, Int& out, ErrorList& errors) {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    errors.add(path, "expects a non-negative integer");
    return false;
  }
  return true;
}

bool readBool(const YAML::Node& node, const std::string& path, bool& out, ErrorList& errors) {
  if (node.IsScalar() && (node.Scalar() == "true" || node.Scalar() == "false")) {
    out = node.Scalar() == "true";
    return true;
  }
  errors.add(path, "expects true or false");
  return false;
}

void readHeaders(const YAML::Node& node, const std::string& path, std::vector<RouteTestHeader>& out,
                 ErrorList& errors) {
  if (!node.IsSequence()) {
    errors.add(path, "expects a list of {key, value}");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = indexPath(path, i);
    RouteTestHeader header;
    bool has_key = false;
    forEachField(
        node[i], item_path,
        {{"key", [&](const YAML::Node& n, const std::string& p) { has_key = readString(n, p, header.key, errors); }},
         {"value", [&](const YAML::Node& n, const std::string& p) { readString(n, p, header.value, errors); }}},
        errors);
    if (!node[i].IsMap()) continue;
    if (!has_key || header.key.empty()) {
      errors.add(childPath(item_path, "key"), "is required");
      continue;
    }
    header.key = router::toLower(header.key);
    out.push_back(std::move(header));
  }
}

// A HeaderMatcher entry, through the same loader, rules, gate and compile as
// the route table's own header matchers.
void addHeaderCheck(const envoy::config::route::v3::HeaderMatcher& proto, const std::string& path,
                    std::string description, std::vector<RouteTestHeaderCheck>& out, ErrorList& errors) {
  const size_t before = errors.size();
  config::validateRules(proto, path, errors);
  config::checkSupported(proto, path, errors);
  if (errors.size() != before) return;
  auto matcher = router::HeaderMatcher::build(proto, path, errors);
  if (!matcher) return;
  const size_t dot = path.rfind('.');
  out.push_back(RouteTestHeaderCheck{path.substr(dot == std::string::npos ? 0 : dot + 1), router::toLower(proto.name()),
                                     std::move(description), std::move(*matcher)});
}

void readHeaderMatches(const YAML::Node& node, const std::string& path, std::vector<RouteTestHeaderCheck>& out,
                       ErrorList& errors) {
  if (!node.IsSequence()) {
    errors.add(path, "expects a list of header matchers");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = indexPath(path, i);
    envoy::config::route::v3::HeaderMatcher proto;
    const size_t before = errors.size();
    config::yamlToProto(node[i], proto, item_path, errors);
    if (errors.size() != before) continue;
    YAML::Emitter text;
    text << YAML::Flow << node[i];
    addHeaderCheck(proto, item_path, text.c_str(), out, errors);
  }
}

// request_header_fields / response_header_fields (deprecated in Envoy, still
// read there): each {key, value} an exact match.
void readHeaderFields(const YAML::Node& node, const std::string& path, std::vector<RouteTestHeaderCheck>& out,
                      ErrorList& errors) {
  std::vector<RouteTestHeader> headers;
  ErrorList header_errors;
  readHeaders(node, path, headers, header_errors);
  errors.append(header_errors);
  if (!header_errors.empty()) return;
  for (size_t i = 0; i < headers.size(); ++i) {
    envoy::config::route::v3::HeaderMatcher proto;
    proto.set_name(headers[i].key);
    proto.mutable_string_match()->set_exact(headers[i].value);
    addHeaderCheck(proto, indexPath(path, i), headers[i].key + " exact \"" + headers[i].value + "\"", out, errors);
  }
}

RouteTestInput readInput(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  RouteTestInput in;
  auto string = [&](std::string& target) {
    return [&](const YAML::Node& n, const std::string& p) { readString(n, p, target, errors); };
  };
  auto boolean = [&](bool& target) {
    return [&](const YAML::Node& n, const std::string& p) { readBool(n, p, target, errors); };
  };
  bool has_method = false;
  forEachField(
      node, path,
      {{"authority", string(in.authority)},
       {"path", string(in.path)},
       {"method",
        [&](const YAML::Node& n, const std::string& p) {
          has_method = true;
          readString(n, p, in.method, errors);
        }},
       {"random_value", [&](const YAML::Node& n, const std::string& p) { readInteger(n, p, in.random_value, errors); }},
       {"ssl", boolean(in.ssl)},
       {"internal", boolean(in.internal)},
       {"ip_address", string(in.ip_address)},
       {"additional_request_headers",
        [&](const YAML::Node& n, const std::string& p) { readHeaders(n, p, in.request_headers, errors); }},
       {"additional_response_headers",
        [&](const YAML::Node& n, const std::string& p) { readHeaders(n, p, in.response_headers, errors); }},
       {"runtime", string(in.runtime)}},
      errors);
  if (!node.IsMap()) return in;
  // Envoy's rules: authority and path non-empty; a method of 3 or more characters.
  if (in.authority.empty()) errors.add(childPath(path, "authority"), "is required (a non-empty string)");
  if (in.path.empty()) errors.add(childPath(path, "path"), "is required (a non-empty string)");
  if (has_method && in.method.size() < 3) errors.add(childPath(path, "method"), "must be at least 3 characters");
  for (size_t i = 0; i < in.request_headers.size(); ++i) {
    const std::string& key = in.request_headers[i].key;
    if (key == ":authority" || key == ":path" || key == ":method" || key == "host") {
      errors.add(indexPath(childPath(path, "additional_request_headers"), i) + ".key",
                 "'" + key + "' is given by authority, path or method");
    }
  }
  return in;
}

RouteTestExpect readExpect(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  RouteTestExpect expect;
  auto string = [&](std::optional<std::string>& target) {
    return [&](const YAML::Node& n, const std::string& p) {
      std::string value;
      if (readString(n, p, value, errors)) target = std::move(value);
    };
  };
  forEachField(
      node, path,
      {{"cluster_name", string(expect.cluster_name)},
       {"virtual_host_name", string(expect.virtual_host_name)},
       {"host_rewrite", string(expect.host_rewrite)},
       {"path_rewrite", string(expect.path_rewrite)},
       {"path_redirect", string(expect.path_redirect)},
       {"code_redirect",
        [&](const YAML::Node& n, const std::string& p) {
          uint32_t code = 0;
          if (readInteger(n, p, code, errors)) expect.code_redirect = code;
        }},
       {"request_header_matches",
        [&](const YAML::Node& n, const std::string& p) { readHeaderMatches(n, p, expect.request_headers, errors); }},
       {"response_header_matches",
        [&](const YAML::Node& n, const std::string& p) { readHeaderMatches(n, p, expect.response_headers, errors); }},
       {"request_header_fields",
        [&](const YAML::Node& n, const std::string& p) { readHeaderFields(n, p, expect.request_headers, errors); }},
       {"response_header_fields",
        [&](const YAML::Node& n, const std::string& p) { readHeaderFields(n, p, expect.response_headers, errors); }}},
      errors);
  return expect;
}

bool checksNothing(const RouteTestExpect& e) {
  return !e.cluster_name && !e.virtual_host_name && !e.host_rewrite && !e.path_rewrite && !e.path_redirect &&
         !e.code_redirect && e.request_headers.empty() && e.response_headers.empty();
}

}  // namespace

std::vector<RouteTest> parseRouteTests(std::string_view text, std::string_view source, ErrorList& errors) {
  std::vector<RouteTest> tests;
  YAML::Node root;
  if (!config::loadBoundedYaml(text, source, root, errors)) return tests;
  if (root.IsNull()) {
    errors.add("", "no tests: the file is empty (expected `tests: [{test_name, input, validate}, ...]`)");
    return tests;
  }
  bool has_tests = false;
  forEachField(root, "",
               {{"tests",
                 [&](const YAML::Node& list, const std::string& path) {
                   has_tests = true;
                   if (!list.IsSequence()) {
                     errors.add(path, "expects a list of tests");
                     return;
                   }
                   for (size_t i = 0; i < list.size(); ++i) {
                     const std::string test_path = indexPath(path, i);
                     RouteTest test;
                     bool has_input = false;
                     bool has_validate = false;
                     const size_t before = errors.size();
                     forEachField(list[i], test_path,
                                  {{"test_name",
                                    [&](const YAML::Node& n, const std::string& p) {
                                      if (readString(n, p, test.name, errors) && test.name.empty()) {
                                        errors.add(p, "must not be empty");
                                      }
                                    }},
                                   {"input",
                                    [&](const YAML::Node& n, const std::string& p) {
                                      has_input = true;
                                      test.input = readInput(n, p, errors);
                                    }},
                                   {"validate",
                                    [&](const YAML::Node& n, const std::string& p) {
                                      has_validate = true;
                                      test.expect = readExpect(n, p, errors);
                                    }}},
                                  errors);
                     if (!list[i].IsMap()) continue;
                     if (test.name.empty() && errors.size() == before) {
                       errors.add(childPath(test_path, "test_name"), "is required");
                     }
                     if (!has_input) errors.add(childPath(test_path, "input"), "is required");
                     if (!has_validate) {
                       errors.add(childPath(test_path, "validate"), "is required");
                     } else if (errors.size() == before && checksNothing(test.expect)) {
                       errors.add(childPath(test_path, "validate"),
                                  "checks nothing: give at least one expected value (a test that cannot fail)");
                     }
                     tests.push_back(std::move(test));
                   }
                 }}},
               errors);
  if (root.IsMap() && errors.empty() && (!has_tests || tests.empty())) {
    errors.add("tests", "no tests: give at least one {test_name, input, validate}");
  }
  return tests;
}

std::vector<RouteTest> loadRouteTests(const std::string& path, ErrorList& errors) {
  std::string text;
  if (!config::readConfigFile(path, text, errors)) return {};
  return parseRouteTests(text, path, errors);
}

}  // namespace sluice::server
