// validateRules: each protoc-gen-validate rule kind, accepted and rejected.
// Rules the compiled Envoy API uses are tested on its real messages; the rest
// on message types defined at test time (TestTypes below).
#include "config/pgv_validator.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"
#include "envoy/config/core/v3/protocol.pb.h"
#include "envoy/config/core/v3/udp_socket_config.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/metrics/v3/stats.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/common.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "envoy/type/v3/percent.pb.h"
#include "xds/type/matcher/v3/matcher.pb.h"

namespace sluice::config {
namespace {

using google::protobuf::Message;
using google::protobuf::TextFormat;

// All errors, one a line (no trailing newline), or "" when valid.
std::string errorsOf(const Message& message, std::string_view path = "") {
  ErrorList errors;
  validateRules(message, path, errors);
  std::string out = errors.toString();
  if (!out.empty()) out.pop_back();
  return out;
}
std::string errorsOf(const std::unique_ptr<Message>& message) { return errorsOf(*message); }

template <typename T>
T parse(std::string_view text) {
  T message;
  if (!TextFormat::ParseFromString(std::string(text), &message)) throw std::runtime_error("bad text proto");
  return message;
}

// Message types defined at test time, for the rules no compiled Envoy message
// uses. Each type lives in its own proto3 file in a pool layered over the
// generated one (so validate.proto's options and the well-known types
// resolve). Owns the messages' factory: one instance for the whole test run.
class TestTypes {
 public:
  static TestTypes& get() {
    static TestTypes types;
    return types;
  }

  // A new message of type `pgvtest.M<n>`, whose DescriptorProto body is `body`
  // (`$M` stands for the type's full name), parsed from `value`.
  std::unique_ptr<Message> make(std::string body, std::string_view value) {
    const std::string name = "M" + std::to_string(next_++);
    for (size_t at = body.find("$M"); at != std::string::npos; at = body.find("$M")) {
      body.replace(at, 2, ".pgvtest." + name);
    }
    const auto file = parse<google::protobuf::FileDescriptorProto>(
        "name: 'pgvtest/" + name + ".proto' package: 'pgvtest' syntax: 'proto3' " +
        "dependency: 'validate/validate.proto' dependency: 'google/protobuf/any.proto' " +
        "dependency: 'google/protobuf/duration.proto' dependency: 'google/protobuf/timestamp.proto' " +
        "dependency: 'google/protobuf/wrappers.proto' dependency: 'envoy/type/v3/percent.proto' " +
        "message_type { name: '" + name + "' " + body + " }");
    const auto* built = pool_.BuildFile(file);
    if (built == nullptr) throw std::runtime_error("bad test type: " + body);
    std::unique_ptr<Message> message(factory_.GetPrototype(built->message_type(0))->New());
    if (!TextFormat::ParseFromString(std::string(value), message.get())) {
      throw std::runtime_error("bad value: " + std::string(value));
    }
    return message;
  }

 private:
  TestTypes() { factory_.SetDelegateToGeneratedFactory(true); }

  google::protobuf::DescriptorPool pool_{google::protobuf::DescriptorPool::generated_pool()};
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  int next_ = 0;
};

// A message with one field `v`: `type` is its FieldDescriptorProto type (and
// label) text, `rules` the text of its validate.FieldRules; parsed from `value`.
std::unique_ptr<Message> withField(std::string_view type, std::string_view rules, std::string_view value) {
  return TestTypes::get().make("field { name: 'v' number: 1 " + std::string(type) + " options { [validate.rules] { " +
                                   std::string(rules) + " } } }",
                               value);
}

// A message with one map field `v` (map<key, value>, the types as in
// withField) carrying `rules`.
std::unique_ptr<Message> withMap(std::string_view key, std::string_view value, std::string_view rules,
                                 std::string_view text) {
  return TestTypes::get().make(
      "nested_type { name: 'VEntry' options { map_entry: true } field { name: 'key' number: 1 " + std::string(key) +
          " } field { name: 'value' number: 2 " + std::string(value) +
          " } } field { name: 'v' number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: '$M.VEntry' "
          "options { [validate.rules] { " +
          std::string(rules) + " } } }",
      text);
}

constexpr std::string_view kInt32 = "type: TYPE_INT32";
constexpr std::string_view kString = "type: TYPE_STRING";
constexpr std::string_view kBytes = "type: TYPE_BYTES";
constexpr std::string_view kRepeatedString = "label: LABEL_REPEATED type: TYPE_STRING";
constexpr std::string_view kDuration = "type: TYPE_MESSAGE type_name: '.google.protobuf.Duration'";
constexpr std::string_view kTimestamp = "type: TYPE_MESSAGE type_name: '.google.protobuf.Timestamp'";
constexpr std::string_view kAny = "type: TYPE_MESSAGE type_name: '.google.protobuf.Any'";
constexpr std::string_view kPercent = "type: TYPE_MESSAGE type_name: '.envoy.type.v3.Percent'";
constexpr std::string_view kRepeatedPercent =
    "label: LABEL_REPEATED type: TYPE_MESSAGE type_name: '.envoy.type.v3.Percent'";
constexpr std::string_view kDenominator =
    "type: TYPE_ENUM type_name: '.envoy.type.v3.FractionalPercent.DenominatorType'";

// ---------------------------------------------------------------------------
// Real Envoy messages: paths, presence, oneofs, Any payloads.

constexpr std::string_view kBootstrap = R"pb(
  static_resources {
    clusters {
      name: "first"
      connect_timeout { seconds: 1 }
      load_assignment {
        cluster_name: "first"
        endpoints { lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: 8080 } } } } }
      }
    }
    clusters {
      name: "second"
      load_assignment {
        cluster_name: "second"
        endpoints { lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: PORT } } } } }
      }
    }
  }
)pb";

envoy::config::bootstrap::v3::Bootstrap bootstrapWithPort(std::string_view port) {
  std::string text(kBootstrap);
  text.replace(text.find("PORT"), 4, port);
  return parse<envoy::config::bootstrap::v3::Bootstrap>(text);
}

TEST(PgvValidatorTest, AcceptsValidBootstrap) { EXPECT_EQ(errorsOf(bootstrapWithPort("65535")), ""); }

TEST(PgvValidatorTest, RejectsPortAbove65535) {
  EXPECT_EQ(errorsOf(bootstrapWithPort("65536")),
            "static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address."
            "socket_address.port_value: must be <= 65535");
}

TEST(PgvValidatorTest, RootsPathsAtTheGivenPath) {
  EXPECT_EQ(errorsOf(envoy::config::cluster::v3::Cluster(), "static_resources.clusters[1]"),
            "static_resources.clusters[1].name: must be at least 1 characters long");
}

TEST(PgvValidatorTest, AcceptsNonEmptyClusterName) {
  EXPECT_EQ(errorsOf(parse<envoy::config::cluster::v3::Cluster>("name: 'backend'")), "");
}

TEST(PgvValidatorTest, RejectsEmptyClusterNameLeftAtDefault) {
  EXPECT_EQ(errorsOf(envoy::config::cluster::v3::Cluster()), "name: must be at least 1 characters long");
}

