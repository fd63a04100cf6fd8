// The supported-subset gate, its table, and docs/CONFIG.md generated from it.
#include "config/supported_fields.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "config/yaml_to_proto.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace sluice::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

ErrorList gate(std::string_view yaml) {
  Bootstrap b;
  ErrorList errors;
  parseYamlInto(yaml, b, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  checkSupported(b, "", errors);
  return errors;
}

constexpr std::string_view kListenerPrefix = R"(
static_resources:
  listeners:
  - name: l
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
)";

TEST(SupportedFields, EveryTableEntryNamesARealField) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& f : supportedFields()) {
    const auto* message = pool->FindMessageTypeByName(std::string(f.message));
    ASSERT_NE(message, nullptr) << f.message;
    const auto* field = message->FindFieldByName(std::string(f.field));
    ASSERT_NE(field, nullptr) << f.message << "." << f.field;
    if (f.enum_values.empty()) continue;
    std::string values(f.enum_values);
    std::stringstream ss(values);
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      // An Any field (or a map of them): its values are extension names from the extension table.
      const auto* value = field->is_map() ? field->message_type()->map_value() : field;
      ASSERT_EQ(value->message_type()->full_name(), "google.protobuf.Any") << f.field;
      for (std::string v; std::getline(ss, v, '|');) {
        bool known = false;
        for (const auto& e : supportedExtensions()) known = known || e.name == v;
        EXPECT_TRUE(known) << f.message << "." << f.field << " " << v;
      }
      continue;
    }
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) continue;  // any values
    ASSERT_EQ(field->cpp_type(), google::protobuf::FieldDescriptor::CPPTYPE_ENUM) << f.field;
    for (std::string v; std::getline(ss, v, '|');) {
      EXPECT_NE(field->enum_type()->FindValueByName(v), nullptr) << f.message << "." << f.field << " " << v;
    }
  }
  for (const auto& e : supportedExtensions()) {
    EXPECT_NE(pool->FindMessageTypeByName(std::string(e.type)), nullptr) << e.type;
  }
}

TEST(SupportedFields, AcceptsSupportedFields) {
  EXPECT_TRUE(
      gate("static_resources: { clusters: [ { name: a, connect_timeout: 1s, lb_policy: MAGLEV } ] }\n").empty());
}

TEST(SupportedFields, RejectsAnUnsupportedFieldByPath) {
  const auto errors = gate("static_resources: { clusters: [ { name: a }, { name: b, preconnect_policy: {} } ] }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.clusters[1].preconnect_policy: is not supported by sluice");
}

TEST(SupportedFields, RejectsAnUnsupportedTopLevelField) {
  const auto errors = gate("overload_manager: { refresh_interval: 1s }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(), "overload_manager: is not supported by sluice");
}

TEST(SupportedFields, RejectsAnUnsupportedEnumValue) {
  const auto errors = gate("static_resources: { clusters: [ { name: a, type: ORIGINAL_DST } ] }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.clusters[0].type: ORIGINAL_DST is not supported by sluice (supported: STATIC, "
            "STRICT_DNS, LOGICAL_DNS, EDS)");
}

TEST(SupportedFields, RejectsUnsupportedFieldsInsideTypedConfigs) {
  const auto errors = gate(std::string(kListenerPrefix) + "          generate_request_id: false\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.generate_request_id: is not "
            "supported by sluice");
}

TEST(SupportedFields, RejectsAnUnsupportedTypedConfig) {
  const auto errors = gate(std::string(kListenerPrefix) +
                           "          http_filters:\n"
                           "          - name: envoy.filters.http.cors\n"
                           "            typed_config:\n"
                           "              \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: "
            "typed config 'envoy.config.cluster.v3.Cluster' is not supported by sluice");
}

TEST(SupportedFields, RejectsAnExtensionOutsideTheFieldsThatAllowIt) {
  const auto errors =
      gate(std::string(kListenerPrefix) +
           "          access_log:\n"
           "          - name: r\n"
           "            typed_config:\n"
           "              \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].typed_config: "
            "typed config 'envoy.extensions.filters.http.router.v3.Router' (envoy.filters.http.router) is not "
            "supported by sluice here (supported: envoy.access_loggers.file, envoy.access_loggers.stdout, "
            "envoy.access_loggers.stderr, envoy.access_loggers.http_grpc)");
}

TEST(SupportedFields, RejectsAStringValueSluiceDoesNotImplement) {
  const auto errors = gate(std::string(kListenerPrefix) +
                           "          upgrade_configs: [ { upgrade_type: WebSocket }, { upgrade_type: CONNECT } ]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.upgrade_configs[1].upgrade_type: "
            "'CONNECT' is not supported by sluice (supported: websocket)");
  // On a route too, where it used to be accepted and do nothing.
  const auto route = gate(std::string(kListenerPrefix) +
                          "          route_config: { virtual_hosts: [ { name: v, domains: ['*'], routes: [ { match: "
                          "{ prefix: / }, route: { cluster: c, upgrade_configs: [ { upgrade_type: CONNECT } ] } } ] } "
                          "] }\n");
  ASSERT_EQ(route.size(), 1u);
  EXPECT_EQ(route.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0]."
            "routes[0].route.upgrade_configs[0].upgrade_type: 'CONNECT' is not supported by sluice (supported: "
            "websocket)");
}

