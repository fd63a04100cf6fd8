#include "config/xds/token_bucket.h"

#include <gtest/gtest.h>

namespace sluice::config::xds {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucketTest, StartsFullAndEmptiesOneTokenAtATime) {
  const auto t0 = TokenBucket::Clock::time_point{};
  TokenBucket bucket(3, 1.0, t0);
  EXPECT_TRUE(bucket.consume(t0));
  EXPECT_TRUE(bucket.consume(t0));
  EXPECT_TRUE(bucket.consume(t0));
  EXPECT_FALSE(bucket.consume(t0));
}

TEST(TokenBucketTest, RefillsAtTheFillRateUpToTheMaximum) {
  const auto t0 = TokenBucket::Clock::time_point{};
  TokenBucket bucket(2, 10.0, t0);  // a token every 100 ms
  EXPECT_TRUE(bucket.consume(t0));
  EXPECT_TRUE(bucket.consume(t0));
  EXPECT_FALSE(bucket.consume(t0 + 50ms));
  EXPECT_GT(bucket.untilNext(t0 + 50ms), 49ms);
  EXPECT_LE(bucket.untilNext(t0 + 50ms), 51ms);
  EXPECT_TRUE(bucket.consume(t0 + 100ms));
  EXPECT_FALSE(bucket.consume(t0 + 100ms));
  // A long pause refills to the maximum, no further.
  EXPECT_TRUE(bucket.consume(t0 + 10s));
  EXPECT_TRUE(bucket.consume(t0 + 10s));
  EXPECT_FALSE(bucket.consume(t0 + 10s));
}

TEST(TokenBucketTest, UntilNextIsZeroWhileATokenIsThere) {
  const auto t0 = TokenBucket::Clock::time_point{};
  TokenBucket bucket(1, 1.0, t0);
  EXPECT_EQ(bucket.untilNext(t0), 0ns);
  EXPECT_TRUE(bucket.consume(t0));
  EXPECT_GT(bucket.untilNext(t0), 999ms);
}

}  // namespace
}  // namespace sluice::config::xds