TEST(PgvValidatorTest, ReportsEveryViolationNotJustTheFirst) {
  const auto cluster = parse<envoy::config::cluster::v3::Cluster>("connect_timeout {} dns_refresh_rate { nanos: 1 }");
  EXPECT_EQ(errorsOf(cluster),
            "name: must be at least 1 characters long\n"
            "connect_timeout: must be greater than 0s\n"
            "dns_refresh_rate: must be greater than 0.001s");
}

TEST(PgvValidatorTest, AcceptsAddressWithOneMemberOfItsRequiredOneof) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::Address>("pipe { path: '/run/envoy.sock' }")), "");
}

TEST(PgvValidatorTest, RejectsAddressWithNoMemberOfItsRequiredOneof) {
  EXPECT_EQ(errorsOf(envoy::config::core::v3::Address(), "endpoint.address"),
            "endpoint.address.address: one of 'socket_address', 'pipe', 'envoy_internal_address' must be set");
}

TEST(PgvValidatorTest, IgnoresUnsetOneofMemberWhoseDefaultBreaksItsRule) {
  // stats_flush_on_admin is `const: true` and false by default, in a oneof.
  EXPECT_EQ(errorsOf(envoy::config::bootstrap::v3::Bootstrap()), "");
}

TEST(PgvValidatorTest, AcceptsBoolEqualToConst) {
  EXPECT_EQ(errorsOf(parse<envoy::config::bootstrap::v3::Bootstrap>("stats_flush_on_admin: true")), "");
}

TEST(PgvValidatorTest, RejectsBoolNotEqualToConst) {
  EXPECT_EQ(errorsOf(parse<envoy::config::bootstrap::v3::Bootstrap>("stats_flush_on_admin: false")),
            "stats_flush_on_admin: must be true");
}

constexpr std::string_view kListener = R"pb(
  filter_chains {
    filters {
      name: "envoy.filters.network.http_connection_manager"
      typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
          stat_prefix: "PREFIX"
          route_config { name: "local" }
        }
      }
    }
  }
)pb";

envoy::config::listener::v3::Listener listenerWithStatPrefix(std::string_view prefix) {
  std::string text(kListener);
  text.replace(text.find("PREFIX"), 6, prefix);
  return parse<envoy::config::listener::v3::Listener>(text);
}

TEST(PgvValidatorTest, AcceptsValidAnyPayload) {
  EXPECT_EQ(errorsOf(listenerWithStatPrefix("ingress_http"), "static_resources.listeners[0]"), "");
}

TEST(PgvValidatorTest, ChecksAnyPayloadAtTheAnysPath) {
  EXPECT_EQ(errorsOf(listenerWithStatPrefix(""), "static_resources.listeners[0]"),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix: "
            "must be at least 1 characters long");
}

TEST(PgvValidatorTest, RejectsAnyOfUnknownType) {
  const auto listener = parse<envoy::config::listener::v3::Listener>(
      "filter_chains { filters { name: 'f' typed_config { type_url: 'type.googleapis.com/sluice.test.Nope' } } }");
  EXPECT_EQ(errorsOf(listener),
            "filter_chains[0].filters[0].typed_config: unknown type 'type.googleapis.com/sluice.test.Nope'");
}

TEST(PgvValidatorTest, RejectsAnyWhosePayloadDoesNotParse) {
  const auto listener = parse<envoy::config::listener::v3::Listener>(
      "filter_chains { filters { name: 'f' typed_config { type_url: "
      "'type.googleapis.com/envoy.config.core.v3.Address' value: '\\377' } } }");
  EXPECT_EQ(errorsOf(listener),
            "filter_chains[0].filters[0].typed_config: payload of type "
            "'type.googleapis.com/envoy.config.core.v3.Address' does not parse");
}

// ---------------------------------------------------------------------------
// Message rules: required, skip, disabled.

TEST(PgvValidatorTest, AcceptsSetRequiredMessage) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::Route>("match { prefix: '/' } route { cluster: 'c' }")), "");
}

TEST(PgvValidatorTest, RejectsUnsetRequiredMessage) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::Route>("route { cluster: 'c' }")), "match: is required");
}

TEST(PgvValidatorTest, DescendsIntoSetMessageFieldsWithoutRules) {
  EXPECT_EQ(errorsOf(withField(kPercent, "", "v { value: 101 }")), "v.value: must be >= 0 and <= 100");
}

TEST(PgvValidatorTest, DoesNotDescendIntoSkippedMessage) {
  EXPECT_EQ(errorsOf(withField(kPercent, "message { skip: true }", "v { value: 101 }")), "");
}

TEST(PgvValidatorTest, SkipsMessageWithRulesDisabled) {
  const auto message = TestTypes::get().make(
      "options { [validate.disabled]: true } "
      "field { name: 'v' number: 1 type: TYPE_STRING options { [validate.rules] { string { min_len: 1 } } } }",
      "");
  EXPECT_EQ(errorsOf(*message), "");
}

TEST(PgvValidatorTest, AcceptsSetRequiredAnyOnNonAnyField) {
  // Envoy's ExtensionConfigSource puts `any` rules on a ConfigSource field:
  // only `required` applies.
  const auto source = parse<envoy::config::core::v3::ExtensionConfigSource>("config_source { ads {} } type_urls: 'x'");
  EXPECT_EQ(errorsOf(source), "");
}

TEST(PgvValidatorTest, RejectsUnsetRequiredAnyOnNonAnyField) {
  const auto source = parse<envoy::config::core::v3::ExtensionConfigSource>("type_urls: 'x'");
  EXPECT_EQ(errorsOf(source), "config_source: is required");
}

// ---------------------------------------------------------------------------
// Presence: proto3 scalars are checked at their default, others only when set.

TEST(PgvValidatorTest, IgnoresUnsetProto3OptionalScalar) {
  const auto message = TestTypes::get().make(
      "oneof_decl { name: '_v' } field { name: 'v' number: 1 type: TYPE_UINT32 proto3_optional: true "
      "oneof_index: 0 options { [validate.rules] { uint32 { gt: 0 } } } }",
      "");
  EXPECT_EQ(errorsOf(*message), "");
}

TEST(PgvValidatorTest, ChecksSetProto3OptionalScalarAtZero) {
  const auto message = TestTypes::get().make(
      "oneof_decl { name: '_v' } field { name: 'v' number: 1 type: TYPE_UINT32 proto3_optional: true "
      "oneof_index: 0 options { [validate.rules] { uint32 { gt: 0 } } } }",
      "v: 0");
  EXPECT_EQ(errorsOf(*message), "v: must be > 0");
}

constexpr std::string_view kOneofMember =
    "oneof_decl { name: 'o' } field { name: 'v' number: 1 type: TYPE_UINT32 oneof_index: 0 "
    "options { [validate.rules] { uint32 { gt: 0 } } } } field { name: 'w' number: 2 type: TYPE_STRING oneof_index: 0 "
    "}";

