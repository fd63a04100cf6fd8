// SlotTimer: several deadlines on one asio timer. Each due slot is reported
// once, in slot order when due together; a cleared or re-set slot is not
// reported for its old time; the owner may set slots from its callback; a
// timer destroyed with a wait queued reports nothing.
#include "network/slot_timer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "support/run_awaitable.h"

namespace sluice::network {
namespace {

using std::chrono::milliseconds;

struct Owner {
  void onDeadline(size_t slot) {
    fired.push_back(slot);
    if (on_fire) on_fire(slot);
  }
  std::vector<size_t> fired;
  std::function<void(size_t)> on_fire;
};

class SlotTimerTest : public ::testing::Test {
 protected:
  // Runs the loop until `count` deadlines were reported.
  void runUntilFired(size_t count) {
    test::runUntil(io_, [&] { return owner_.fired.size() >= count; });
  }
  asio::io_context io_;
  Owner owner_;
  SlotTimer<Owner, 3> timer_{io_, owner_};
};

TEST_F(SlotTimerTest, EachDueSlotIsReportedOnceAndMarkedExpired) {
  const auto now = std::chrono::steady_clock::now();
  timer_.set(2, now + milliseconds(2));
  timer_.set(0, now + milliseconds(1));
  EXPECT_TRUE(timer_.isSet(0));
  runUntilFired(2);
  EXPECT_EQ(owner_.fired, (std::vector<size_t>{0, 2}));
  EXPECT_TRUE(timer_.expired(0));
  EXPECT_FALSE(timer_.expired(1));
  EXPECT_TRUE(timer_.expired(2));
  EXPECT_FALSE(timer_.isSet(0));
  io_.restart();
  io_.poll();
  EXPECT_EQ(owner_.fired.size(), 2u);  // nothing more
}

TEST_F(SlotTimerTest, AClearedSlotIsNotReportedAndSettingAgainResetsExpired) {
  const auto now = std::chrono::steady_clock::now();
  timer_.set(0, now + milliseconds(1));
  timer_.set(1, now + milliseconds(3));
  timer_.clear(0);
  runUntilFired(1);
  EXPECT_EQ(owner_.fired, std::vector<size_t>{1});
  EXPECT_TRUE(timer_.expired(1));
  timer_.setAfter(1, milliseconds(60'000));
  EXPECT_FALSE(timer_.expired(1));
  timer_.setAfter(1, milliseconds(0));  // zero clears
  EXPECT_FALSE(timer_.isSet(1));
}

TEST_F(SlotTimerTest, ALaterDeadlineForAnArmedSlotIsReportedAtItsNewTime) {
  // The timer stays armed for the old time, wakes, finds nothing due and
  // sleeps until the new one.
  const auto start = std::chrono::steady_clock::now();
  timer_.set(0, start + milliseconds(1));
  timer_.set(0, start + milliseconds(15));
  runUntilFired(1);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(15));
  EXPECT_EQ(owner_.fired, std::vector<size_t>{0});
}

TEST_F(SlotTimerTest, TheOwnerMaySetSlotsFromItsCallback) {
  owner_.on_fire = [this](size_t slot) {
    if (slot == 0) timer_.setAfter(1, milliseconds(1));
  };
  timer_.setAfter(0, milliseconds(1));
  runUntilFired(2);
  EXPECT_EQ(owner_.fired, (std::vector<size_t>{0, 1}));
}

TEST_F(SlotTimerTest, ATimerDestroyedWithAWaitQueuedReportsNothing) {
  Owner owner;
  {
    auto timer = std::make_unique<SlotTimer<Owner, 1>>(io_, owner);
    timer->setAfter(0, milliseconds(1));
  }
  io_.restart();
  io_.run();  // the cancelled wait completes; nothing else is queued
  EXPECT_TRUE(owner.fired.empty());
}

}  // namespace
}  // namespace sluice::network
