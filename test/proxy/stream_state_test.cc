// StreamState: the phases of the one stream an HTTP/1 connection carries, and
// what the connection reads from them (idle for drains, started for the
// stream timeouts, tunnelling for the tunnel's idle timeout).
#include "proxy/stream_state.h"

#include <gtest/gtest.h>

namespace sluice::proxy {
namespace {

using Phase = StreamState::Phase;

TEST(StreamState, ANewConnectionHasNoStreamAndIsNotYetIdle) {
  StreamState s;
  EXPECT_EQ(s.phase(), Phase::None);
  EXPECT_FALSE(s.idle());
  EXPECT_FALSE(s.started());
  EXPECT_FALSE(s.tunnelling());
}

TEST(StreamState, WaitingWithNothingBufferedIsIdleUntilTheFirstByte) {
  StreamState s;
  s.waitingWithNothingBuffered();
  EXPECT_TRUE(s.idle());
  EXPECT_FALSE(s.started());
  s.firstByte();
  EXPECT_EQ(s.phase(), Phase::ReadingHead);
  EXPECT_FALSE(s.idle());
  EXPECT_TRUE(s.started());
}

TEST(StreamState, AStartedStreamIsNeverIdleWhileItsHeadIsRead) {
  StreamState s;
  s.firstByte();
  s.waitingWithNothingBuffered();  // the head's bytes are buffered: no change
  EXPECT_EQ(s.phase(), Phase::ReadingHead);
  EXPECT_FALSE(s.idle());
}

TEST(StreamState, ARequestRunsFromFirstByteThroughActiveToEnd) {
  StreamState s;
  s.firstByte();
  s.headComplete();
  EXPECT_EQ(s.phase(), Phase::Active);
  EXPECT_TRUE(s.started());
  EXPECT_FALSE(s.idle());
  s.end();
  EXPECT_EQ(s.phase(), Phase::None);
  EXPECT_FALSE(s.started());
  // A pipelined next request starts without an idle phase.
  s.firstByte();
  EXPECT_TRUE(s.started());
}

TEST(StreamState, AnUpgradedStreamTunnelsUntilBothSidesEnd) {
  StreamState s;
  s.firstByte();
  s.headComplete();
  s.startTunnel();
  EXPECT_TRUE(s.tunnelling());
  EXPECT_TRUE(s.started());
  EXPECT_FALSE(s.idle());
  s.tunnelEnded();
  EXPECT_FALSE(s.tunnelling());
  EXPECT_EQ(s.phase(), Phase::Active);
  s.end();
  EXPECT_EQ(s.phase(), Phase::None);
}

#ifndef NDEBUG
TEST(StreamStateDeathTest, TransitionsOutOfOrderAssert) {
  EXPECT_DEATH(StreamState().headComplete(), "");
  EXPECT_DEATH(StreamState().startTunnel(), "");
  StreamState reading;
  reading.firstByte();
  EXPECT_DEATH(reading.firstByte(), "");
}
#endif

}  // namespace
}  // namespace sluice::proxy