TEST(PgvValidatorTest, IgnoresRulesOfOneofMemberThatIsNotSet) {
  EXPECT_EQ(errorsOf(TestTypes::get().make(std::string(kOneofMember), "w: 'x'")), "");
}

TEST(PgvValidatorTest, ChecksOneofMemberSetToItsDefault) {
  EXPECT_EQ(errorsOf(TestTypes::get().make(std::string(kOneofMember), "v: 0")), "v: must be > 0");
}

TEST(PgvValidatorTest, IgnoresRequiredMessageInOneofMemberThatIsNotSet) {
  // StringMatcher.safe_regex is `required` inside the match_pattern oneof.
  EXPECT_EQ(errorsOf(parse<envoy::type::matcher::v3::StringMatcher>("exact: 'x'")), "");
}

// ---------------------------------------------------------------------------
// Numbers: every numeric kind, const, lt, lte, gt, gte, ranges, in, not_in.

TEST(PgvValidatorTest, AcceptsUint32InsideRange) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::DirectResponseAction>("status: 200")), "");
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::DirectResponseAction>("status: 599")), "");
}

TEST(PgvValidatorTest, RejectsUint32OutsideHalfOpenRange) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::DirectResponseAction>("status: 600")),
            "status: must be >= 200 and < 600");
}

TEST(PgvValidatorTest, AcceptsUnsetOrValidWrappedUint32) {
  EXPECT_EQ(errorsOf(envoy::config::core::v3::Http2ProtocolOptions()), "");
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::Http2ProtocolOptions>("max_concurrent_streams { value: 100 }")),
            "");
}

TEST(PgvValidatorTest, RejectsWrappedUint32BreakingItsRule) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::Http2ProtocolOptions>("max_concurrent_streams { value: 0 }")),
            "max_concurrent_streams: must be >= 1 and <= 2147483647");
}

TEST(PgvValidatorTest, AcceptsWrappedUint64InsideOpenRange) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::UdpSocketConfig>("max_rx_datagram_size { value: 65535 }")), "");
}

TEST(PgvValidatorTest, RejectsWrappedUint64OutsideOpenRange) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::UdpSocketConfig>("max_rx_datagram_size { value: 65536 }")),
            "max_rx_datagram_size: must be > 0 and < 65536");
}

TEST(PgvValidatorTest, AcceptsDoubleInsideClosedRange) {
  EXPECT_EQ(errorsOf(parse<envoy::type::v3::Percent>("value: 100")), "");
}

TEST(PgvValidatorTest, RejectsDoubleOutsideClosedRange) {
  EXPECT_EQ(errorsOf(parse<envoy::type::v3::Percent>("value: 100.5")), "value: must be >= 0 and <= 100");
}

TEST(PgvValidatorTest, AcceptsWrappedDoubleAboveGt) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::RateLimitSettings>("fill_rate { value: 0.5 }")), "");
}

TEST(PgvValidatorTest, RejectsWrappedDoubleNotAboveGt) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::RateLimitSettings>("fill_rate { value: 0 }")),
            "fill_rate: must be > 0");
}

TEST(PgvValidatorTest, AcceptsInt32EqualToConst) {
  EXPECT_EQ(errorsOf(withField(kInt32, "int32 { const: 5 }", "v: 5")), "");
}

TEST(PgvValidatorTest, RejectsInt32NotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kInt32, "int32 { const: 5 }", "v: 6")), "v: must equal 5");
}

TEST(PgvValidatorTest, AcceptsInt64BelowLt) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_INT64", "int64 { lt: -1 }", "v: -2")), "");
}

TEST(PgvValidatorTest, RejectsInt64NotBelowLt) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_INT64", "int64 { lt: -1 }", "v: -1")), "v: must be < -1");
}

TEST(PgvValidatorTest, AcceptsUint32InList) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_UINT32", "uint32 { in: [1, 2, 3] }", "v: 2")), "");
}

TEST(PgvValidatorTest, RejectsUint32NotInList) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_UINT32", "uint32 { in: [1, 2, 3] }", "v: 4")),
            "v: must be one of [1, 2, 3]");
}

TEST(PgvValidatorTest, AcceptsUint64NotInExcludedList) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_UINT64", "uint64 { not_in: [0] }", "v: 18446744073709551615")), "");
}

TEST(PgvValidatorTest, RejectsUint64InExcludedListAtDefault) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_UINT64", "uint64 { not_in: [0] }", "")), "v: must not be one of [0]");
}

TEST(PgvValidatorTest, AcceptsSint32AtGte) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_SINT32", "sint32 { gte: -5 }", "v: -5")), "");
}

TEST(PgvValidatorTest, RejectsSint32BelowGte) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_SINT32", "sint32 { gte: -5 }", "v: -6")), "v: must be >= -5");
}

TEST(PgvValidatorTest, AcceptsSint64AboveGt) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_SINT64", "sint64 { gt: 10 }", "v: 11")), "");
}

TEST(PgvValidatorTest, RejectsSint64NotAboveGt) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_SINT64", "sint64 { gt: 10 }", "v: 10")), "v: must be > 10");
}

TEST(PgvValidatorTest, AcceptsFixed32AtLte) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_FIXED32", "fixed32 { lte: 7 }", "v: 7")), "");
}

TEST(PgvValidatorTest, RejectsFixed32AboveLte) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_FIXED32", "fixed32 { lte: 7 }", "v: 8")), "v: must be <= 7");
}

TEST(PgvValidatorTest, AcceptsFixed64NotInExcludedList) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_FIXED64", "fixed64 { not_in: [1, 2] }", "v: 3")), "");
}

TEST(PgvValidatorTest, RejectsFixed64InExcludedList) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_FIXED64", "fixed64 { not_in: [1, 2] }", "v: 2")),
            "v: must not be one of [1, 2]");
}

TEST(PgvValidatorTest, AcceptsSfixed32EqualToConst) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_SFIXED32", "sfixed32 { const: -3 }", "v: -3")), "");
}

TEST(PgvValidatorTest, RejectsSfixed32NotEqualToConst) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_SFIXED32", "sfixed32 { const: -3 }", "v: 3")), "v: must equal -3");
}

TEST(PgvValidatorTest, AcceptsSfixed64OutsideExclusiveRange) {
  // lt < gt: the value must lie outside [lt, gt].
  EXPECT_EQ(errorsOf(withField("type: TYPE_SFIXED64", "sfixed64 { lt: 0 gt: 10 }", "v: -1")), "");
  EXPECT_EQ(errorsOf(withField("type: TYPE_SFIXED64", "sfixed64 { lt: 0 gt: 10 }", "v: 11")), "");
}

TEST(PgvValidatorTest, RejectsSfixed64InsideExclusiveRange) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_SFIXED64", "sfixed64 { lt: 0 gt: 10 }", "v: 10")), "v: must be < 0 or > 10");
}

TEST(PgvValidatorTest, AcceptsInt32AtInclusiveBoundsOfExclusiveRange) {
  EXPECT_EQ(errorsOf(withField(kInt32, "int32 { lte: 0 gte: 10 }", "v: 0")), "");
  EXPECT_EQ(errorsOf(withField(kInt32, "int32 { lte: 0 gte: 10 }", "v: 10")), "");
}

