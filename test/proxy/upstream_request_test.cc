// UpstreamRequest: the counts it holds while it lives, one attempt against a
// real upstream socket on 127.0.0.1 (send, skip 1xx, read the final head),
// each way an attempt fails as a value, and pooling at the end.
#include "proxy/upstream_request.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/stream.h"
#include "proxy/upstream_pool.h"
#include "support/run_awaitable.h"
#include "upstream/load_balancer_factory.h"

namespace sluice::proxy {
namespace {

using network::Tcp;
using Kind = UpstreamFailure::Kind;

// An upstream that reads each request head and answers with `reply`, then
// closes the connection if `close_after`; an empty reply answers nothing.
struct Backend {
  explicit Backend(asio::io_context& io) : acceptor(io, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
  }
  void accept() {
    acceptor.async_accept([this](const std::error_code& ec, Tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<Tcp::socket>(std::move(socket));
      sockets.push_back(s);
      serve(s, std::make_shared<std::string>());
      accept();
    });
  }
  void serve(std::shared_ptr<Tcp::socket> s, std::shared_ptr<std::string> got) {
    auto chunk = std::make_shared<std::array<char, 4096>>();
    s->async_read_some(asio::buffer(*chunk), [this, s, got, chunk](const std::error_code& ec, size_t n) {
      if (ec) return;
      got->append(chunk->data(), n);
      if (got->find("\r\n\r\n") == std::string::npos) return serve(s, got);
      requests.push_back(*got);
      got->clear();
      if (reply.empty()) return serve(s, got);
      asio::write(*s, asio::buffer(reply));
      if (close_after) {
        s->close();
        return;
      }
      serve(s, got);
    });
  }
  uint16_t port() const { return acceptor.local_endpoint().port(); }
  Tcp::acceptor acceptor;
  std::vector<std::shared_ptr<Tcp::socket>> sockets;
  std::vector<std::string> requests;
  std::string reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  bool close_after = false;
};

// What a connection does for the stream: the stream's timer reports its
// deadlines here, and the route's timeout ends the upstream request.
struct Owner final : StreamOwner, upstream::ExchangeObserver {
  void onStreamDeadline(Stream& stream, size_t slot) override {
    deadlines.push_back(slot);
    if (slot == Stream::kUpstreamResponse && stream.upstream) stream.upstream->onResponseTimeout();
  }
  void onActivity() override {}
  void onResponseBytes() override {}
  void onAwaitingHead() override {}
  std::vector<size_t> deadlines;
};

class UpstreamRequestTest : public ::testing::Test {
 protected:
  UpstreamRequestTest() {
    auto config = std::make_shared<ClusterConfig>();
    config->name = "rq_test";
    config->stats = registry_.cluster("rq_test");
    config_ = config;
    hosts_ = std::make_shared<const upstream::HostSet>(
        std::vector<upstream::HostPtr>{upstream::makeHost("127.0.0.1", backend_.port())});
    cluster_ =
        std::make_shared<ClusterState>(io_.get_executor(),
                                       ClusterUpdate{config_, std::make_shared<const upstream::LoadBalancerFactory>(
                                                                  config_->lb_policy, hosts_, config_->lb_config)},
                                       1);
    stream_.request.method = "GET";
    stream_.request.target = "/";
    stream_.request.version_minor = 1;
    stream_.request.headers.add("host", "example");
  }

  const upstream::HostPtr& host() const { return hosts_->hosts()[0]; }
  UpstreamRequest& start() { return stream_.upstream.emplace(cluster_, host()); }

  UpstreamFailure attempt(bool may_replay = false, std::chrono::milliseconds timeout = {}) {
    const UpstreamRequest::Send send{io_view_, limits_, nullptr, timeout, may_replay};
    std::optional<UpstreamFailure> result;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { result = co_await stream_.upstream->attempt(stream_, send); },
        asio::detached);
    runUntil([&] { return result.has_value(); });
    return result.value_or(UpstreamFailure{});
  }

  void runUntil(const std::function<bool()>& done) { test::runUntil(io_, done); }

