// TcpTransport: reads return bytes (or why there are none), writes send all,
// waits end on cancel, and a reset is told from a clean close. Real sockets on
// 127.0.0.1, port 0.
#include "network/tcp_transport.h"

#include <gtest/gtest.h>

#include "support/run_awaitable.h"

#include <array>
#include <memory>
#include <optional>
#include <string>

namespace sluice::network {
namespace {

class TcpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Tcp::acceptor acceptor(io_, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    peer_.connect(acceptor.local_endpoint());
    transport_ = std::make_unique<TcpTransport>(acceptor.accept());
  }

  // Runs `op` to completion on the test's io_context.
  template <typename T>
  T run(asio::awaitable<T> op) {
    return test::runAwaitable(io_, std::move(op));
  }

  std::string peerReads(size_t n) {
    std::string got(n, '\0');
    asio::read(peer_, asio::buffer(got));
    return got;
  }

  asio::io_context io_;
  Tcp::socket peer_{io_};
  std::unique_ptr<TcpTransport> transport_;
  IoBuffer buffer_{64};
};

TEST_F(TcpTransportTest, ReadWaitsForThePeerAndReturnsItsBytes) {
  asio::write(peer_, asio::buffer("hello", 5));
  EXPECT_EQ(run(transport_->read(buffer_, SIZE_MAX)), ReadStatus::Data);
  EXPECT_EQ(buffer_.readable(), "hello");
}

TEST_F(TcpTransportTest, TryReadWithNothingSentWouldBlockAndLeavesTheBuffer) {
  EXPECT_EQ(transport_->tryRead(buffer_, SIZE_MAX), ReadStatus::WouldBlock);
  EXPECT_TRUE(buffer_.empty());
}

TEST_F(TcpTransportTest, TryReadTakesAtMostTheLimit) {
  asio::write(peer_, asio::buffer("abcdef", 6));
  ASSERT_EQ(run(transport_->read(buffer_, 2)), ReadStatus::Data);
  EXPECT_EQ(buffer_.readable(), "ab");
  ASSERT_EQ(transport_->tryRead(buffer_, SIZE_MAX), ReadStatus::Data);
  EXPECT_EQ(buffer_.readable(), "abcdef");
}

TEST_F(TcpTransportTest, APeerFinIsClosedAndAResetIsFailed) {
  peer_.shutdown(Tcp::socket::shutdown_send);
  EXPECT_EQ(run(transport_->read(buffer_, SIZE_MAX)), ReadStatus::Closed);

  IoBuffer other(64);
  Tcp::acceptor acceptor(io_, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Tcp::socket reset_peer(io_);
  reset_peer.connect(acceptor.local_endpoint());
  TcpTransport reset(acceptor.accept());
  reset_peer.set_option(asio::socket_base::linger(true, 0));
  reset_peer.close();
  EXPECT_EQ(run(reset.read(other, SIZE_MAX)), ReadStatus::Failed);
}

TEST_F(TcpTransportTest, CancelEndsAPendingWaitWithAnErrorAndTheTransportStaysUsable) {
  std::error_code waited;
  bool called = false;
  transport_->waitReadable([&](const std::error_code& ec) {
    waited = ec;
    called = true;
  });
  asio::post(io_, [&] { transport_->cancel(); });
  io_.run();
  ASSERT_TRUE(called);
  EXPECT_EQ(waited, asio::error::operation_aborted);
  EXPECT_TRUE(transport_->isOpen());
  asio::write(peer_, asio::buffer("x", 1));
  EXPECT_EQ(run(transport_->read(buffer_, SIZE_MAX)), ReadStatus::Data);
}

TEST_F(TcpTransportTest, WaitReadableCompletesWhenBytesArrive) {
  bool called = false;
  transport_->waitReadable([&](const std::error_code& ec) { called = !ec; });
  asio::write(peer_, asio::buffer("x", 1));
  io_.run();
  EXPECT_TRUE(called);
  EXPECT_EQ(transport_->tryRead(buffer_, SIZE_MAX), ReadStatus::Data);
}

TEST_F(TcpTransportTest, WriteAndWritevSendEveryByteInOrder) {
  const auto [ec, n] = run(transport_->write("head "));
  EXPECT_FALSE(ec);
  EXPECT_EQ(n, 5u);
  const std::array<asio::const_buffer, 3> parts = {asio::buffer("a", 1), asio::buffer("bc", 2),
                                                   asio::buffer("\r\n", 2)};
  const auto [vec_ec, vec_n] = run(transport_->writev(parts));
  EXPECT_FALSE(vec_ec);
  EXPECT_EQ(vec_n, 5u);
  EXPECT_EQ(peerReads(10), "head abc\r\n");
}

TEST_F(TcpTransportTest, ShutdownSendEndsThePeersReadButKeepsReading) {
  transport_->shutdownSend();
  char byte;
  std::error_code ec;
  peer_.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  asio::write(peer_, asio::buffer("y", 1));
  EXPECT_EQ(run(transport_->read(buffer_, SIZE_MAX)), ReadStatus::Data);
}

TEST_F(TcpTransportTest, AbortResetsThePeer) {
  transport_->abort();
  EXPECT_FALSE(transport_->isOpen());
  char byte;
  std::error_code ec;
  peer_.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::connection_reset);
}

TEST_F(TcpTransportTest, AddressesAreTheConnectionsEnds) {
  EXPECT_EQ(transport_->peerAddress(), peer_.local_endpoint());
  EXPECT_EQ(transport_->localAddress(), peer_.remote_endpoint());
}

TEST_F(TcpTransportTest, ConnectSetsUpAConnectedTransportAndReportsARefusal) {
  Tcp::acceptor acceptor(io_, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  TcpTransport client(io_.get_executor());
  EXPECT_FALSE(run(client.connect(acceptor.local_endpoint())));
  EXPECT_EQ(client.peerAddress(), acceptor.local_endpoint());
  const auto port = acceptor.local_endpoint();
  acceptor.close();
  TcpTransport refused(io_.get_executor());
  EXPECT_EQ(run(refused.connect(port)), asio::error::connection_refused);
}

}  // namespace
}  // namespace sluice::network
