// TcpTransport: a Transport over a plain TCP socket. Reads wait for
// readability first (an idle connection holds no buffer and a read that would
// block costs no system call), then read what the kernel has.
// Owned by one connection; its worker's io_context only.
#pragma once

#include <utility>

#include "network/transport.h"

namespace sluice::network {

class TcpTransport final : public Transport {
 public:
  // Takes a connected socket (accepted or connected): no delay, non-blocking.
  explicit TcpTransport(Tcp::socket socket);
  // An unconnected socket, for connect().
  explicit TcpTransport(asio::any_io_executor executor) : socket_(std::move(executor)) {}

  // Connects, then sets the options a connected socket gets. close() (from a
  // connect timeout, say) ends it with an error.
  asio::awaitable<std::error_code> connect(const Tcp::endpoint& endpoint);

  ReadStatus tryRead(IoBuffer& buffer, size_t limit) override;
  asio::awaitable<WaitResult> readable() override { return socket_.async_wait(Tcp::socket::wait_read, kNoThrow); }
  void waitReadable(WaitHandler handler) override;
  asio::awaitable<WriteResult> write(std::string_view data) override {
    return asio::async_write(socket_, asio::buffer(data.data(), data.size()), kNoThrow);
  }
  asio::awaitable<WriteResult> writev(std::span<const asio::const_buffer> parts) override {
    return asio::async_write(socket_, parts, kNoThrow);
  }
  void asyncWrite(std::string_view data, WriteHandler handler) override;
  void cancel() override;
  void shutdownSend() override;
  void shutdown() override;
  void close() override;
  void abort() override;
  bool isOpen() const override { return socket_.is_open(); }
  Tcp::endpoint peerAddress() const override;
  Tcp::endpoint localAddress() const override;

 private:
  void setConnectedOptions();

  Tcp::socket socket_;
};

}  // namespace sluice::network
