#include "network/tcp_transport.h"

#include <algorithm>

namespace sluice::network {

TcpTransport::TcpTransport(Tcp::socket socket) : socket_(std::move(socket)) { setConnectedOptions(); }

void TcpTransport::setConnectedOptions() {
  std::error_code ignored;
  socket_.set_option(Tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
}

asio::awaitable<std::error_code> TcpTransport::connect(const Tcp::endpoint& endpoint) {
  auto [ec] = co_await socket_.async_connect(endpoint, kNoThrow);
  if (!ec) setConnectedOptions();
  co_return ec;
}

ReadStatus TcpTransport::tryRead(IoBuffer& buffer, size_t limit) {
  char* room = buffer.writePointer();  // first: it may compact, which grows writable()
  std::error_code ec;
  const size_t n = socket_.read_some(asio::buffer(room, std::min(buffer.writable(), limit)), ec);
  if (!ec) {
    buffer.commit(n);
    return ReadStatus::Data;
  }
  if (ec == asio::error::would_block || ec == asio::error::try_again) return ReadStatus::WouldBlock;
  return ec == asio::error::eof ? ReadStatus::Closed : ReadStatus::Failed;
}

void TcpTransport::waitReadable(WaitHandler handler) { socket_.async_wait(Tcp::socket::wait_read, std::move(handler)); }

void TcpTransport::asyncWrite(std::string_view data, WriteHandler handler) {
  asio::async_write(socket_, asio::buffer(data.data(), data.size()), std::move(handler));
}

void TcpTransport::cancel() {
  std::error_code ignored;
  socket_.cancel(ignored);
}

void TcpTransport::shutdownSend() {
  std::error_code ignored;
  socket_.shutdown(Tcp::socket::shutdown_send, ignored);
}

void TcpTransport::shutdown() {
  std::error_code ignored;
  socket_.shutdown(Tcp::socket::shutdown_both, ignored);
}

void TcpTransport::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

void TcpTransport::abort() {
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

Tcp::endpoint TcpTransport::peerAddress() const {
  std::error_code ignored;
  return socket_.remote_endpoint(ignored);
}

Tcp::endpoint TcpTransport::localAddress() const {
  std::error_code ignored;
  return socket_.local_endpoint(ignored);
}

}  // namespace sluice::network
