// YAML/JSON to proto: names, types, well-known types, typed configs, and the
// field path of every error.
#include "config/yaml_to_proto.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace sluice::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;
using envoy::config::cluster::v3::Cluster;

template <typename T>
std::pair<T, ErrorList> parse(std::string_view text) {
  T message;
  ErrorList errors;
  parseYamlInto(text, message, errors);
  return {message, errors};
}

TEST(YamlToProto, ReadsFieldsByProtoNameAndJsonName) {
  auto [c, errors] = parse<Cluster>("name: web\nconnectTimeout: 1.5s\nlb_policy: RANDOM\n");
  ASSERT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(c.name(), "web");
  EXPECT_EQ(c.connect_timeout().seconds(), 1);
  EXPECT_EQ(c.connect_timeout().nanos(), 500000000);
  EXPECT_EQ(c.lb_policy(), Cluster::RANDOM);
}

TEST(YamlToProto, RejectsUnknownFieldWithItsPath) {
  auto [b, errors] = parse<Bootstrap>("static_resources:\n  clusters:\n  - name: a\n  - name: b\n    colour: red\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(
      errors.errors()[0].toString(),
      "static_resources.clusters[1].colour: unknown field (envoy.config.cluster.v3.Cluster has no field 'colour')");
}

TEST(YamlToProto, ReportsEveryErrorNotOnlyTheFirst) {
  auto [c, errors] = parse<Cluster>("name: [1]\nconnect_timeout: soon\nlb_policy: FASTEST\nbogus: 1\n");
  EXPECT_EQ(errors.size(), 4u) << errors.toString();
}

TEST(YamlToProto, RejectsWrongScalarTypes) {
  auto [c, errors] = parse<Cluster>(
      "per_connection_buffer_limit_bytes: lots\nrespect_dns_ttl: maybe\n"
      "load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { port_value: "
      "70000000000 } } } } ] } ] }\n");
  ASSERT_EQ(errors.size(), 3u) << errors.toString();
  EXPECT_EQ(errors.errors()[0].toString(), "per_connection_buffer_limit_bytes: expected an integer, got 'lots'");
  EXPECT_EQ(errors.errors()[1].toString(), "respect_dns_ttl: expected true or false, got 'maybe'");
  EXPECT_EQ(errors.errors()[2].toString(),
            "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: "
            "'70000000000' is out of range for uint32");
}

