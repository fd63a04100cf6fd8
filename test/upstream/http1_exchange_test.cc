// Http1ClientExchange: the client side of one HTTP/1.1 exchange against a
// scripted peer on 127.0.0.1 — interim responses dropped, the final head read,
// an early answer stops the body, bodies pumped (and re-chunked) to a sink.
#include "upstream/http1_exchange.h"

#include <gtest/gtest.h>

#include "support/run_awaitable.h"

#include <memory>
#include <optional>
#include <string>

#include "network/tcp_transport.h"

namespace sluice::upstream {
namespace {

using network::Tcp;
using network::TcpTransport;
using Head = Http1ClientExchange::HeadResult;
using Body = Http1ClientExchange::BodyResult;

// A connected pair: `transport` (ours) and `peer` (a plain blocking socket).
struct Pair {
  explicit Pair(asio::io_context& io) : peer(io) {
    Tcp::acceptor acceptor(io, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    peer.connect(acceptor.local_endpoint());
    transport = std::make_unique<TcpTransport>(acceptor.accept());
  }
  void send(std::string_view bytes) { asio::write(peer, asio::buffer(bytes.data(), bytes.size())); }
  std::string receive(size_t n) {
    std::string got(n, '\0');
    asio::read(peer, asio::buffer(got));
    return got;
  }
  Tcp::socket peer;
  std::unique_ptr<TcpTransport> transport;
};

class Http1ExchangeTest : public ::testing::Test, protected ExchangeObserver {
 protected:
  void onActivity() override { ++activity_; }
  void onResponseBytes() override { ++response_bytes_; }
  void onAwaitingHead() override { ++awaiting_head_; }

  template <typename T>
  T run(asio::awaitable<T> op) {
    return test::runAwaitable(io_, std::move(op));
  }

