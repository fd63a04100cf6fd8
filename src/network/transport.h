// Transport: the byte stream under a connection (plain TCP now, TLS next).
// Reads return bytes, never mere readiness: a TLS transport holds decrypted
// bytes the socket no longer shows, so "readable, then read the socket" would
// stall on them. Callers read through tryRead() (or read()) and wait through
// readable()/waitReadable(), which complete at once while the transport holds
// bytes.
//
// Owned by one connection (downstream or pooled upstream); used from its
// worker's io_context only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <system_error>
#include <tuple>

#include "network/asio_util.h"
#include "network/io_buffer.h"

namespace sluice::network {

enum class ReadStatus : uint8_t {
  Data,        // at least one byte was appended to the buffer
  WouldBlock,  // nothing to read now (tryRead only)
  Closed,      // the peer ended its side cleanly (FIN, or TLS close_notify)
  Failed,      // a reset, an error, or a cancelled wait
};

class Transport {
 public:
  using WaitHandler = std::function<void(const std::error_code&)>;
  using WriteHandler = std::function<void(const std::error_code&, size_t)>;
  using WaitResult = std::tuple<std::error_code>;
  using WriteResult = std::tuple<std::error_code, size_t>;

  virtual ~Transport() = default;

  // Appends what can be read without waiting, at most `limit` bytes (and at
  // most the buffer's free room; an allocated buffer is required).
  virtual ReadStatus tryRead(IoBuffer& buffer, size_t limit) = 0;
  // Completes once tryRead() may return something other than WouldBlock (at
  // once while the transport holds bytes), or with an error (cancel(),
  // close()). It may still find nothing (a spurious wake-up, a TLS record
  // not yet whole): wait again then.
  //
  // readable() and the writes below return the I/O operation's awaitable
  // itself, not a coroutine of their own: the request path awaits each
  // directly, with no frame per call (see read()).
  virtual asio::awaitable<WaitResult> readable() = 0;
  // readable() for plain callbacks: the idle pooled connection watch, the
  // slow-response client watch and tunnels wait with it and hold no buffer
  // meanwhile.
  virtual void waitReadable(WaitHandler handler) = 0;
  // Waits, then reads: Data, Closed or Failed, never WouldBlock.
  asio::awaitable<ReadStatus> read(IoBuffer& buffer, size_t limit) {
    for (;;) {
      const auto [ec] = co_await readable();
      if (ec) co_return ReadStatus::Failed;
      if (const auto status = tryRead(buffer, limit); status != ReadStatus::WouldBlock) co_return status;
    }
  }

  // Write everything or fail.
  virtual asio::awaitable<WriteResult> write(std::string_view data) = 0;
  virtual asio::awaitable<WriteResult> writev(std::span<const asio::const_buffer> parts) = 0;
  virtual void asyncWrite(std::string_view data, WriteHandler handler) = 0;

  // Ends pending waits with operation_aborted; the transport stays usable.
  virtual void cancel() = 0;
  // No more writes: the peer reads an end (FIN).
  virtual void shutdownSend() = 0;
  // Both directions end (the client connection's orderly close), the
  // descriptor stays until close().
  virtual void shutdown() = 0;
  // Closes the descriptor; pending operations fail with operation_aborted.
  virtual void close() = 0;
  // Closes with a reset (SO_LINGER 0): the peer cannot take a cut response
  // for a complete one.
  virtual void abort() = 0;
  virtual bool isOpen() const = 0;

  virtual Tcp::endpoint peerAddress() const = 0;
  virtual Tcp::endpoint localAddress() const = 0;
};

}  // namespace sluice::network
