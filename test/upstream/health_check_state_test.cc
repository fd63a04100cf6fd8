// The active health check state machine (thresholds, flags), the interval it
// chooses and its jitter bounds, and the TCP payload matcher.
#include "upstream/health/health_check_state.h"

#include <gtest/gtest.h>

#include "upstream/health/health_checker.h"

namespace sluice::upstream::health {
namespace {

Timing thresholds(uint32_t unhealthy, uint32_t healthy) {
  Timing t;
  t.unhealthy_threshold = unhealthy;
  t.healthy_threshold = healthy;
  return t;
}

// A host as a new checker sees it: failed until its first pass.
HostPtr uncheckedHost() {
  auto host = makeHost("127.0.0.1", 80);
  host->setHealthFlag(kFailedActiveHc, true);
  return host;
}

TEST(HostCheckState, FirstSuccessMakesAnUncheckedHostHealthyAtOnce) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Outcome out = state.onSuccess(*host, thresholds(3, 5));
  EXPECT_EQ(host->healthFlags(), 0u);
  EXPECT_EQ(out.transition, Transition::Changed);
  EXPECT_TRUE(out.added_healthy);
  EXPECT_TRUE(out.first_check);
  EXPECT_TRUE(out.flags_changed);
}

TEST(HostCheckState, ActiveFailureFailsAHealthyHostAtOnce) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Timing t = thresholds(3, 2);
  state.onSuccess(*host, t);
  const Outcome out = state.onFailure(*host, FailureType::Active, false, t);
  EXPECT_EQ(host->healthFlags(), kFailedActiveHc);
  EXPECT_EQ(out.transition, Transition::Changed);
  EXPECT_TRUE(out.ejected);
  EXPECT_FALSE(out.first_check);
}

TEST(HostCheckState, PassiveFailureFailsAtOnce) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Timing t = thresholds(5, 1);
  state.onSuccess(*host, t);
  EXPECT_TRUE(state.onFailure(*host, FailureType::Passive, false, t).ejected);
  EXPECT_EQ(host->healthFlags(), kFailedActiveHc);
}

TEST(HostCheckState, NetworkFailuresCountUpToUnhealthyThreshold) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Timing t = thresholds(3, 1);
  state.onSuccess(*host, t);
  EXPECT_EQ(state.onFailure(*host, FailureType::Network, false, t).transition, Transition::ChangePending);
  EXPECT_EQ(state.onFailure(*host, FailureType::NetworkTimeout, false, t).transition, Transition::ChangePending);
  EXPECT_EQ(host->healthFlags(), 0u);
  const Outcome third = state.onFailure(*host, FailureType::Network, false, t);
  EXPECT_EQ(third.transition, Transition::Changed);
  EXPECT_EQ(host->healthFlags(), kFailedActiveHc);
  // Failing further changes nothing.
  EXPECT_EQ(state.onFailure(*host, FailureType::Network, false, t).transition, Transition::Unchanged);
}

TEST(HostCheckState, ASuccessResetsTheFailureCount) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Timing t = thresholds(2, 1);
  state.onSuccess(*host, t);
  state.onFailure(*host, FailureType::Network, false, t);
  state.onSuccess(*host, t);
  EXPECT_EQ(state.onFailure(*host, FailureType::Network, false, t).transition, Transition::ChangePending);
  EXPECT_EQ(host->healthFlags(), 0u);
}

TEST(HostCheckState, RetriableStatusesCountUpToUnhealthyThreshold) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Timing t = thresholds(2, 1);
  state.onSuccess(*host, t);
  EXPECT_EQ(state.onFailure(*host, FailureType::Active, true, t).transition, Transition::ChangePending);
  EXPECT_EQ(state.onFailure(*host, FailureType::Active, true, t).transition, Transition::Changed);
}

TEST(HostCheckState, AFailedHostNeedsHealthyThresholdPassesInARow) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Timing t = thresholds(1, 3);
  state.onFailure(*host, FailureType::Network, false, t);  // first check fails: stays failed
  EXPECT_EQ(host->healthFlags(), kFailedActiveHc);
  EXPECT_EQ(state.onSuccess(*host, t).transition, Transition::ChangePending);
  EXPECT_EQ(state.onSuccess(*host, t).transition, Transition::ChangePending);
  state.onFailure(*host, FailureType::Network, false, t);  // resets the count
  EXPECT_EQ(state.onSuccess(*host, t).transition, Transition::ChangePending);
  EXPECT_EQ(state.onSuccess(*host, t).transition, Transition::ChangePending);
  const Outcome third = state.onSuccess(*host, t);
  EXPECT_EQ(third.transition, Transition::Changed);
  EXPECT_TRUE(third.added_healthy);
  EXPECT_FALSE(third.first_check);
  EXPECT_EQ(host->healthFlags(), 0u);
}

