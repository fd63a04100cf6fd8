#include "network/accept_backoff.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "network/asio_util.h"

namespace sluice::network {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(AcceptBackoff, DoublesFrom10msUpTo1sAndStartsAgainAfterReset) {
  AcceptBackoff backoff;
  EXPECT_FALSE(backoff.active());
  std::vector<int64_t> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(backoff.next().count());
  EXPECT_EQ(delays, (std::vector<int64_t>{10, 20, 40, 80, 160, 320, 640, 1000, 1000}));
  EXPECT_TRUE(backoff.active());
  backoff.reset();
  EXPECT_FALSE(backoff.active());
  EXPECT_EQ(backoff.next(), milliseconds(10));
}

TEST(AcceptBackoff, OnlyResourceErrorsArePausedFor) {
  for (int e : {EMFILE, ENFILE, ENOBUFS, ENOMEM}) {
    EXPECT_TRUE(isResourceExhaustion(std::error_code(e, std::system_category()))) << e;
  }
  for (int e : {ECONNABORTED, EPERM, EPROTO, EAGAIN}) {
    EXPECT_FALSE(isResourceExhaustion(std::error_code(e, std::system_category()))) << e;
  }
  // What asio's accept hands back.
  EXPECT_TRUE(isResourceExhaustion(asio::error::no_descriptors));
  EXPECT_TRUE(isResourceExhaustion(std::error_code(ENFILE, asio::error::get_system_category())));
  EXPECT_FALSE(isResourceExhaustion(asio::error::connection_aborted));
  EXPECT_FALSE(isResourceExhaustion(asio::error::operation_aborted));
  EXPECT_FALSE(isResourceExhaustion(std::error_code(EMFILE, std::generic_category())));
}

TEST(ExhaustionEpisodes, AnEpisodeStartsOnlyAfterTenQuietSeconds) {
  ExhaustionEpisodes episodes;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(episodes.failureStartsEpisode(t0));
  // Failures closer than 10 s apart belong to the same episode, however long it lasts.
  for (int i = 1; i <= 30; ++i) EXPECT_FALSE(episodes.failureStartsEpisode(t0 + seconds(5 * i)));
  EXPECT_TRUE(episodes.failureStartsEpisode(t0 + seconds(150) + seconds(11)));
  // A failure stamped earlier than the last one (another worker's clock read) starts nothing.
  EXPECT_FALSE(episodes.failureStartsEpisode(t0));
}

TEST(ConnectionWaiting, IsTrueOnlyWhileAConnectionIsInTheBacklog) {
  asio::io_context io;
  Tcp::acceptor acceptor(io, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  EXPECT_FALSE(connectionWaiting(acceptor.native_handle()));
  Tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  EXPECT_TRUE(connectionWaiting(acceptor.native_handle()));
  Tcp::socket accepted = acceptor.accept();
  EXPECT_FALSE(connectionWaiting(acceptor.native_handle()));
}

TEST(ReservedDescriptor, HoldsOneDescriptorUntilReleased) {
  ReservedDescriptor spare;
  EXPECT_FALSE(spare.held());
  EXPECT_TRUE(spare.reserve());
  EXPECT_TRUE(spare.held());
  EXPECT_TRUE(spare.reserve());  // already held: still one
  spare.release();
  EXPECT_FALSE(spare.held());
}

TEST(DescribeDescriptorUse, SaysHowManyAreOpenOfTheLimit) {
  const std::string text = describeDescriptorUse(std::error_code(EMFILE, std::system_category()));
  EXPECT_NE(text.find(" of "), std::string::npos) << text;
  EXPECT_NE(text.find("descriptors open (RLIMIT_NOFILE)"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::network