TEST(YamlToProto, AcceptsEnumByNameOrNumberAndRejectsUnknownNames) {
  auto [c, ok] = parse<Cluster>("lb_policy: 1\n");
  ASSERT_TRUE(ok.empty()) << ok.toString();
  EXPECT_EQ(c.lb_policy(), Cluster::LEAST_REQUEST);
  auto [d, errors] = parse<Cluster>("lb_policy: FASTEST\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "lb_policy");
  EXPECT_NE(errors.errors()[0].message.find("unknown value 'FASTEST'"), std::string::npos);
}

TEST(YamlToProto, RejectsMalformedDuration) {
  auto [c, errors] = parse<Cluster>("connect_timeout: 5\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(), "connect_timeout: expected a duration such as '1.5s', got '5'");
}

TEST(YamlToProto, ReadsWrappersAsPlainValues) {
  auto [c, errors] = parse<Cluster>("per_connection_buffer_limit_bytes: 32768\n");
  ASSERT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(c.per_connection_buffer_limit_bytes().value(), 32768u);
}

TEST(YamlToProto, ReadsStructsWithJsonTypes) {
  auto [b, errors] = parse<Bootstrap>("node: { metadata: { a: 1, b: 'x', c: true, d: [1, \"2\"], e: { f: null } } }\n");
  ASSERT_TRUE(errors.empty()) << errors.toString();
  const auto& fields = b.node().metadata().fields();
  EXPECT_EQ(fields.at("a").number_value(), 1);
  EXPECT_EQ(fields.at("b").string_value(), "x");
  EXPECT_TRUE(fields.at("c").bool_value());
  EXPECT_EQ(fields.at("d").list_value().values(1).string_value(), "2");
  EXPECT_EQ(fields.at("e").struct_value().fields().at("f").kind_case(), google::protobuf::Value::kNullValue);
}

TEST(YamlToProto, ResolvesTypedConfigByTypeUrl) {
  auto [b, errors] = parse<Bootstrap>(R"(
static_resources:
  listeners:
  - filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: in
)");
  ASSERT_TRUE(errors.empty()) << errors.toString();
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  ASSERT_TRUE(b.static_resources().listeners(0).filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.stat_prefix(), "in");
}

TEST(YamlToProto, ErrorsInsideTypedConfigCarryTheFullPath) {
  auto [b, errors] = parse<Bootstrap>(R"(
static_resources:
  listeners:
  - filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefx: in
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path,
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx");
}

// Found by fuzz/bootstrap_fuzz.cc: yaml-cpp passes any bytes through, and a
// string that is not UTF-8 inside a typed config made protobuf refuse the
// packed payload ("payload ... does not parse", twice, plus protobuf's own
// log lines) instead of naming the field; outside typed configs it was
// accepted. Every string field, Struct string and Struct key is checked now.
TEST(YamlToProto, RejectsStringsThatAreNotUtf8WithTheirPath) {
  auto [b, errors] = parse<Bootstrap>(
      "static_resources:\n"
      "  clusters: [{ name: \"w\xff"
      "eb\" }]\n"
      "  listeners:\n"
      "  - filter_chains:\n"
      "    - filters:\n"
      "      - name: hcm\n"
      "        typed_config:\n"
      "          \"@type\": type.googleapis.com/"
      "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
      "          stat_prefix: \"in\xc0\xafx\"\n"
      "node: { metadata: { a: \"\xed\xa0\x80\", \"k\xf5\": 1 } }\n");
  ASSERT_EQ(errors.size(), 4u) << errors.toString();
  EXPECT_EQ(errors.errors()[0].path, "static_resources.clusters[0].name");
  EXPECT_NE(errors.errors()[0].message.find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(errors.errors()[1].path,
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix");  // overlong '/'
  EXPECT_EQ(errors.errors()[2].path, "node.metadata[\"a\"]");                                       // a surrogate
  EXPECT_EQ(errors.errors()[3].path, "node.metadata");                                              // the key
}

TEST(YamlToProto, AcceptsUtf8Strings) {
  auto [c, errors] = parse<Cluster>("name: \"caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80-\xf4\x8f\xbf\xbf\"\n");
  ASSERT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(c.name(), "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80-\xf4\x8f\xbf\xbf");
}

TEST(YamlToProto, RejectsUnknownTypeUrl) {
  auto [b, errors] = parse<Bootstrap>(
      "static_resources: { listeners: [ { filter_chains: [ { filters: [ { name: x, typed_config: { '@type': "
      "type.googleapis.com/acme.Nope } } ] } ] } ] }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.@type: unknown type "
            "'type.googleapis.com/acme.Nope'");
}

TEST(YamlToProto, RejectsTypedConfigWithoutType) {
  auto [b, errors] = parse<Bootstrap>(
      "static_resources: { listeners: [ { filter_chains: [ { filters: [ { name: x, typed_config: { stat_prefix: a } } "
      "] } ] } ] }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "static_resources.listeners[0].filter_chains[0].filters[0].typed_config");
}

TEST(YamlToProto, RejectsTwoMembersOfOneOneof) {
  auto [c, errors] = parse<Cluster>("type: STATIC\ncluster_type: { name: x }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(),
            "cluster_type: conflicts with 'type': both are in oneof 'cluster_discovery_type', set only one");
}

TEST(YamlToProto, RejectsAFieldSetTwice) {
  auto [c, errors] = parse<Cluster>("name: a\nname: b\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(), "name: is set more than once");
}

TEST(YamlToProto, RejectsAScalarWhereAListIsExpected) {
  auto [b, errors] = parse<Bootstrap>("static_resources: { clusters: web }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].toString(), "static_resources.clusters: expected a list, got 'web'");
}

TEST(YamlToProto, ReportsSyntaxErrorsWithLineAndColumn) {
  auto [b, errors] = parse<Bootstrap>("static_resources:\n  clusters: [\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].path, "");
  EXPECT_NE(errors.errors()[0].message.find("syntax error at line"), std::string::npos) << errors.toString();
}

TEST(YamlToProto, RejectsAnEmptyDocument) {
  auto [b, errors] = parse<Bootstrap>("# nothing\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.errors()[0].message, "the document is empty");
}

TEST(YamlToProto, YamlAndJsonGiveTheSameProto) {
  auto [from_yaml, e1] = parse<Bootstrap>(R"(
node: { id: n1, metadata: { k: [1, two] } }
static_resources:
  clusters:
  - name: web
    connect_timeout: 0.25s
    lb_policy: MAGLEV
    per_connection_buffer_limit_bytes: 1024
    load_assignment:
      cluster_name: web
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 80 } } }
)");
  auto [from_json, e2] = parse<Bootstrap>(R"({
  "node": {"id": "n1", "metadata": {"k": [1, "two"]}},
  "staticResources": {"clusters": [{
    "name": "web", "connectTimeout": "0.250s", "lbPolicy": "MAGLEV", "perConnectionBufferLimitBytes": 1024,
    "loadAssignment": {"clusterName": "web", "endpoints": [{"lbEndpoints": [
      {"endpoint": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 80}}}}]}]}}]}
})");
  ASSERT_TRUE(e1.empty()) << e1.toString();
  ASSERT_TRUE(e2.empty()) << e2.toString();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_yaml, from_json))
      << from_yaml.DebugString() << "\n---\n"
      << from_json.DebugString();
}

}  // namespace
}  // namespace sluice::config