TEST(HostCheckState, ATimeoutOfAFailedHostSetsActiveHcTimeoutUntilAnotherFailure) {
  const auto host = uncheckedHost();
  HostCheckState state;
  const Timing t = thresholds(1, 2);
  state.onFailure(*host, FailureType::NetworkTimeout, false, t);
  EXPECT_EQ(host->healthFlags(), kFailedActiveHc | kActiveHcTimeout);
  EXPECT_EQ(healthFlagsString(host->healthFlags()), "/failed_active_hc/active_hc_timeout");
  state.onFailure(*host, FailureType::Active, false, t);
  EXPECT_EQ(host->healthFlags(), kFailedActiveHc);
}

TEST(HostCheckState, PassingClearsTheImmediateFailExclusionAndTheTimeout) {
  const auto host = uncheckedHost();
  host->setHealthFlag(kExcludedViaImmediateHcFail | kActiveHcTimeout, true);
  HostCheckState state;
  state.onSuccess(*host, thresholds(1, 1));
  EXPECT_EQ(host->healthFlags(), 0u);
}

TEST(HostCheckState, EdsFlagsAreLeftAlone) {
  const auto host = uncheckedHost();
  host->setHealthFlag(kDegradedEdsHealth, true);
  HostCheckState state;
  state.onSuccess(*host, thresholds(1, 1));
  EXPECT_EQ(host->healthFlags(), kDegradedEdsHealth);
  state.onFailure(*host, FailureType::Active, false, thresholds(1, 1));
  EXPECT_EQ(host->healthFlags(), kDegradedEdsHealth | kFailedActiveHc);
}

Timing distinctIntervals() {
  Timing t;
  t.interval = Millis(100);
  t.unhealthy_interval = Millis(200);
  t.unhealthy_edge_interval = Millis(300);
  t.healthy_edge_interval = Millis(400);
  t.no_traffic_interval = Millis(500);
  t.no_traffic_healthy_interval = Millis(600);
  return t;
}

TEST(NextInterval, ChoosesEnvoysIntervalForEachCase) {
  const Timing t = distinctIntervals();
  FastRandom random(1);
  EXPECT_EQ(nextInterval(t, true, Transition::Unchanged, true, random), Millis(100));
  EXPECT_EQ(nextInterval(t, true, Transition::Changed, true, random), Millis(100));
  EXPECT_EQ(nextInterval(t, true, Transition::ChangePending, true, random), Millis(400));
  EXPECT_EQ(nextInterval(t, false, Transition::Unchanged, true, random), Millis(200));
  EXPECT_EQ(nextInterval(t, false, Transition::Changed, true, random), Millis(200));
  EXPECT_EQ(nextInterval(t, false, Transition::ChangePending, true, random), Millis(300));
  // No traffic yet: the slow intervals.
  EXPECT_EQ(nextInterval(t, true, Transition::Unchanged, false, random), Millis(600));
  EXPECT_EQ(nextInterval(t, true, Transition::ChangePending, false, random), Millis(500));
  EXPECT_EQ(nextInterval(t, false, Transition::Unchanged, false, random), Millis(500));
}

TEST(NextInterval, JitterStaysWithinItsBoundsAndVaries) {
  Timing t;
  t.interval_jitter = Millis(30);
  t.interval_jitter_percent = 20;  // of 1000: up to 200
  FastRandom random(7);
  Millis low = Millis::max(), high = Millis::min();
  for (int i = 0; i < 2000; ++i) {
    const Millis m = withJitter(Millis(1000), t, random);
    low = std::min(low, m);
    high = std::max(high, m);
  }
  EXPECT_GE(low, Millis(1000));
  EXPECT_LT(high, Millis(1000 + 200 + 30));
  EXPECT_GT(high, Millis(1150));  // it does spread
}

TEST(NextInterval, NeverZero) {
  Timing t;
  FastRandom random(3);
  EXPECT_EQ(withJitter(Millis(0), t, random), Millis(1));
}

TEST(InitialDelay, IsZeroWithoutInitialJitterAndBoundedWithIt) {
  Timing t;
  FastRandom random(5);
  EXPECT_EQ(initialDelay(t, random), Millis(0));
  t.initial_jitter = Millis(50);
  for (int i = 0; i < 500; ++i) EXPECT_LT(initialDelay(t, random), Millis(50));
}

TEST(PayloadsMatch, FindsEveryPayloadInOrder) {
  EXPECT_TRUE(payloadsMatch({}, ""));
  EXPECT_TRUE(payloadsMatch({"OK"}, "xxOKyy"));
  EXPECT_TRUE(payloadsMatch({"A", "B"}, "..A..B.."));
  EXPECT_FALSE(payloadsMatch({"B", "A"}, "..A..B.."));
  EXPECT_FALSE(payloadsMatch({"OK"}, "O"));
}

}  // namespace
}  // namespace sluice::upstream::health
