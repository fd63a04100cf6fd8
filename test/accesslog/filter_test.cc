// Access-log filters: comparisons, runtime sampling, and/or.
#include "accesslog/filter.h"

#include <gtest/gtest.h>

#include "config/yaml_to_proto.h"

namespace sluice::accesslog {
namespace {

using namespace std::chrono_literals;

class FilterTest : public ::testing::Test {
 protected:
  FilterTest() { info.reset(); }

  bool passes(std::string_view yaml, uint64_t stream_random = 0, uint64_t independent_random = 0) {
    envoy::config::accesslog::v3::AccessLogFilter config;
    config::ErrorList errors;
    config::parseYamlInto(yaml, config, errors);
    auto filter = Filter::build(config, "filter", errors);
    EXPECT_TRUE(errors.empty()) << errors.toString();
    if (!filter) return false;
    return filter->evaluate({info, info.start + duration, runtime, stream_random, independent_random});
  }

  StreamInfo info;
  StreamInfo::Clock::duration duration = 0ms;
  runtime::Snapshot runtime;
};

TEST_F(FilterTest, StatusCodeComparisons) {
  info.response_code = 503;
  EXPECT_TRUE(passes("status_code_filter: {comparison: {op: GE, value: {default_value: 500, runtime_key: k}}}"));
  EXPECT_FALSE(passes("status_code_filter: {comparison: {op: LE, value: {default_value: 499, runtime_key: k}}}"));
  EXPECT_TRUE(passes("status_code_filter: {comparison: {op: EQ, value: {default_value: 503, runtime_key: k}}}"));
  EXPECT_FALSE(passes("status_code_filter: {comparison: {op: EQ, value: {default_value: 200, runtime_key: k}}}"));
}

TEST_F(FilterTest, NoResponseComparesAsZero) {
  EXPECT_TRUE(passes("status_code_filter: {comparison: {op: EQ, value: {default_value: 0, runtime_key: k}}}"));
}

TEST_F(FilterTest, RuntimeKeyOverridesTheDefault) {
  info.response_code = 404;
  runtime = runtime::Snapshot(std::map<std::string, std::string, std::less<>>{{"min_status", "400"}});
  EXPECT_TRUE(
      passes("status_code_filter: {comparison: {op: GE, value: {default_value: 500, runtime_key: min_status}}}"));
}

TEST_F(FilterTest, DurationInMilliseconds) {
  duration = 250ms;
  EXPECT_TRUE(passes("duration_filter: {comparison: {op: GE, value: {default_value: 250, runtime_key: k}}}"));
  EXPECT_FALSE(passes("duration_filter: {comparison: {op: GE, value: {default_value: 251, runtime_key: k}}}"));
}

TEST_F(FilterTest, NotHealthCheckPassesEveryRequest) { EXPECT_TRUE(passes("not_health_check_filter: {}")); }

TEST_F(FilterTest, RuntimeFilterSamplesByTheStreamRandomValue) {
  const auto yaml = "runtime_filter: {runtime_key: s, percent_sampled: {numerator: 10, denominator: HUNDRED}}";
  EXPECT_TRUE(passes(yaml, 109, 50));
  EXPECT_FALSE(passes(yaml, 110, 5));
}

TEST_F(FilterTest, RuntimeFilterWithIndependentRandomness) {
  const auto yaml =
      "runtime_filter: {runtime_key: s, percent_sampled: {numerator: 5, denominator: TEN_THOUSAND}, "
      "use_independent_randomness: true}";
  EXPECT_TRUE(passes(yaml, 50, 10004));
  EXPECT_FALSE(passes(yaml, 4, 10005));
}

TEST_F(FilterTest, RuntimeFilterDefaultsToNothingAndReadsTheRuntime) {
  EXPECT_FALSE(passes("runtime_filter: {runtime_key: s}", 0));
  runtime = runtime::Snapshot(std::map<std::string, std::string, std::less<>>{{"s", "100"}});
  EXPECT_TRUE(passes("runtime_filter: {runtime_key: s}", 99));
}

TEST_F(FilterTest, AndOr) {
  info.response_code = 200;
  duration = 10ms;
  const std::string ok = "{status_code_filter: {comparison: {op: EQ, value: {default_value: 200, runtime_key: k}}}}";
  const std::string slow = "{duration_filter: {comparison: {op: GE, value: {default_value: 100, runtime_key: k}}}}";
  EXPECT_FALSE(passes("and_filter: {filters: [" + ok + ", " + slow + "]}"));
  EXPECT_TRUE(passes("or_filter: {filters: [" + ok + ", " + slow + "]}"));
  EXPECT_TRUE(passes("and_filter: {filters: [" + ok + ", {or_filter: {filters: [" + slow + ", " + ok + "]}}]}"));
}

TEST_F(FilterTest, AnEmptyFilterIsAnError) {
  envoy::config::accesslog::v3::AccessLogFilter config;
  config::ErrorList errors;
  EXPECT_EQ(Filter::build(config, "f", errors), nullptr);
  EXPECT_EQ(errors.toString(),
            "f: one of status_code_filter, duration_filter, not_health_check_filter, runtime_filter, and_filter or "
            "or_filter is required\n");
}

}  // namespace
}  // namespace sluice::accesslog
