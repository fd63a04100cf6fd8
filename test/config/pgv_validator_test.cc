// validateRules on real Envoy messages, message rules, presence, numbers and enums.
#include "config/pgv_test_util.h"

namespace sluice::config {
namespace {

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

}  // namespace
}  // namespace sluice::config