TEST(PgvValidatorTest, RejectsInt32InsideExclusiveRange) {
  EXPECT_EQ(errorsOf(withField(kInt32, "int32 { lte: 0 gte: 10 }", "v: 5")), "v: must be <= 0 or >= 10");
}

TEST(PgvValidatorTest, AcceptsFloatInsideOpenRange) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_FLOAT", "float { gt: 0.5 lt: 1.5 }", "v: 1")), "");
}

TEST(PgvValidatorTest, RejectsFloatOutsideOpenRange) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_FLOAT", "float { gt: 0.5 lt: 1.5 }", "v: 1.5")),
            "v: must be > 0.5 and < 1.5");
}

TEST(PgvValidatorTest, AcceptsDoubleInList) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_DOUBLE", "double { in: [0.25, 0.5] }", "v: 0.5")), "");
}

TEST(PgvValidatorTest, RejectsDoubleNotInList) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_DOUBLE", "double { in: [0.25, 0.5] }", "v: 0.3")),
            "v: must be one of [0.25, 0.5]");
}

TEST(PgvValidatorTest, AcceptsBoolEqualToFalseConst) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_BOOL", "bool { const: false }", "")), "");
}

TEST(PgvValidatorTest, RejectsBoolNotEqualToFalseConst) {
  EXPECT_EQ(errorsOf(withField("type: TYPE_BOOL", "bool { const: false }", "v: true")), "v: must be false");
}

// ---------------------------------------------------------------------------
// Enums: const, defined_only, in, not_in.

TEST(PgvValidatorTest, AcceptsDefinedEnumValue) {
  EXPECT_EQ(errorsOf(parse<envoy::type::v3::FractionalPercent>("denominator: MILLION")), "");
}

TEST(PgvValidatorTest, RejectsUndefinedEnumValue) {
  envoy::type::v3::FractionalPercent percent;
  percent.set_denominator(static_cast<envoy::type::v3::FractionalPercent::DenominatorType>(7));
  EXPECT_EQ(errorsOf(percent),
            "denominator: must be one of the defined values [HUNDRED, TEN_THOUSAND, MILLION], not 7");
}

TEST(PgvValidatorTest, AcceptsEnumNotInExcludedList) {
  const auto matcher = parse<envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher>(
      "san_type: DNS matcher { exact: 'example.com' }");
  EXPECT_EQ(errorsOf(matcher), "");
}

TEST(PgvValidatorTest, RejectsEnumInExcludedList) {
  const auto matcher =
      parse<envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher>("matcher { exact: 'example.com' }");
  EXPECT_EQ(errorsOf(matcher), "san_type: must not be one of [SAN_TYPE_UNSPECIFIED]");
}

TEST(PgvValidatorTest, AcceptsEnumEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kDenominator, "enum { const: 1 }", "v: TEN_THOUSAND")), "");
}

TEST(PgvValidatorTest, RejectsEnumNotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kDenominator, "enum { const: 1 }", "v: HUNDRED")), "v: must equal TEN_THOUSAND");
}

TEST(PgvValidatorTest, AcceptsEnumInList) {
  EXPECT_EQ(errorsOf(withField(kDenominator, "enum { in: [0, 2] }", "v: MILLION")), "");
}

TEST(PgvValidatorTest, RejectsEnumNotInList) {
  EXPECT_EQ(errorsOf(withField(kDenominator, "enum { in: [0, 2] }", "v: TEN_THOUSAND")),
            "v: must be one of [HUNDRED, MILLION]");
}

// ---------------------------------------------------------------------------
// Strings.

TEST(PgvValidatorTest, AcceptsStringEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kString, "string { const: 'abc' }", "v: 'abc'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kString, "string { const: 'abc' }", "v: 'abd'")), "v: must equal \"abc\"");
}

TEST(PgvValidatorTest, AcceptsStringOfExactLengthInCodePoints) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len: 3 }", "v: '日本語'")), "");
}

TEST(PgvValidatorTest, RejectsStringOfOtherLength) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len: 3 }", "v: '日本'")), "v: must be exactly 3 characters long");
}

TEST(PgvValidatorTest, AcceptsStringWithinMaxLenInCodePoints) {
  EXPECT_EQ(errorsOf(withField(kString, "string { max_len: 2 }", "v: '日本'")), "");
}

TEST(PgvValidatorTest, RejectsStringAboveMaxLen) {
  EXPECT_EQ(errorsOf(withField(kString, "string { max_len: 2 }", "v: '日本語'")),
            "v: must be at most 2 characters long");
}

TEST(PgvValidatorTest, AcceptsStringOfExactByteLength) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len_bytes: 4 }", "v: 'abcd'")), "");
}

TEST(PgvValidatorTest, RejectsStringOfOtherByteLength) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len_bytes: 4 }", "v: '日本'")), "v: must be exactly 4 bytes long");
}

TEST(PgvValidatorTest, AcceptsStringOfMinBytes) {
  EXPECT_EQ(errorsOf(withField(kString, "string { min_bytes: 4 }", "v: '日本'")), "");
}

TEST(PgvValidatorTest, RejectsStringBelowMinBytes) {
  EXPECT_EQ(errorsOf(withField(kString, "string { min_bytes: 4 }", "v: '日'")), "v: must be at least 4 bytes long");
}

TEST(PgvValidatorTest, AcceptsHeaderKeyOfMaxBytes) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key(std::string(16384, 'k'));
  EXPECT_EQ(errorsOf(header), "");
}

TEST(PgvValidatorTest, RejectsHeaderKeyAboveMaxBytes) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key(std::string(16385, 'k'));
  EXPECT_EQ(errorsOf(header), "key: must be at most 16384 bytes long");
}

TEST(PgvValidatorTest, AcceptsStringMatchingPattern) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::RouteMatch>("path_separated_prefix: '/api'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotMatchingPattern) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::RouteMatch>("path_separated_prefix: '/api/'")),
            "path_separated_prefix: must match the pattern \"^[^?#]+[^?#/]$\"");
}

TEST(PgvValidatorTest, ReportsRulePatternThatDoesNotCompile) {
  EXPECT_EQ(errorsOf(withField(kString, "string { pattern: '(' }", "v: 'x'")),
            "v: has a rule pattern \"(\" that does not compile: missing ): (");
}

TEST(PgvValidatorTest, AcceptsStringWithPrefix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { prefix: '/api' }", "v: '/api/v1'")), "");
}

TEST(PgvValidatorTest, RejectsStringWithoutPrefix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { prefix: '/api' }", "v: '/v1'")), "v: must start with \"/api\"");
}

TEST(PgvValidatorTest, AcceptsStringWithSuffix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { suffix: '.json' }", "v: 'a.json'")), "");
}

TEST(PgvValidatorTest, RejectsStringWithoutSuffix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { suffix: '.json' }", "v: 'a.yaml'")), "v: must end with \".json\"");
}

