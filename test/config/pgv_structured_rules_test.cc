// validateRules: durations, timestamps, Any, repeated and map rules.
#include "config/pgv_test_util.h"

namespace sluice::config {
namespace {

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