// The route and access-log compilers do not check for fields sluice does not
// implement: the gate rejects each of them, by path. One case per field they
// used to check themselves.
TEST(SupportedFields, RejectsEveryRouteAndAccessLogFieldSluiceDoesNotImplement) {
  const std::string rc = "          route_config:\n";
  const std::string vh = rc +
                         "            virtual_hosts:\n"
                         "            - name: v\n"
                         "              domains: ['*']\n";
  const std::string routes = vh + "              routes:\n";
  auto routeWith = [&](const std::string& match, const std::string& action) {
    return routes + "              - match: " + match + "\n                " + action + "\n";
  };
  const std::string route0 = "route_config.virtual_hosts[0].routes[0]";
  const std::string cluster_action = "route: { cluster: c, ";
  struct Case {
    std::string yaml;
    std::string path;  // under the connection manager's typed_config
  };
  const std::vector<Case> cases = {
      {rc + "            vhds: {}\n", "route_config.vhds"},
      {rc + "            internal_only_headers: [x-a]\n", "route_config.internal_only_headers"},
      {rc + "            ignore_path_parameters_in_path_matching: true\n",
       "route_config.ignore_path_parameters_in_path_matching"},
      {rc + "            cluster_specifier_plugins: [{}]\n", "route_config.cluster_specifier_plugins"},
      {vh + "              matcher: {}\n", "route_config.virtual_hosts[0].matcher"},
      {routeWith("{ prefix: /, grpc: {} }", "route: { cluster: c }"), route0 + ".match.grpc"},
      {routeWith("{ prefix: /, tls_context: {} }", "route: { cluster: c }"), route0 + ".match.tls_context"},
      {routeWith("{ prefix: /, dynamic_metadata: [{}] }", "route: { cluster: c }"), route0 + ".match.dynamic_metadata"},
      {routeWith("{ connect_matcher: {} }", "route: { cluster: c }"), route0 + ".match.connect_matcher"},
      {routeWith("{ path_match_policy: {} }", "route: { cluster: c }"), route0 + ".match.path_match_policy"},
      {routeWith("{ prefix: /, headers: [ { name: a, string_match: { custom: {} } } ] }", "route: { cluster: c }"),
       route0 + ".match.headers[0].string_match.custom"},
      {routeWith("{ prefix: / }", "filter_action: {}"), route0 + ".filter_action"},
      {routeWith("{ prefix: / }", "non_forwarding_action: {}"), route0 + ".non_forwarding_action"},
      {routeWith("{ prefix: / }", "direct_response: { status: 200, body: { environment_variable: HOME } }"),
       route0 + ".direct_response.body.environment_variable"},
      {routeWith("{ prefix: / }", "route: { cluster_specifier_plugin: p }"),
       route0 + ".route.cluster_specifier_plugin"},
      {routeWith("{ prefix: / }", "route: { inline_cluster_specifier_plugin: {} }"),
       route0 + ".route.inline_cluster_specifier_plugin"},
      {routeWith("{ prefix: / }", cluster_action + "path_rewrite_policy: {} }"), route0 + ".route.path_rewrite_policy"},
      {routeWith("{ prefix: / }", cluster_action + "host_rewrite_header: h }"), route0 + ".route.host_rewrite_header"},
      {routeWith("{ prefix: / }", cluster_action + "host_rewrite_path_regex: {} }"),
       route0 + ".route.host_rewrite_path_regex"},
      {routeWith("{ prefix: / }",
                 cluster_action + "upgrade_configs: [ { upgrade_type: websocket, connect_config: {} } ] }"),
       route0 + ".route.upgrade_configs[0].connect_config"},
      {routeWith("{ prefix: / }", cluster_action + "hash_policy: [ { filter_state: { key: k } } ] }"),
       route0 + ".route.hash_policy[0].filter_state"},
      {routeWith("{ prefix: / }",
                 cluster_action + "hash_policy: [ { header: { header_name: a, regex_rewrite: {} } } ] }"),
       route0 + ".route.hash_policy[0].header.regex_rewrite"},
      {routeWith("{ prefix: / }",
                 "route: { weighted_clusters: { header_name: h, clusters: [ { name: c, weight: 1 } ] } }"),
       route0 + ".route.weighted_clusters.header_name"},
      {routeWith("{ prefix: / }", "route: { weighted_clusters: { clusters: [ { cluster_header: h, weight: 1 } ] } }"),
       route0 + ".route.weighted_clusters.clusters[0].cluster_header"},
      {routeWith("{ prefix: / }",
                 "route: { weighted_clusters: { clusters: [ { name: c, weight: 1, host_rewrite_literal: h } ] } }"),
       route0 + ".route.weighted_clusters.clusters[0].host_rewrite_literal"},
      {routeWith("{ prefix: / }",
                 "route: { weighted_clusters: { clusters: [ { name: c, weight: 1, metadata_match: {} } ] } }"),
       route0 + ".route.weighted_clusters.clusters[0].metadata_match"},
      {routeWith("{ prefix: / }",
                 "route: { weighted_clusters: { clusters: [ { name: c, weight: 1, "
                 "request_headers_to_add: [ { header: { key: a, value: b } } ] } ] } }"),
       route0 + ".route.weighted_clusters.clusters[0].request_headers_to_add"},
      {routeWith("{ prefix: / }", cluster_action + "} \n                request_headers_to_add: [ { header: { key: a, "
                                                   "raw_value: Yg== } } ]"),
       route0 + ".request_headers_to_add[0].header.raw_value"},
      {"          access_log: [ { name: a, filter: { header_filter: {} } } ]\n", "access_log[0].filter.header_filter"},
  };
  for (const auto& c : cases) {
    const auto errors = gate(std::string(kListenerPrefix) + c.yaml);
    ASSERT_EQ(errors.size(), 1u) << c.yaml << errors.toString();
    EXPECT_EQ(errors.errors()[0].toString(), "static_resources.listeners[0].filter_chains[0].filters[0].typed_config." +
                                                 c.path + ": is not supported by sluice")
        << c.yaml;
  }
}