TEST(PgvValidatorTest, AcceptsStringContainingSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { contains: '@' }", "v: 'a@b'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotContainingSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { contains: '@' }", "v: 'ab'")), "v: must contain \"@\"");
}

TEST(PgvValidatorTest, AcceptsStringWithoutExcludedSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_contains: '..' }", "v: 'a/b'")), "");
}

TEST(PgvValidatorTest, RejectsStringContainingExcludedSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_contains: '..' }", "v: 'a/../b'")), "v: must not contain \"..\"");
}

TEST(PgvValidatorTest, AcceptsStringInList) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::SchemeHeaderTransformation>("scheme_to_overwrite: 'https'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotInList) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::SchemeHeaderTransformation>("scheme_to_overwrite: 'ftp'")),
            "scheme_to_overwrite: must be one of [\"http\", \"https\"]");
}

TEST(PgvValidatorTest, AcceptsStringNotInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_in: ['admin', 'root'] }", "v: 'web'")), "");
}

TEST(PgvValidatorTest, RejectsStringInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_in: ['admin', 'root'] }", "v: 'root'")),
            "v: must not be one of [\"admin\", \"root\"]");
}

TEST(PgvValidatorTest, AcceptsEmail) {
  EXPECT_EQ(errorsOf(withField(kString, "string { email: true }", "v: 'ops.team+envoy@example.com'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidEmail) {
  EXPECT_EQ(errorsOf(withField(kString, "string { email: true }", "v: 'ops@@example.com'")),
            "v: must be a valid email address");
}

TEST(PgvValidatorTest, AcceptsHostname) {
  EXPECT_EQ(errorsOf(withField(kString, "string { hostname: true }", "v: 'api-1.Example.com.'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidHostname) {
  EXPECT_EQ(errorsOf(withField(kString, "string { hostname: true }", "v: '-api.example.com'")),
            "v: must be a valid hostname");
}

TEST(PgvValidatorTest, AcceptsIpAddressOfEitherFamily) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ip: true }", "v: '10.0.0.1'")), "");
  EXPECT_EQ(errorsOf(withField(kString, "string { ip: true }", "v: '::1'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidIpAddress) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ip: true }", "v: '10.0.0'")), "v: must be a valid IP address");
}

TEST(PgvValidatorTest, AcceptsIpv4Address) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv4: true }", "v: '192.168.1.255'")), "");
}

TEST(PgvValidatorTest, RejectsIpv6WhereIpv4Required) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv4: true }", "v: '::1'")), "v: must be a valid IPv4 address");
}

TEST(PgvValidatorTest, AcceptsIpv6Address) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv6: true }", "v: 'fe80::1:2'")), "");
}

TEST(PgvValidatorTest, RejectsIpv4WhereIpv6Required) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv6: true }", "v: '10.0.0.1'")), "v: must be a valid IPv6 address");
}

TEST(PgvValidatorTest, AcceptsAbsoluteUri) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri: true }", "v: 'https://user@[::1]:8443/a%20b?q=1#top'")), "");
}

TEST(PgvValidatorTest, RejectsRelativeReferenceWhereUriRequired) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri: true }", "v: '/relative/path'")),
            "v: must be a valid absolute URI");
}

TEST(PgvValidatorTest, AcceptsRelativeUriReference) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri_ref: true }", "v: '../a?b=c'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidUriReference) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri_ref: true }", "v: 'http://exa mple.com/'")),
            "v: must be a valid URI reference");
}

TEST(PgvValidatorTest, AcceptsHostnameOrIpAsAddress) {
  EXPECT_EQ(errorsOf(withField(kString, "string { address: true }", "v: 'example.com'")), "");
  EXPECT_EQ(errorsOf(withField(kString, "string { address: true }", "v: '2001:db8::1'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidAddress) {
  EXPECT_EQ(errorsOf(withField(kString, "string { address: true }", "v: 'exa_mple.com'")),
            "v: must be a valid hostname or IP address");
}

TEST(PgvValidatorTest, AcceptsUuid) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uuid: true }", "v: '123e4567-E89B-12d3-a456-426614174000'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidUuid) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uuid: true }", "v: '123e4567e89b12d3a456426614174000'")),
            "v: must be a valid UUID");
}

TEST(PgvValidatorTest, AcceptsStrictHeaderNameOrEmptyWithIgnoreEmpty) {
  using Entry = envoy::config::core::v3::AlternateProtocolsCacheOptions::AlternateProtocolsCacheEntry;
  EXPECT_EQ(errorsOf(parse<Entry>("port: 443")), "");
  EXPECT_EQ(errorsOf(parse<Entry>("hostname: 'www.example.com' port: 443")), "");
}

TEST(PgvValidatorTest, RejectsInvalidStrictHeaderName) {
  using Entry = envoy::config::core::v3::AlternateProtocolsCacheOptions::AlternateProtocolsCacheEntry;
  EXPECT_EQ(errorsOf(parse<Entry>("hostname: 'www example.com' port: 443")),
            "hostname: must be a valid HTTP header name");
}

TEST(PgvValidatorTest, AcceptsNonStrictHeaderNameWithSpace) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::HeaderValue>("key: 'x-my header'")), "");
}

TEST(PgvValidatorTest, RejectsNonStrictHeaderNameWithCrLf) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::HeaderValue>("key: 'x-a\\r\\nb'")),
            "key: must not contain NUL, CR or LF characters");
}

TEST(PgvValidatorTest, AcceptsStrictHeaderValueWithTab) {
  EXPECT_EQ(errorsOf(withField(kString, "string { well_known_regex: HTTP_HEADER_VALUE }", "v: 'text/html;\\tq=1'")),
            "");
}

TEST(PgvValidatorTest, RejectsStrictHeaderValueWithControlCharacter) {
  EXPECT_EQ(errorsOf(withField(kString, "string { well_known_regex: HTTP_HEADER_VALUE }", "v: 'a\\001b'")),
            "v: must be a valid HTTP header value (no control characters)");
}

TEST(PgvValidatorTest, AcceptsUnsetOrValidWrappedString) {
  constexpr std::string_view kStringValue = "type: TYPE_MESSAGE type_name: '.google.protobuf.StringValue'";
  EXPECT_EQ(errorsOf(withField(kStringValue, "string { min_len: 2 }", "")), "");
  EXPECT_EQ(errorsOf(withField(kStringValue, "string { min_len: 2 }", "v { value: 'ab' }")), "");
}

TEST(PgvValidatorTest, RejectsWrappedStringBreakingItsRule) {
  constexpr std::string_view kStringValue = "type: TYPE_MESSAGE type_name: '.google.protobuf.StringValue'";
  EXPECT_EQ(errorsOf(withField(kStringValue, "string { min_len: 2 }", "v { value: 'a' }")),
            "v: must be at least 2 characters long");
}

// ---------------------------------------------------------------------------
// Bytes.

TEST(PgvValidatorTest, AcceptsBytesEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { const: '\\001\\002' }", "v: '\\001\\002'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { const: '\\001\\002' }", "v: '\\001\\003'")),
            "v: must equal \"\\x01\\x02\"");
}

