// One request's retry state: which failures each condition retries, the
// retry limit, the cluster's retry circuit breaker and budget, the request
// headers (honoured on internal requests only, always removed), full-jitter
// back-off and the hosts tried.
#include "proxy/retry_state.h"

#include <gtest/gtest.h>

#include "config/yaml_to_proto.h"

namespace sluice::proxy {
namespace {

using Decision = RetryState::Decision;
using Kind = UpstreamFailure::Kind;

std::shared_ptr<const router::RetryPolicy> policy(std::string_view yaml) {
  router::RetryPolicy::Proto proto;
  config::ErrorList errors;
  config::parseYamlInto(yaml, proto, errors);
  auto out = router::RetryPolicy::build(proto, "", errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  return out;
}

class RetryStateTest : public ::testing::Test {
 protected:
  Decision fail(RetryState& state, Kind kind) { return state.onFailure(UpstreamFailure{kind}, stats_, limits_); }
  Decision respond(RetryState& state, int status) {
    return state.onResponse(status, http::HeaderMap(), stats_, limits_);
  }
  uint64_t counter(const std::string& name) { return store_.counter("cluster.c." + name).value(); }

  stats::Store store_{1};
  ClusterStats stats_{store_, "c"};
  BreakerLimits limits_;
  RetryHeaders headers_;  // none
};

TEST_F(RetryStateTest, NothingIsRetriedWithoutAPolicy) {
  RetryState state(nullptr, headers_, false);
  EXPECT_FALSE(state.enabled());
}

TEST_F(RetryStateTest, FailuresEachConditionRetries) {
  const struct {
    const char* retry_on;
    Kind kind;
    bool retried;
  } cases[] = {
      {"5xx", Kind::ConnectFailure, true},
      {"5xx", Kind::ConnectionTermination, true},
      {"5xx", Kind::PerTryTimeout, true},
      {"gateway-error", Kind::ConnectTimeout, true},
      {"gateway-error", Kind::ConnectionTermination, true},
      {"reset", Kind::ConnectionTermination, true},
      {"reset", Kind::ConnectFailure, true},
      {"connect-failure", Kind::ConnectFailure, true},
      {"connect-failure", Kind::ConnectionTermination, false},
      {"retriable-4xx", Kind::ConnectFailure, false},
      {"refused-stream", Kind::ConnectionTermination, false},
      {"5xx", Kind::ResponseTimeout, false},
      {"5xx", Kind::ProtocolError, false},
      {"5xx", Kind::Overflow, false},
      {"5xx", Kind::DownstreamGone, false},
      {"5xx", Kind::StreamTimeout, false},
  };
  for (const auto& c : cases) {
    const auto p = policy(std::string("retry_on: ") + c.retry_on);
    RetryState state(p.get(), headers_, false);
    EXPECT_EQ(fail(state, c.kind), c.retried ? Decision::Retry : Decision::No) << c.retry_on << " " << int(c.kind);
  }
}

TEST_F(RetryStateTest, StopsAtNumRetriesAndCountsTheLimit) {
  const auto p = policy("retry_on: 5xx\nnum_retries: 2");
  RetryState state(p.get(), headers_, false);
  EXPECT_EQ(respond(state, 503), Decision::Retry);
  EXPECT_EQ(respond(state, 500), Decision::Retry);
  EXPECT_EQ(respond(state, 502), Decision::LimitExceeded);
  EXPECT_EQ(counter("upstream_rq_retry"), 2u);
  EXPECT_EQ(counter("upstream_rq_retry_limit_exceeded"), 1u);
  EXPECT_EQ(counter("upstream_rq_retry_success"), 0u);
}

TEST_F(RetryStateTest, ASuccessAfterARetryCounts) {
  const auto p = policy("retry_on: 5xx");
  RetryState state(p.get(), headers_, false);
  EXPECT_EQ(respond(state, 503), Decision::Retry);
  EXPECT_EQ(respond(state, 200), Decision::No);
  EXPECT_EQ(counter("upstream_rq_retry_success"), 1u);
}

TEST_F(RetryStateTest, ARetryHoldsTheClustersRetrySlotUntilTheNextDecision) {
  limits_.max_retries = 1;
  const auto p = policy("retry_on: 5xx\nnum_retries: 5");
  RetryState first(p.get(), headers_, false);
  RetryState second(p.get(), headers_, false);
  EXPECT_EQ(respond(first, 503), Decision::Retry);
  EXPECT_EQ(stats_.retries.count(), 1u);
  EXPECT_EQ(respond(second, 503), Decision::Overflow);
  EXPECT_EQ(counter("upstream_rq_retry_overflow"), 1u);
  EXPECT_EQ(respond(first, 200), Decision::No);  // gives its slot back
  EXPECT_EQ(stats_.retries.count(), 0u);
  EXPECT_EQ(respond(second, 503), Decision::Retry);
}

TEST_F(RetryStateTest, TheRetryBudgetReplacesMaxRetries) {
  limits_.max_retries = 0;
  limits_.retry_budget = true;
  limits_.budget_percent = 50;
  limits_.min_retry_concurrency = 1;
  EXPECT_EQ(retryLimit(limits_, 0), 1u);
  EXPECT_EQ(retryLimit(limits_, 10), 5u);
  const auto p = policy("retry_on: 5xx");
  RetryState first(p.get(), headers_, false);
  RetryState second(p.get(), headers_, false);
  EXPECT_EQ(respond(first, 503), Decision::Retry);  // min_retry_concurrency
  EXPECT_EQ(respond(second, 503), Decision::Overflow);
}

TEST_F(RetryStateTest, HeadersAreTakenOffEveryRequestAndHonouredOnInternalOnesOnly) {
  for (const bool internal : {false, true}) {
    http::HeaderMap headers;
    headers.add("x-envoy-retry-on", "connect-failure");
    headers.add("x-envoy-max-retries", "3");
    headers.add("x-envoy-upstream-rq-per-try-timeout-ms", "250");
    headers.add("x-envoy-other", "kept");
    headers.add("x-other", "kept");
    RetryHeaders parsed;
    stripHopByHopHeaders(headers, false, &parsed);
    EXPECT_EQ(headers.size(), 2u);
    EXPECT_TRUE(headers.has("x-envoy-other"));
    EXPECT_TRUE(headers.has("x-other"));
    RetryState state(nullptr, parsed, internal);
    EXPECT_EQ(state.enabled(), internal);
    EXPECT_EQ(state.perTryTimeout().count(), internal ? 250 : 0);
    if (!internal) continue;
    EXPECT_EQ(fail(state, Kind::ConnectFailure), Decision::Retry);
    EXPECT_EQ(fail(state, Kind::ConnectFailure), Decision::Retry);
    EXPECT_EQ(fail(state, Kind::ConnectFailure), Decision::Retry);
    EXPECT_EQ(fail(state, Kind::ConnectFailure), Decision::LimitExceeded);
  }
}

TEST_F(RetryStateTest, TheHeaderAddsToThePolicysConditions) {
  const auto p = policy("retry_on: connect-failure\nnum_retries: 1");
  http::HeaderMap headers;
  headers.add("x-envoy-retry-on", "retriable-4xx, bogus");
  headers.add("x-envoy-max-retries", "not a number");
  RetryHeaders parsed;
  stripHopByHopHeaders(headers, false, &parsed);
  EXPECT_FALSE(parsed.max_retries.has_value());
  RetryState state(p.get(), parsed, true);
  EXPECT_EQ(respond(state, 409), Decision::Retry);
  EXPECT_EQ(fail(state, Kind::ConnectFailure), Decision::LimitExceeded);  // num_retries kept
}

TEST_F(RetryStateTest, BackOffIsFullJitterUnderACappedExponential) {
  const auto p = policy("retry_on: 5xx\nnum_retries: 10\nretry_back_off: {base_interval: 0.01s, max_interval: 0.05s}");
  RetryState state(p.get(), headers_, false);
  const uint64_t ceilings[] = {10, 20, 40, 50, 50};
  for (const uint64_t ceiling : ceilings) {
    ASSERT_EQ(respond(state, 503), Decision::Retry);
    EXPECT_EQ(state.backOff(ceiling - 1).count(), static_cast<int64_t>(ceiling - 1));
    EXPECT_EQ(state.backOff(ceiling).count(), 0);  // random % ceiling
    EXPECT_EQ(state.backOff(ceiling + 3).count(), 3);
  }
}

TEST_F(RetryStateTest, RemembersTheHostsTried) {
  const auto p = policy("retry_on: 5xx\nretry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]");
  RetryState state(p.get(), headers_, false);
  EXPECT_TRUE(state.previousHosts());
  int a = 0, b = 0;
  const auto* host_a = reinterpret_cast<const upstream::Host*>(&a);
  const auto* host_b = reinterpret_cast<const upstream::Host*>(&b);
  EXPECT_FALSE(state.triedBefore(host_a));
  state.tried(host_a);
  EXPECT_TRUE(state.triedBefore(host_a));
  EXPECT_FALSE(state.triedBefore(host_b));
}

}  // namespace
}  // namespace sluice::proxy
