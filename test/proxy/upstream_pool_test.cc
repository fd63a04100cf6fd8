// UpstreamPool: per host, LIFO reuse of released connections; closes at
// max_requests_per_connection, after the idle timeout, when the peer closes an
// idle one, and for hosts an update removed. Real sockets on 127.0.0.1.
#include "proxy/upstream_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/proxy_stats.h"
#include "support/run_awaitable.h"

namespace sluice::proxy {
namespace {

using network::Tcp;

// A host that accepts connections and keeps them, so the test can close them.
struct Backend {
  explicit Backend(asio::io_context& io) : acceptor(io, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
  }
  void accept() {
    acceptor.async_accept([this](const std::error_code& ec, Tcp::socket socket) {
      if (ec) return;
      accepted.push_back(std::move(socket));
      accept();
    });
  }
  uint16_t port() const { return acceptor.local_endpoint().port(); }
  Tcp::acceptor acceptor;
  std::vector<Tcp::socket> accepted;
};

class UpstreamPoolTest : public ::testing::Test {
 protected:
  UpstreamPoolTest() {
    auto config = std::make_shared<ClusterConfig>();
    config->name = "pool_test";
    config->stats = registry_.cluster("pool_test");
    config_ = config;
  }

  std::shared_ptr<ClusterConfig> configure() {
    auto c = std::make_shared<ClusterConfig>(*config_);
    config_ = c;
    return c;
  }
  UpstreamPool& pool() {
    if (!pool_) pool_ = std::make_unique<UpstreamPool>(io_.get_executor(), config_);
    return *pool_;
  }

  UpstreamPool::Acquired acquire(const upstream::HostPtr& host) {
    std::optional<UpstreamPool::Acquired> result;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { result = co_await pool().acquire(host); }, asio::detached);
    runUntil([&] { return result.has_value(); });
    return std::move(*result);
  }

  void runUntil(const std::function<bool()>& done) { test::runUntil(io_, done); }

  stats::Store store_{1};
  StatsRegistry registry_{store_};
  asio::io_context io_;
  Backend backend_{io_};
  upstream::HostPtr host_ = upstream::makeHost("127.0.0.1", backend_.port());
  std::shared_ptr<const ClusterConfig> config_;
  std::unique_ptr<UpstreamPool> pool_;
};

TEST_F(UpstreamPoolTest, AcquireConnectsANewConnectionAndCountsIt) {
  const uint64_t before = config_->stats->upstream_cx_total.value();
  auto acquired = acquire(host_);
  ASSERT_TRUE(acquired.connection) << acquired.error.message();
  EXPECT_FALSE(acquired.connection->reused);
  EXPECT_TRUE(acquired.connection->transport->isOpen());
  EXPECT_EQ(acquired.connection->local, acquired.connection->transport->localAddress());
  EXPECT_EQ(config_->stats->upstream_cx_total.value(), before + 1);
  runUntil([&] { return backend_.accepted.size() == 1; });
}

TEST_F(UpstreamPoolTest, AReleasedConnectionIsReusedForTheSameHostOnly) {
  auto first = acquire(host_);
  ASSERT_TRUE(first.connection);
  UpstreamConnection* const raw = first.connection.get();
  pool().release(std::move(first.connection));
  EXPECT_EQ(pool().idleCount(), 1u);

  Backend other_backend(io_);
  auto other = acquire(upstream::makeHost("127.0.0.1", other_backend.port()));
  ASSERT_TRUE(other.connection);
  EXPECT_FALSE(other.connection->reused);
  EXPECT_EQ(pool().idleCount(), 1u);

  auto again = acquire(host_);
  EXPECT_EQ(again.connection.get(), raw);
  EXPECT_TRUE(again.connection->reused);
  EXPECT_EQ(pool().idleCount(), 0u);
}

TEST_F(UpstreamPoolTest, ReuseIsLastInFirstOut) {
  auto a = acquire(host_);
  auto b = acquire(host_);
  UpstreamConnection* const later = b.connection.get();
  pool().release(std::move(a.connection));
  pool().release(std::move(b.connection));
  EXPECT_EQ(acquire(host_).connection.get(), later);
}

TEST_F(UpstreamPoolTest, AConnectionAtMaxRequestsPerConnectionIsClosedOnRelease) {
  configure()->max_requests_per_connection = 2;
  auto acquired = acquire(host_);
  acquired.connection->requests = 1;
  pool().release(std::move(acquired.connection));
  EXPECT_EQ(pool().idleCount(), 1u);
  acquired = acquire(host_);
  acquired.connection->requests = 2;
  pool().release(std::move(acquired.connection));
  EXPECT_EQ(pool().idleCount(), 0u);
  EXPECT_FALSE(acquire(host_).connection->reused);
}

TEST_F(UpstreamPoolTest, AClosedConnectionIsNotPooled) {
  auto acquired = acquire(host_);
  acquired.connection->transport->close();
  pool().release(std::move(acquired.connection));
  EXPECT_EQ(pool().idleCount(), 0u);
}

TEST_F(UpstreamPoolTest, RetainOnlyClosesIdleConnectionsOfRemovedHosts) {
  Backend other_backend(io_);
  const auto other = upstream::makeHost("127.0.0.1", other_backend.port());
  pool().release(acquire(host_).connection);
  pool().release(acquire(other).connection);
  ASSERT_EQ(pool().idleCount(), 2u);
  pool().retainOnly(upstream::HostSet({other}));
  EXPECT_EQ(pool().idleCount(), 1u);
  EXPECT_TRUE(acquire(other).connection->reused);
  EXPECT_FALSE(acquire(host_).connection->reused);
}

TEST_F(UpstreamPoolTest, AnIdleConnectionThePeerClosesIsDropped) {
  pool().release(acquire(host_).connection);
  runUntil([&] { return backend_.accepted.size() == 1; });
  backend_.accepted[0].close();
  // Watched once idle for kWatchAfter; its readability (the FIN) drops it.
  runUntil([&] { return pool().idleCount() == 0; });
  EXPECT_FALSE(acquire(host_).connection->reused);
}

TEST_F(UpstreamPoolTest, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  configure()->idle_timeout = std::chrono::milliseconds(20);
  auto acquired = acquire(host_);
  pool().release(std::move(acquired.connection));
  ASSERT_EQ(pool().idleCount(), 1u);
  runUntil([&] { return pool().idleCount() == 0; });
  // The backend sees the close.
  runUntil([&] { return backend_.accepted.size() == 1; });
  char byte;
  std::error_code ec;
  backend_.accepted[0].read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST_F(UpstreamPoolTest, AConnectFailureIsAnErrorAndCounted) {
  const uint16_t port = backend_.port();
  backend_.acceptor.close();
  const uint64_t before = config_->stats->upstream_cx_connect_fail.value();
  auto acquired = acquire(upstream::makeHost("127.0.0.1", port));
  EXPECT_FALSE(acquired.connection);
  EXPECT_FALSE(acquired.timed_out);
  EXPECT_EQ(acquired.error, asio::error::connection_refused);
  EXPECT_EQ(config_->stats->upstream_cx_connect_fail.value(), before + 1);
}

TEST_F(UpstreamPoolTest, AfterCloseReleasedConnectionsAreClosed) {
  auto acquired = acquire(host_);
  pool().release(acquire(host_).connection);
  pool().close();
  EXPECT_EQ(pool().idleCount(), 0u);
  pool().release(std::move(acquired.connection));
  EXPECT_EQ(pool().idleCount(), 0u);
}

}  // namespace
}  // namespace sluice::proxy