TEST(PgvValidatorTest, AcceptsBytesOfExactLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { len: 4 }", "v: 'abcd'")), "");
}

TEST(PgvValidatorTest, RejectsBytesOfOtherLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { len: 4 }", "v: 'abc'")), "v: must be exactly 4 bytes long");
}

TEST(PgvValidatorTest, AcceptsBytesOfMinLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { min_len: 2 }", "v: 'ab'")), "");
}

TEST(PgvValidatorTest, RejectsBytesBelowMinLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { min_len: 2 }", "v: 'a'")), "v: must be at least 2 bytes long");
}

TEST(PgvValidatorTest, AcceptsBytesOfMaxLength) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key("k");
  header.set_raw_value(std::string(16384, '\0'));
  EXPECT_EQ(errorsOf(header), "");
}

TEST(PgvValidatorTest, RejectsBytesAboveMaxLength) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key("k");
  header.set_raw_value(std::string(16385, '\0'));
  EXPECT_EQ(errorsOf(header), "raw_value: must be at most 16384 bytes long");
}

TEST(PgvValidatorTest, AcceptsBytesMatchingPattern) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { pattern: '^[a-f0-9]+$' }", "v: 'c0ffee'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotMatchingPattern) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { pattern: '^[a-f0-9]+$' }", "v: 'tea'")),
            "v: must match the pattern \"^[a-f0-9]+$\"");
}

TEST(PgvValidatorTest, AcceptsBytesWithPrefix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { prefix: 'PK' }", "v: 'PK\\003\\004'")), "");
}

TEST(PgvValidatorTest, RejectsBytesWithoutPrefix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { prefix: 'PK' }", "v: 'GIF8'")), "v: must start with \"PK\"");
}

TEST(PgvValidatorTest, AcceptsBytesWithSuffix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { suffix: '\\000' }", "v: 'ab\\000'")), "");
}

TEST(PgvValidatorTest, RejectsBytesWithoutSuffix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { suffix: '\\000' }", "v: 'ab'")), "v: must end with \"\\x00\"");
}

TEST(PgvValidatorTest, AcceptsBytesContainingSequence) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { contains: '\\r\\n' }", "v: 'a\\r\\nb'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotContainingSequence) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { contains: '\\r\\n' }", "v: 'a\\nb'")),
            "v: must contain \"\\x0d\\x0a\"");
}

TEST(PgvValidatorTest, AcceptsBytesInList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { in: ['a', 'b'] }", "v: 'b'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotInList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { in: ['a', 'b'] }", "v: 'c'")), "v: must be one of [\"a\", \"b\"]");
}

TEST(PgvValidatorTest, AcceptsBytesNotInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { not_in: ['a'] }", "v: 'b'")), "");
}

TEST(PgvValidatorTest, RejectsBytesInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { not_in: ['a'] }", "v: 'a'")), "v: must not be one of [\"a\"]");
}

TEST(PgvValidatorTest, AcceptsBytesIpOfEitherLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ip: true }", "v: '\\n\\000\\000\\001'")), "");
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ip: true }", "v: '0123456789abcdef'")), "");
}

TEST(PgvValidatorTest, RejectsBytesIpOfOtherLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ip: true }", "v: 'abc'")), "v: must be an IP address (4 or 16 bytes)");
}

TEST(PgvValidatorTest, AcceptsBytesIpv4OfFourBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv4: true }", "v: 'abcd'")), "");
}

TEST(PgvValidatorTest, RejectsBytesIpv4OfSixteenBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv4: true }", "v: '0123456789abcdef'")),
            "v: must be an IPv4 address (4 bytes)");
}

TEST(PgvValidatorTest, AcceptsBytesIpv6OfSixteenBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv6: true }", "v: '0123456789abcdef'")), "");
}

TEST(PgvValidatorTest, RejectsBytesIpv6OfFourBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv6: true }", "v: 'abcd'")), "v: must be an IPv6 address (16 bytes)");
}

// ---------------------------------------------------------------------------
// Durations.

TEST(PgvValidatorTest, AcceptsDurationAboveZero) {
  EXPECT_EQ(errorsOf(parse<envoy::config::cluster::v3::Cluster>("name: 'c' connect_timeout { nanos: 1000000 }")), "");
}

TEST(PgvValidatorTest, RejectsZeroDurationWhereGtZero) {
  EXPECT_EQ(errorsOf(parse<envoy::config::cluster::v3::Cluster>("name: 'c' connect_timeout {}")),
            "connect_timeout: must be greater than 0s");
}

TEST(PgvValidatorTest, AcceptsDurationInsideHalfOpenRange) {
  EXPECT_EQ(errorsOf(parse<envoy::config::bootstrap::v3::Bootstrap>("stats_flush_interval { nanos: 1000000 }")), "");
}

TEST(PgvValidatorTest, RejectsDurationOutsideHalfOpenRange) {
  EXPECT_EQ(errorsOf(parse<envoy::config::bootstrap::v3::Bootstrap>("stats_flush_interval { nanos: 100000 }")),
            "stats_flush_interval: must be greater than or equal to 0.001s and less than 300s");
}

TEST(PgvValidatorTest, AcceptsSetRequiredDuration) {
  EXPECT_EQ(errorsOf(parse<envoy::config::cluster::v3::Cluster::RefreshRate>("base_interval { seconds: 1 }")), "");
}

TEST(PgvValidatorTest, RejectsUnsetRequiredDuration) {
  EXPECT_EQ(errorsOf(envoy::config::cluster::v3::Cluster::RefreshRate()), "base_interval: is required");
}

TEST(PgvValidatorTest, AcceptsDurationEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { const { seconds: 1 } }", "v { seconds: 1 }")), "");
}

TEST(PgvValidatorTest, RejectsDurationNotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { const { seconds: 1 } }", "v { seconds: 1 nanos: 500000000 }")),
            "v: must equal 1s");
}

TEST(PgvValidatorTest, AcceptsDurationBelowLt) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { lt { seconds: 1 } }", "v { nanos: 999999999 }")), "");
}

TEST(PgvValidatorTest, RejectsDurationNotBelowLt) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { lt { seconds: 1 } }", "v { seconds: 1 }")),
            "v: must be less than 1s");
}

TEST(PgvValidatorTest, AcceptsDurationAtLte) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { lte { nanos: 500000000 } }", "v { nanos: 500000000 }")), "");
}

TEST(PgvValidatorTest, RejectsDurationAboveLte) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { lte { nanos: 500000000 } }", "v { seconds: 1 }")),
            "v: must be less than or equal to 0.5s");
}

TEST(PgvValidatorTest, AcceptsDurationAtNegativeGte) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { gte { seconds: -1 nanos: -500000000 } }",
                               "v { seconds: -1 nanos: -500000000 }")),
            "");
}

TEST(PgvValidatorTest, RejectsDurationBelowNegativeGte) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { gte { seconds: -1 nanos: -500000000 } }", "v { seconds: -2 }")),
            "v: must be greater than or equal to -1.5s");
}