  stats::Store store_{1};
  StatsRegistry registry_{store_};
  asio::io_context io_;
  Backend backend_{io_};
  std::shared_ptr<const ClusterConfig> config_;
  upstream::HostSetPtr hosts_;
  std::shared_ptr<ClusterState> cluster_;
  Owner owner_;
  Stream stream_{io_, owner_};
  network::BufferPool buffers_;
  std::string scratch_;
  upstream::ExchangeIo io_view_{buffers_, owner_, scratch_};
  http::http1::Limits limits_;
};

TEST_F(UpstreamRequestTest, HoldsTheHostAndClusterCountsWhileItLivesAndChargesTheStatusAtItsEnd) {
  const auto& stats = *config_->stats;
  {
    auto& request = start();
    EXPECT_EQ(host()->active_requests.load(), 1u);
    EXPECT_EQ(host()->stats->rq_active.load(), 1u);
    EXPECT_EQ(stats.upstream_rq_active.value(), 1u);
    request.setStatus(204);
    stream_.upstream.reset();
  }
  EXPECT_EQ(host()->active_requests.load(), 0u);
  EXPECT_EQ(host()->stats->rq_active.load(), 0u);
  EXPECT_EQ(stats.upstream_rq_active.value(), 0u);
  EXPECT_EQ(host()->stats->rq_success.load(), 1u);
  EXPECT_EQ(host()->stats->rq_error.load(), 0u);

  start().setStatus(503);
  stream_.upstream.reset();
  start();  // no response at all counts as an error too
  stream_.upstream.reset();
  EXPECT_EQ(host()->stats->rq_success.load(), 1u);
  EXPECT_EQ(host()->stats->rq_error.load(), 2u);
}

TEST_F(UpstreamRequestTest, AnAttemptSendsTheHeadSkipsInterimResponsesAndReadsTheFinalHead) {
  backend_.reply = "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  auto& request = start();
  const auto failure = attempt();
  EXPECT_FALSE(failure) << static_cast<int>(failure.kind);
  EXPECT_EQ(stream_.response.status, 200);
  ASSERT_EQ(backend_.requests.size(), 1u);
  EXPECT_EQ(backend_.requests[0].rfind("GET / HTTP/1.1\r\n", 0), 0u) << backend_.requests[0];
  EXPECT_EQ(std::string(request.buffer().readable()), "ok");  // the body, left for the pump
  EXPECT_EQ(config_->stats->upstream_rq_total.value(), 1u);
  EXPECT_EQ(host()->stats->rq_total.load(), 1u);
  ASSERT_NE(request.connection(), nullptr);
  EXPECT_EQ(stream_.info.upstream_local, request.connection()->local);
}

TEST_F(UpstreamRequestTest, NoConnectionIsAConnectFailureValueWithTheErrno) {
  uint16_t closed_port = 0;
  {
    Tcp::acceptor probe(io_, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  hosts_ = std::make_shared<const upstream::HostSet>(
      std::vector<upstream::HostPtr>{upstream::makeHost("127.0.0.1", closed_port)});
  start();
  const auto failure = attempt(true);
  EXPECT_EQ(failure.kind, Kind::ConnectFailure);
  EXPECT_FALSE(failure.retryable);
  EXPECT_EQ(failure.response_flag, kUpstreamConnectionFailure);
  EXPECT_EQ(stream_.info.upstream_connect_errno, ECONNREFUSED);
}

TEST_F(UpstreamRequestTest, AResponseThatDoesNotParseIsAProtocolErrorAndClosesTheConnection) {
  backend_.reply = "HTTP/1.1 2OO OK\r\n\r\n";
  auto& request = start();
  const auto failure = attempt(true);
  EXPECT_EQ(failure.kind, Kind::ProtocolError);
  EXPECT_FALSE(failure.retryable);
  EXPECT_EQ(failure.response_flag, kUpstreamProtocolError);
  ASSERT_NE(request.connection(), nullptr);
  EXPECT_FALSE(request.connection()->transport->isOpen());
}

TEST_F(UpstreamRequestTest, ACloseOnAReusedConnectionBeforeAnyByteIsRetryableOnlyForAReplayableRequest) {
  // A first exchange leaves the connection pooled; the upstream then closes it.
  start();
  ASSERT_FALSE(attempt());
  stream_.upstream->buffer().consume(2);
  stream_.upstream->finish(true, buffers_);
  stream_.upstream.reset();
  ASSERT_EQ(cluster_->pool.idleCount(), 1u);
  backend_.sockets.at(0)->close();

  start();
  auto failure = attempt(/*may_replay=*/true);
  EXPECT_EQ(failure.kind, Kind::ConnectionTermination);
  EXPECT_TRUE(failure.retryable);
  EXPECT_EQ(failure.response_flag, kUpstreamConnectionTermination);
  // The retry goes out on a new connection and succeeds.
  EXPECT_FALSE(attempt(true));
  EXPECT_FALSE(stream_.upstream->connection()->reused);
  stream_.upstream->buffer().consume(2);
  stream_.upstream->finish(true, buffers_);
  stream_.upstream.reset();

  backend_.sockets.at(1)->close();
  start();
  failure = attempt(/*may_replay=*/false);
  EXPECT_EQ(failure.kind, Kind::ConnectionTermination);
  EXPECT_FALSE(failure.retryable);
}

TEST_F(UpstreamRequestTest, TheRouteTimeoutEndsTheAttemptAsAResponseTimeoutAndCountsIt) {
  backend_.reply.clear();  // never answers
  auto& request = start();
  const auto failure = attempt(false, std::chrono::milliseconds(20));
  EXPECT_EQ(failure.kind, Kind::ResponseTimeout);
  EXPECT_EQ(failure.response_flag, kUpstreamRequestTimeout);
  EXPECT_TRUE(request.timedOut());
  EXPECT_EQ(owner_.deadlines, std::vector<size_t>{Stream::kUpstreamResponse});
  EXPECT_EQ(config_->stats->upstream_rq_timeout.value(), 1u);
  EXPECT_EQ(host()->stats->rq_timeout.load(), 1u);
}

TEST_F(UpstreamRequestTest, FinishPoolsACleanConnectionButNotOneWithBytesNobodyAskedFor) {
  start();
  ASSERT_FALSE(attempt());
  stream_.upstream->buffer().consume(2);
  stream_.upstream->finish(true, buffers_);
  EXPECT_EQ(cluster_->pool.idleCount(), 1u);
  EXPECT_EQ(stream_.upstream->connection(), nullptr);
  stream_.upstream.reset();

  backend_.reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA";
  start();
  ASSERT_FALSE(attempt());
  EXPECT_TRUE(stream_.upstream->connection()->reused);
  stream_.upstream->buffer().consume(2);  // "EXTRA" stays
  stream_.upstream->finish(true, buffers_);
  EXPECT_EQ(cluster_->pool.idleCount(), 0u);
}

}  // namespace
}  // namespace sluice::proxy
