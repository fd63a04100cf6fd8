// Retry policies: parsing, Envoy's defaults, the semantic checks, and which
// responses each retry_on condition retries; the route's policy overrides
// its virtual host's.
#include "router/retry_policy.h"

#include <gtest/gtest.h>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

namespace on = retry_on;

std::shared_ptr<const RetryPolicy> policy(std::string_view yaml, config::ErrorList& errors) {
  RetryPolicy::Proto proto;
  config::parseYamlInto(yaml, proto, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  return RetryPolicy::build(proto, "retry_policy", errors);
}

std::shared_ptr<const RetryPolicy> policy(std::string_view yaml) {
  config::ErrorList errors;
  auto out = policy(yaml, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_NE(out, nullptr);
  return out;
}

std::string policyError(std::string_view yaml) {
  config::ErrorList errors;
  auto out = policy(yaml, errors);
  EXPECT_EQ(out, nullptr);
  return errors.toString();
}

TEST(RetryPolicy, EnvoysDefaults) {
  const auto p = policy("retry_on: 5xx");
  EXPECT_EQ(p->retryOn(), on::k5xx);
  EXPECT_EQ(p->numRetries(), 1u);
  EXPECT_EQ(p->perTryTimeout().count(), 0);
  EXPECT_EQ(p->baseInterval().count(), 25);
  EXPECT_EQ(p->maxInterval().count(), 250);
  EXPECT_FALSE(p->previousHosts());
  EXPECT_EQ(p->hostSelectionMaxAttempts(), 1u);
}

TEST(RetryPolicy, ParsesEveryField) {
  const auto p = policy(R"(
retry_on: "5xx, gateway-error,reset,connect-failure,retriable-4xx,refused-stream,retriable-status-codes,retriable-headers"
num_retries: 4
per_try_timeout: 0.5s
per_try_idle_timeout: 0.2s
retry_back_off: {base_interval: 0.01s, max_interval: 0.04s}
retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]
host_selection_retry_max_attempts: 5
retriable_status_codes: [418]
retriable_headers: [{name: x-retry-me, present_match: true}]
)");
  EXPECT_EQ(p->retryOn(), 0xffu);
  EXPECT_EQ(p->numRetries(), 4u);
  EXPECT_EQ(p->perTryTimeout().count(), 500);
  EXPECT_EQ(p->perTryIdleTimeout().count(), 200);
  EXPECT_EQ(p->baseInterval().count(), 10);
  EXPECT_EQ(p->maxInterval().count(), 40);
  EXPECT_TRUE(p->previousHosts());
  EXPECT_EQ(p->hostSelectionMaxAttempts(), 5u);
}

TEST(RetryPolicy, MaxIntervalDefaultsToTenTimesTheBase) {
  EXPECT_EQ(policy("retry_back_off: {base_interval: 0.1s}")->maxInterval().count(), 1000);
}

TEST(RetryPolicy, RejectsAnUnknownCondition) {
  EXPECT_NE(policyError("retry_on: 5xx,unavailable").find("retry_policy.retry_on: 'unavailable' is not supported"),
            std::string::npos);
}

TEST(RetryPolicy, RejectsAMaxIntervalBelowTheBase) {
  EXPECT_NE(policyError("retry_back_off: {base_interval: 1s, max_interval: 0.5s}")
                .find("retry_policy.retry_back_off.max_interval: must be greater than or equal to base_interval"),
            std::string::npos);
}

TEST(RetryPolicy, RejectsABaseIntervalUnderAMillisecond) {
  EXPECT_NE(policyError("retry_back_off: {base_interval: 0.0001s}")
                .find("retry_policy.retry_back_off.base_interval: must be at least 1ms"),
            std::string::npos);
}

TEST(RetryPolicy, RejectsAStatusCodeOutOfRange) {
  EXPECT_NE(policyError("retriable_status_codes: [200, 99]").find("retry_policy.retriable_status_codes[1]"),
            std::string::npos);
}

TEST(RetryPolicy, BoundsTheHostSelectionCount) {
  EXPECT_NE(policyError("host_selection_retry_max_attempts: -1").find("must not be negative"), std::string::npos);
  EXPECT_NE(policyError("host_selection_retry_max_attempts: 1001").find("must be at most 1000"), std::string::npos);
  EXPECT_EQ(policy("host_selection_retry_max_attempts: 1000")->hostSelectionMaxAttempts(), 1000u);
}

TEST(RetryPolicy, ParsesTheHeaderListLeniently) {
  std::string_view unknown;
  EXPECT_EQ(parseRetryOn(" reset , ,connect-failure,bogus", &unknown), on::kReset | on::kConnectFailure);
  EXPECT_EQ(unknown, "bogus");
  EXPECT_EQ(parseRetryOn(""), 0u);
}

TEST(RetryPolicy, ConditionsForResponses) {
  const auto p = policy("retriable_status_codes: [418]\nretriable_headers: [{name: x-retry-me, exact_match: yes}]");
  const http::HeaderMap none;
  EXPECT_TRUE(p->retriableResponse(on::k5xx, 500, none));
  EXPECT_TRUE(p->retriableResponse(on::k5xx, 599, none));
  EXPECT_FALSE(p->retriableResponse(on::k5xx, 409, none));
  EXPECT_TRUE(p->retriableResponse(on::kGatewayError, 503, none));
  EXPECT_FALSE(p->retriableResponse(on::kGatewayError, 500, none));
  EXPECT_TRUE(p->retriableResponse(on::kRetriable4xx, 409, none));
  EXPECT_FALSE(p->retriableResponse(on::kRetriable4xx, 404, none));
  EXPECT_TRUE(p->retriableResponse(on::kRetriableStatusCodes, 418, none));
  EXPECT_FALSE(p->retriableResponse(on::kRetriableStatusCodes, 500, none));
  EXPECT_FALSE(p->retriableResponse(on::kReset | on::kConnectFailure | on::kRefusedStream, 503, none));
  http::HeaderMap marked;
  marked.add("x-retry-me", "yes");
  EXPECT_TRUE(p->retriableResponse(on::kRetriableHeaders, 200, marked));
  EXPECT_FALSE(p->retriableResponse(on::kRetriableHeaders, 200, none));
  EXPECT_FALSE(p->retriableResponse(on::k5xx, 200, marked));  // the headers need their condition
}

TEST(RetryPolicy, TheRoutesPolicyOverridesTheVirtualHosts) {
  const auto table = buildTable(R"(
virtual_hosts:
- name: vh
  domains: ['*']
  retry_policy: {retry_on: reset, num_retries: 7}
  include_request_attempt_count: true
  include_attempt_count_in_response: true
  per_request_buffer_limit_bytes: 100
  routes:
  - match: {prefix: /own}
    route: {cluster: c, retry_policy: {retry_on: 5xx}}
    per_request_buffer_limit_bytes: 10
  - match: {prefix: /}
    route: {cluster: c}
)");
  const auto& vh = *table->virtualHosts()[0];
  EXPECT_TRUE(vh.includeRequestAttemptCount());
  EXPECT_TRUE(vh.includeAttemptCountInResponse());
  const auto* own = vh.routes()[0]->forward()->retryPolicy();
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->retryOn(), on::k5xx);
  EXPECT_EQ(own->numRetries(), 1u);  // the route's policy wins whole: no field is inherited
  EXPECT_EQ(vh.routes()[0]->perRequestBufferLimit(), 10u);
  const auto* inherited = vh.routes()[1]->forward()->retryPolicy();
  ASSERT_NE(inherited, nullptr);
  EXPECT_EQ(inherited->retryOn(), on::kReset);
  EXPECT_EQ(inherited->numRetries(), 7u);
  EXPECT_EQ(vh.routes()[1]->perRequestBufferLimit(), 100u);
}

TEST(RetryPolicy, NoPolicyByDefault) {
  const auto table = buildTable(singleHost("  - match: {prefix: /}\n    route: {cluster: c}\n"));
  EXPECT_EQ(table->virtualHosts()[0]->routes()[0]->forward()->retryPolicy(), nullptr);
  EXPECT_FALSE(table->virtualHosts()[0]->includeRequestAttemptCount());
  EXPECT_EQ(table->virtualHosts()[0]->routes()[0]->perRequestBufferLimit(), std::nullopt);
}

TEST(RetryPolicy, AnInvalidVirtualHostPolicyFailsTheTable) {
  const auto errors = buildErrors(R"(
virtual_hosts:
- name: vh
  domains: ['*']
  retry_policy: {retry_on: bogus}
  routes: [{match: {prefix: /}, route: {cluster: c}}]
)");
  EXPECT_NE(errors.toString().find("virtual_hosts[0].retry_policy.retry_on: 'bogus'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::router::test