TEST(PgvValidatorTest, AcceptsDurationOutsideExclusiveRange) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { lt { seconds: 1 } gt { seconds: 5 } }", "v { seconds: 6 }")), "");
}

TEST(PgvValidatorTest, RejectsDurationInsideExclusiveRange) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { lt { seconds: 1 } gt { seconds: 5 } }", "v { seconds: 3 }")),
            "v: must be less than 1s or greater than 5s");
}

TEST(PgvValidatorTest, AcceptsDurationInList) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { in { seconds: 1 } in { seconds: 2 } }", "v { seconds: 2 }")), "");
}

TEST(PgvValidatorTest, RejectsDurationNotInList) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { in { seconds: 1 } in { seconds: 2 } }", "v { seconds: 3 }")),
            "v: must be one of [1s, 2s]");
}

TEST(PgvValidatorTest, AcceptsDurationNotInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { not_in {} }", "v { nanos: 1 }")), "");
}

TEST(PgvValidatorTest, RejectsDurationInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kDuration, "duration { not_in {} }", "v {}")), "v: must not be one of [0s]");
}

// ---------------------------------------------------------------------------
// Timestamps.

std::string secondsFromNow(long offset) { return "v { seconds: " + std::to_string(std::time(nullptr) + offset) + " }"; }

TEST(PgvValidatorTest, AcceptsSetRequiredTimestamp) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { required: true }", "v {}")), "");
}

TEST(PgvValidatorTest, RejectsUnsetRequiredTimestamp) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { required: true }", "")), "v: is required");
}

TEST(PgvValidatorTest, AcceptsTimestampEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { const {} }", "v {}")), "");
}

TEST(PgvValidatorTest, RejectsTimestampNotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { const {} }", "v { seconds: 1 }")),
            "v: must equal 1970-01-01T00:00:00Z");
}

TEST(PgvValidatorTest, AcceptsTimestampBelowLt) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { lt { seconds: 1700000000 } }", "v { seconds: 1 }")), "");
}

TEST(PgvValidatorTest, RejectsTimestampNotBelowLt) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { lt { seconds: 1700000000 } }", "v { seconds: 1700000000 }")),
            "v: must be less than 2023-11-14T22:13:20Z");
}

TEST(PgvValidatorTest, AcceptsTimestampInsideRange) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { gt {} lte { seconds: 86400 } }", "v { seconds: 86400 }")), "");
}

TEST(PgvValidatorTest, RejectsTimestampOutsideRange) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { gt {} lte { seconds: 86400 } }", "v { seconds: 86401 }")),
            "v: must be greater than 1970-01-01T00:00:00Z and less than or equal to 1970-01-02T00:00:00Z");
}

TEST(PgvValidatorTest, AcceptsTimestampAtGte) {
  EXPECT_EQ(
      errorsOf(withField(kTimestamp, "timestamp { gte { seconds: 60 nanos: 500 } }", "v { seconds: 60 nanos: 500 }")),
      "");
}

TEST(PgvValidatorTest, RejectsTimestampBelowGte) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { gte { seconds: 60 nanos: 500 } }", "v { seconds: 60 }")),
            "v: must be greater than or equal to 1970-01-01T00:01:00.000000500Z");
}

TEST(PgvValidatorTest, AcceptsPastTimestampWhereLtNow) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { lt_now: true }", secondsFromNow(-10))), "");
}

TEST(PgvValidatorTest, RejectsFutureTimestampWhereLtNow) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { lt_now: true }", secondsFromNow(3600))),
            "v: must be in the past");
}

TEST(PgvValidatorTest, AcceptsFutureTimestampWhereGtNow) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { gt_now: true }", secondsFromNow(3600))), "");
}

TEST(PgvValidatorTest, RejectsPastTimestampWhereGtNow) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { gt_now: true }", secondsFromNow(-10))),
            "v: must be in the future");
}

TEST(PgvValidatorTest, AcceptsTimestampWithinWindowOfNow) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { within { seconds: 3600 } }", secondsFromNow(-60))), "");
}

TEST(PgvValidatorTest, RejectsTimestampOutsideWindowOfNow) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { within { seconds: 3600 } }", secondsFromNow(-7200))),
            "v: must be within 3600s of now");
}

TEST(PgvValidatorTest, RejectsPastTimestampOutsideWindowWhereLtNow) {
  EXPECT_EQ(errorsOf(withField(kTimestamp, "timestamp { lt_now: true within { seconds: 60 } }", secondsFromNow(-120))),
            "v: must be in the past, within 60s of now");
}

// ---------------------------------------------------------------------------
// Any: required, in, not_in; payloads of dynamic messages.

TEST(PgvValidatorTest, AcceptsSetRequiredAny) {
  EXPECT_EQ(errorsOf(withField(kAny, "any { required: true }", "v { [type.googleapis.com/envoy.type.v3.Percent] {} }")),
            "");
}

TEST(PgvValidatorTest, RejectsUnsetRequiredAny) {
  EXPECT_EQ(errorsOf(withField(kAny, "any { required: true }", "")), "v: is required");
}

TEST(PgvValidatorTest, AcceptsAnyOfListedType) {
  EXPECT_EQ(errorsOf(withField(kAny, "any { in: 'type.googleapis.com/envoy.type.v3.Percent' }",
                               "v { [type.googleapis.com/envoy.type.v3.Percent] {} }")),
            "");
}

TEST(PgvValidatorTest, RejectsAnyOfUnlistedType) {
  EXPECT_EQ(errorsOf(withField(kAny, "any { in: 'type.googleapis.com/envoy.type.v3.Percent' }",
                               "v { [type.googleapis.com/envoy.type.v3.FractionalPercent] {} }")),
            "v: type URL must be one of [\"type.googleapis.com/envoy.type.v3.Percent\"]");
}

TEST(PgvValidatorTest, AcceptsAnyOfTypeNotExcluded) {
  EXPECT_EQ(errorsOf(withField(kAny, "any { not_in: 'type.googleapis.com/envoy.type.v3.Percent' }",
                               "v { [type.googleapis.com/envoy.type.v3.FractionalPercent] {} }")),
            "");
}

TEST(PgvValidatorTest, RejectsAnyOfExcludedType) {
  EXPECT_EQ(errorsOf(withField(kAny, "any { not_in: 'type.googleapis.com/envoy.type.v3.Percent' }",
                               "v { [type.googleapis.com/envoy.type.v3.Percent] {} }")),
            "v: type URL must not be one of [\"type.googleapis.com/envoy.type.v3.Percent\"]");
}

TEST(PgvValidatorTest, ChecksPayloadOfAnyInDynamicMessage) {
  EXPECT_EQ(errorsOf(withField(kAny, "", "v { [type.googleapis.com/envoy.type.v3.Percent] { value: 200 } }")),
            "v.value: must be >= 0 and <= 100");
}

// ---------------------------------------------------------------------------
// Repeated fields: min_items, max_items, unique, items.