TEST(SupportedFields, GeneratedDocMatchesCommittedDocsConfigMd) {
  std::ifstream in(SLUICE_SOURCE_DIR "/docs/CONFIG.md");
  ASSERT_TRUE(in) << "docs/CONFIG.md is missing";
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_EQ(committed.str(), supportedSubsetMarkdown())
      << "docs/CONFIG.md is out of date: run build/release/src/sluice-config-doc > docs/CONFIG.md";
}

TEST(SupportedFields, GeneratedDocListsEveryField) {
  const std::string doc = supportedSubsetMarkdown();
  for (const auto& f : supportedFields()) {
    EXPECT_NE(doc.find("### `" + std::string(f.message) + "`"), std::string::npos) << f.message;
    EXPECT_NE(doc.find("| `" + std::string(f.field) + "` |"), std::string::npos) << f.field;
  }
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

// typed_extension_protocol_options: a map of typed configs, each gated like an Any.
TEST(SupportedFields, GatesEachTypedExtensionProtocolOption) {
  const auto option = [](const std::string& key, const std::string& body) {
    return "static_resources:\n  clusters:\n  - name: xds\n    typed_extension_protocol_options:\n      " + key +
           ":\n        '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n" + body;
  };
  const std::string key = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  EXPECT_TRUE(gate(option(key, "        explicit_http_config: { http2_protocol_options: {} }\n")).empty());
  EXPECT_EQ(gate(option(key, "        common_http_protocol_options: { idle_timeout: 1s }\n")).toString(),
            "static_resources.clusters[0].typed_extension_protocol_options[\"" + key +
                "\"].common_http_protocol_options: is not supported by sluice\n");
  const auto wrong_key = gate(option("h2", "        explicit_http_config: { http2_protocol_options: {} }\n"));
  EXPECT_NE(wrong_key.toString().find("typed_extension_protocol_options[\"h2\"]: the key must be the name"),
            std::string::npos)
      << wrong_key.toString();
  EXPECT_NE(
      gate(option(key, "        explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 5 } }\n"))
          .toString()
          .find("max_concurrent_streams: is not supported by sluice"),
      std::string::npos);
}

TEST(SupportedFields, TakesGrpcAndDeltaSourcesAndRejectsOtherApiTypesByName) {
  EXPECT_EQ(gate("dynamic_resources: { ads_config: { api_type: DELTA_GRPC } }").toString(), "");
  EXPECT_NE(gate("dynamic_resources: { ads_config: { api_type: REST } }")
                .toString()
                .find("dynamic_resources.ads_config.api_type: REST is not supported by sluice"),
            std::string::npos);
  EXPECT_EQ(gate("dynamic_resources: { cds_config: { api_config_source: { api_type: GRPC } } }").toString(), "");
  EXPECT_NE(gate("dynamic_resources: { cds_config: { api_config_source: { api_type: REST, refresh_delay: 1s } } }")
                .toString()
                .find("dynamic_resources.cds_config.api_config_source.api_type: REST is not supported by sluice"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

// A route with `retry_policy` (YAML flow map) in a static listener's route config.
ErrorList gateRetryPolicy(std::string_view retry_policy) {
  return gate(std::string(kListenerPrefix) +
              "          route_config:\n"
              "            virtual_hosts:\n"
              "            - name: vh\n"
              "              domains: ['*']\n"
              "              retry_policy: {retry_on: reset}\n"
              "              include_request_attempt_count: true\n"
              "              include_attempt_count_in_response: true\n"
              "              routes:\n"
              "              - match: {prefix: /}\n"
              "                route: {cluster: c, retry_policy: " +
              std::string(retry_policy) + "}\n");
}

constexpr std::string_view kRetryPolicyPath =
    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0]."
    "route.retry_policy.";

TEST(SupportedFields, AcceptsTheRetryPolicy) {
  EXPECT_TRUE(gateRetryPolicy("{retry_on: '5xx,reset', num_retries: 3, per_try_timeout: 1s, per_try_idle_timeout: "
                              "1s, retry_back_off: {base_interval: 0.01s, max_interval: 1s}, retry_host_predicate: "
                              "[{name: envoy.retry_host_predicates.previous_hosts}], "
                              "host_selection_retry_max_attempts: 3, retriable_status_codes: [418], "
                              "retriable_headers: [{name: x-a, present_match: true}]}")
                  .empty());
}

TEST(SupportedFields, RejectsRetryPolicyFieldsByName) {
  for (const std::string field :
       {"retry_priority: {name: envoy.retry_priorities.previous_priorities}",
        "rate_limited_retry_back_off: {reset_headers: [{name: retry-after}]}",
        "retriable_request_headers: [{name: x-a, present_match: true}]", "retry_options_predicates: [{name: x}]"}) {
    const auto errors = gateRetryPolicy("{" + field + "}");
    ASSERT_EQ(errors.size(), 1u) << field;
    const std::string name = field.substr(0, field.find(':'));
    EXPECT_EQ(errors.errors()[0].toString(), std::string(kRetryPolicyPath) + name + ": is not supported by sluice")
        << field;
  }
}

TEST(SupportedFields, RejectsAHostPredicateOtherThanPreviousHosts) {
  const auto errors =
      gateRetryPolicy("{retry_host_predicate: [{name: envoy.retry_host_predicates.omit_canary_hosts}]}");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors.errors()[0].toString().find("retry_host_predicate[0].name: 'envoy.retry_host_predicates."
                                               "omit_canary_hosts' is not supported by sluice"),
            std::string::npos)
      << errors.toString();
}

TEST(SupportedFields, AcceptsRetryCircuitBreakers) {
  EXPECT_TRUE(gate("static_resources: { clusters: [ { name: a, circuit_breakers: { thresholds: [ { max_retries: 5, "
                   "retry_budget: { budget_percent: { value: 25 }, min_retry_concurrency: 2 } } ] } } ] }\n")
                  .empty());
}

}  // namespace
}  // namespace sluice::config
