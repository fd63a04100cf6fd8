// runtime::Snapshot: the immutable values the request path reads.
#include "runtime/runtime.h"

#include <gtest/gtest.h>

namespace sluice::runtime {
namespace {

TEST(Snapshot, GetsTextAndIntegers) {
  const Snapshot s({{"a", "12"}, {"b", "x"}, {"c", ""}});
  EXPECT_EQ(s.get("b"), "x");
  EXPECT_EQ(s.get("missing"), std::nullopt);
  EXPECT_EQ(s.getInteger("a", 7), 12u);
  EXPECT_EQ(s.getInteger("b", 7), 7u) << "not a number: the fallback";
  EXPECT_EQ(s.getInteger("c", 7), 7u);
  EXPECT_EQ(s.getInteger("missing", 7), 7u);
}

TEST(Snapshot, FeatureEnabledComparesThePercentWithTheRandomNumber) {
  const Snapshot s({{"on", "100"}, {"off", "0"}, {"half", "50"}});
  for (uint64_t r = 0; r < 200; ++r) {
    EXPECT_TRUE(s.featureEnabled("on", 0, r));
    EXPECT_FALSE(s.featureEnabled("off", 100, r));
    EXPECT_EQ(s.featureEnabled("half", 0, r), r % 100 < 50);
    EXPECT_EQ(s.featureEnabled("absent", 30, r), r % 100 < 30) << "the default percent";
  }
}

}  // namespace
}  // namespace sluice::runtime