  asio::io_context io_;
  network::BufferPool buffers_;
  std::string scratch_;
  ExchangeIo io_view_{buffers_, *this, scratch_};
  Pair upstream_{io_};
  network::IoBuffer in_;
  http::http1::Limits limits_;
  http::http1::ResponseHead head_;
  Http1ClientExchange exchange_{io_view_, *upstream_.transport, in_, limits_, head_};
  int activity_ = 0;
  int response_bytes_ = 0;
  int awaiting_head_ = 0;
};

TEST_F(Http1ExchangeTest, SendsTheHeadAndReadsTheFinalHeadLeavingTheBody) {
  EXPECT_TRUE(run(exchange_.sendHead("GET / HTTP/1.1\r\nhost: a\r\n\r\n")));
  EXPECT_EQ(upstream_.receive(27), "GET / HTTP/1.1\r\nhost: a\r\n\r\n");
  upstream_.send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_EQ(run(exchange_.readFinalHead()), Head::Head);
  EXPECT_EQ(head_.status, 200);
  EXPECT_EQ(in_.readable(), "ok");
  EXPECT_GE(awaiting_head_, 1);
  EXPECT_GE(response_bytes_, 1);
}

TEST_F(Http1ExchangeTest, InterimResponsesAreDroppedBeforeTheFinalHead) {
  upstream_.send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n");
  upstream_.send("HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(run(exchange_.readFinalHead()), Head::Head);
  EXPECT_EQ(head_.status, 204);
  EXPECT_TRUE(in_.empty());
}

TEST_F(Http1ExchangeTest, SwitchingProtocolsIsAFinalHead) {
  upstream_.send("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nframe");
  EXPECT_EQ(run(exchange_.readFinalHead()), Head::Head);
  EXPECT_EQ(head_.status, 101);
  EXPECT_EQ(in_.readable(), "frame");
}

TEST_F(Http1ExchangeTest, AHeadThatDoesNotParseIsMalformed) {
  upstream_.send("HTTP/1.1 2OO OK\r\n\r\n");
  EXPECT_EQ(run(exchange_.readFinalHead()), Head::Malformed);
}

TEST_F(Http1ExchangeTest, ACloseBeforeTheHeadFails) {
  upstream_.send("HTTP/1.1 200 OK\r\ncontent-");
  upstream_.peer.shutdown(Tcp::socket::shutdown_send);
  EXPECT_EQ(run(exchange_.readFinalHead()), Head::Failed);
  EXPECT_FALSE(in_.empty());  // the partial head: the router does not retry then
}

TEST_F(Http1ExchangeTest, TheBodyIsSentFromItsSourceReChunked) {
  Pair client(io_);
  network::IoBuffer client_in;
  http::http1::BodyDecoder decoder;
  decoder.reset({http::http1::Framing::Kind::ContentLength, 5});
  uint64_t bytes = 0;
  const Http1ClientExchange::RequestBody body{*client.transport, client_in, decoder, true, bytes, 1 << 20};
  client.send("hel");
  client.send("lo");
  EXPECT_EQ(run(exchange_.sendBody(body)), Body::Sent);
  EXPECT_EQ(bytes, 5u);
  const std::string sent = upstream_.receive(upstream_.peer.available());
  // One chunk per read of the source; the last chunk ends it.
  EXPECT_TRUE(sent == "3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n" || sent == "5\r\nhello\r\n0\r\n\r\n") << sent;
}

TEST_F(Http1ExchangeTest, AnEarlyAnswerStopsTheBodyAndIsKept) {
  Pair client(io_);
  network::IoBuffer client_in;
  http::http1::BodyDecoder decoder;
  decoder.reset({http::http1::Framing::Kind::ContentLength, 1000});
  uint64_t bytes = 0;
  const Http1ClientExchange::RequestBody body{*client.transport, client_in, decoder, false, bytes, 1 << 20};
  client.send("part of the body");
  upstream_.send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n");
  EXPECT_EQ(run(exchange_.sendBody(body)), Body::EarlyResponse);
  EXPECT_EQ(run(exchange_.readFinalHead()), Head::Head);
  EXPECT_EQ(head_.status, 413);
}

TEST_F(Http1ExchangeTest, ABodySourceThatClosesEarlyIsADownstreamFailure) {
  Pair client(io_);
  network::IoBuffer client_in;
  http::http1::BodyDecoder decoder;
  decoder.reset({http::http1::Framing::Kind::ContentLength, 10});
  uint64_t bytes = 0;
  const Http1ClientExchange::RequestBody body{*client.transport, client_in, decoder, false, bytes, 1 << 20};
  client.send("abc");
  client.peer.shutdown(Tcp::socket::shutdown_send);
  EXPECT_EQ(run(exchange_.sendBody(body)), Body::DownstreamFailed);
}

TEST_F(Http1ExchangeTest, TheResponseBodyIsPumpedToTheSinkAndChunkedWhenAsked) {
  Pair client(io_);
  http::http1::BodyDecoder decoder;
  decoder.reset({http::http1::Framing::Kind::Chunked, 0});
  uint64_t bytes = 0;
  upstream_.send("4\r\nwiki\r\n0\r\nx-t: 1\r\n\r\n");
  EXPECT_EQ(run(exchange_.pumpResponseBody(decoder, *client.transport, true, false, bytes, 1 << 20)), PumpResult::Done);
  EXPECT_EQ(bytes, 4u);
  EXPECT_EQ(client.receive(client.peer.available()), "4\r\nwiki\r\n0\r\nx-t: 1\r\n\r\n");
  EXPECT_GE(activity_, 2);
}

TEST_F(Http1ExchangeTest, ACloseDelimitedBodyEndsAtFinButNotAtAReset) {
  Pair client(io_);
  http::http1::BodyDecoder decoder;
  decoder.reset({http::http1::Framing::Kind::UntilClose, 0});
  uint64_t bytes = 0;
  upstream_.send("all of it");
  upstream_.peer.shutdown(Tcp::socket::shutdown_send);
  EXPECT_EQ(run(exchange_.pumpResponseBody(decoder, *client.transport, false, true, bytes, 1 << 20)), PumpResult::Done);
  EXPECT_EQ(client.receive(9), "all of it");

  Pair reset(io_);
  network::IoBuffer reset_in;
  Http1ClientExchange cut(io_view_, *reset.transport, reset_in, limits_, head_);
  decoder.reset({http::http1::Framing::Kind::UntilClose, 0});
  reset.send("some");
  reset.peer.set_option(asio::socket_base::linger(true, 0));
  reset.peer.close();
  EXPECT_EQ(run(cut.pumpResponseBody(decoder, *client.transport, false, true, bytes, 1 << 20)),
            PumpResult::SourceFailed);
}

TEST_F(Http1ExchangeTest, AMalformedChunkIsMalformed) {
  Pair client(io_);
  http::http1::BodyDecoder decoder;
  decoder.reset({http::http1::Framing::Kind::Chunked, 0});
  uint64_t bytes = 0;
  upstream_.send("zz\r\n");
  EXPECT_EQ(run(exchange_.pumpResponseBody(decoder, *client.transport, false, false, bytes, 1 << 20)),
            PumpResult::Malformed);
}

}  // namespace
}  // namespace sluice::upstream
