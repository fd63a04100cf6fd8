// The circuit breakers' counts: a limit is never exceeded, a refused take
// leaves the count as it was, the open gauge follows the limit and the
// remaining gauge what is left (track_remaining).
#include "proxy/circuit_breakers.h"

#include <gtest/gtest.h>

namespace sluice::proxy {
namespace {

TEST(CircuitBreakers, RefusesAtTheLimitAndReopensBelowIt) {
  stats::Store store(1);
  auto& open = store.gauge("open");
  BreakerResource resource(open);
  BreakerLimits limits;
  limits.max_requests = 2;
  auto first = tryHold(resource, limits, limits.max_requests);
  EXPECT_TRUE(first);
  EXPECT_EQ(open.value(), 0);
  auto second = tryHold(resource, limits, limits.max_requests);
  EXPECT_TRUE(second);
  EXPECT_EQ(open.value(), 1);
  EXPECT_FALSE(tryHold(resource, limits, limits.max_requests));
  EXPECT_EQ(resource.count(), 2u);
  second = BreakerHold();  // given back
  EXPECT_EQ(open.value(), 0);
  EXPECT_EQ(resource.count(), 1u);
  EXPECT_TRUE(tryHold(resource, limits, limits.max_requests));  // taken and given back at once
  EXPECT_EQ(resource.count(), 1u);
}

TEST(CircuitBreakers, ZeroRefusesEverything) {
  stats::Store store(1);
  BreakerResource resource(store.gauge("open"));
  EXPECT_FALSE(tryHold(resource, BreakerLimits{}, 0));
  EXPECT_EQ(resource.count(), 0u);
}

TEST(CircuitBreakers, TrackRemainingShowsWhatIsLeft) {
  stats::Store store(1);
  BreakerResource resource(store.gauge("open"));
  auto& remaining = store.gauge("remaining");
  resource.setRemainingGauge(remaining);
  BreakerLimits limits;
  limits.track_remaining = true;
  {
    auto hold = tryHold(resource, limits, 3);
    EXPECT_EQ(remaining.value(), 2);
    auto more = tryHold(resource, limits, 3);
    EXPECT_EQ(remaining.value(), 1);
  }
  EXPECT_EQ(remaining.value(), 3);
}

TEST(CircuitBreakers, AMovedHoldGivesBackOnce) {
  stats::Store store(1);
  BreakerResource resource(store.gauge("open"));
  {
    BreakerHold a = tryHold(resource, BreakerLimits{}, 10);
    BreakerHold b = std::move(a);
    EXPECT_EQ(resource.count(), 1u);
  }
  EXPECT_EQ(resource.count(), 0u);
}

}  // namespace
}  // namespace sluice::proxy