TEST(PgvValidatorTest, AcceptsRepeatedWithMinItems) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::WeightedCluster>("clusters { name: 'a' weight { value: 1 } }")),
            "");
}

TEST(PgvValidatorTest, RejectsRepeatedBelowMinItems) {
  EXPECT_EQ(errorsOf(envoy::config::route::v3::WeightedCluster()), "clusters: must have at least 1 items");
}

TEST(PgvValidatorTest, AcceptsRepeatedWithMaxItems) {
  envoy::config::core::v3::HealthCheck::GrpcHealthCheck check;
  for (int i = 0; i < 1000; ++i) check.add_initial_metadata()->mutable_header()->set_key("k");
  EXPECT_EQ(errorsOf(check), "");
}

TEST(PgvValidatorTest, RejectsRepeatedAboveMaxItems) {
  envoy::config::core::v3::HealthCheck::GrpcHealthCheck check;
  for (int i = 0; i < 1001; ++i) check.add_initial_metadata()->mutable_header()->set_key("k");
  EXPECT_EQ(errorsOf(check), "initial_metadata: must have at most 1000 items");
}

TEST(PgvValidatorTest, AcceptsUniqueItems) {
  EXPECT_EQ(errorsOf(parse<envoy::config::metrics::v3::HistogramBucketSettings>(
                "match { exact: 'x' } buckets: [0.5, 1, 10]")),
            "");
}

TEST(PgvValidatorTest, RejectsDuplicateItemWhereUnique) {
  EXPECT_EQ(
      errorsOf(parse<envoy::config::metrics::v3::HistogramBucketSettings>("match { exact: 'x' } buckets: [1, 2, 1]")),
      "buckets[2]: must be unique, same as [0]");
}

TEST(PgvValidatorTest, RejectsDuplicateStringWhereUnique) {
  EXPECT_EQ(errorsOf(withField(kRepeatedString, "repeated { unique: true }", "v: ['a', 'b', 'a']")),
            "v[2]: must be unique, same as [0]");
}

TEST(PgvValidatorTest, AcceptsItemsFollowingItemRules) {
  EXPECT_EQ(errorsOf(parse<envoy::config::listener::v3::FilterChainMatch>("source_ports: [1, 65535]")), "");
}

TEST(PgvValidatorTest, RejectsItemBreakingItemRules) {
  EXPECT_EQ(errorsOf(parse<envoy::config::listener::v3::FilterChainMatch>("source_ports: [80, 0]")),
            "source_ports[1]: must be >= 1 and <= 65535");
}

TEST(PgvValidatorTest, DescendsIntoRepeatedMessages) {
  EXPECT_EQ(errorsOf(withField(kRepeatedPercent, "", "v { value: 1 } v { value: 101 }")),
            "v[1].value: must be >= 0 and <= 100");
}

TEST(PgvValidatorTest, DoesNotDescendIntoSkippedItems) {
  EXPECT_EQ(errorsOf(withField(kRepeatedPercent, "repeated { items { message { skip: true } } }", "v { value: 101 }")),
            "");
}

TEST(PgvValidatorTest, AppliesDurationRulesToItems) {
  constexpr std::string_view kDurations =
      "label: LABEL_REPEATED type: TYPE_MESSAGE type_name: '.google.protobuf.Duration'";
  EXPECT_EQ(errorsOf(withField(kDurations, "repeated { items { duration { gt {} } } }", "v { seconds: 1 } v {}")),
            "v[1]: must be greater than 0s");
}

// ---------------------------------------------------------------------------
// Maps: min_pairs, max_pairs, no_sparse, keys, values.

TEST(PgvValidatorTest, AcceptsMapWithMinPairs) {
  const auto map = parse<xds::type::matcher::v3::Matcher::MatcherTree::MatchMap>(
      "map { key: 'a' value { action { name: 'router' typed_config { "
      "[type.googleapis.com/envoy.extensions.filters.http.router.v3.Router] {} } } } }");
  EXPECT_EQ(errorsOf(map), "");
}

TEST(PgvValidatorTest, RejectsMapBelowMinPairs) {
  EXPECT_EQ(errorsOf(xds::type::matcher::v3::Matcher::MatcherTree::MatchMap()), "map: must have at least 1 entries");
}

TEST(PgvValidatorTest, AcceptsMapWithMaxPairs) {
  EXPECT_EQ(errorsOf(withMap(kString, kInt32, "map { max_pairs: 1 }", "v { key: 'a' value: 1 }")), "");
}

TEST(PgvValidatorTest, RejectsMapAboveMaxPairs) {
  EXPECT_EQ(
      errorsOf(withMap(kString, kInt32, "map { max_pairs: 1 }", "v { key: 'a' value: 1 } v { key: 'b' value: 2 }")),
      "v: must have at most 1 entries");
}

TEST(PgvValidatorTest, AcceptsMapKeysFollowingKeyRules) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::Metadata>("filter_metadata { key: 'envoy.lb' value {} }")), "");
}

TEST(PgvValidatorTest, RejectsMapKeyBreakingKeyRules) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::Metadata>("filter_metadata { key: '' value {} }"), "metadata"),
            "metadata.filter_metadata[\"\"]: must be at least 1 characters long");
}

TEST(PgvValidatorTest, RejectsIntegerMapKeyBreakingKeyRules) {
  EXPECT_EQ(errorsOf(withMap(kInt32, kString, "map { keys { int32 { gt: 0 } } }", "v { key: 0 value: 'a' }")),
            "v[\"0\"]: must be > 0");
}

TEST(PgvValidatorTest, AcceptsMapValuesFollowingValueRules) {
  EXPECT_EQ(
      errorsOf(withMap(kString, kString, "map { values { string { min_len: 1 } } }", "v { key: 'a' value: 'x' }")), "");
}

TEST(PgvValidatorTest, RejectsMapValuesBreakingValueRulesInKeyOrder) {
  EXPECT_EQ(errorsOf(withMap(kString, kString, "map { values { string { min_len: 1 } } }",
                             "v { key: 'b' value: '' } v { key: 'a' value: '' }")),
            "v[\"a\"]: must be at least 1 characters long\n"
            "v[\"b\"]: must be at least 1 characters long");
}

TEST(PgvValidatorTest, DescendsIntoMessageMapValues) {
  EXPECT_EQ(errorsOf(withMap(kString, kPercent, "", "v { key: 'p' value { value: 101 } }")),
            "v[\"p\"].value: must be >= 0 and <= 100");
}

TEST(PgvValidatorTest, AcceptsMapEntryWithValueWhereNoSparse) {
  EXPECT_EQ(errorsOf(withMap(kString, kPercent, "map { no_sparse: true }", "v { key: 'p' value {} }")), "");
}

TEST(PgvValidatorTest, RejectsMapEntryWithoutValueWhereNoSparse) {
  EXPECT_EQ(errorsOf(withMap(kString, kPercent, "map { no_sparse: true }", "v { key: 'p' }")),
            "v[\"p\"]: must have a value (no sparse entries)");
}

}  // namespace
}  // namespace sluice::config
