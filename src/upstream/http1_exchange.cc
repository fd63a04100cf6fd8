#include "upstream/http1_exchange.h"

#include <algorithm>
#include <array>
#include <asio/experimental/awaitable_operators.hpp>
#include <charconv>

#include "http/http1_serializer.h"

namespace sluice::upstream {

using http::http1::ParseStatus;
using network::ReadStatus;

asio::awaitable<ReadStatus> readMore(ExchangeIo& io, network::Transport& from, network::IoBuffer& buffer,
                                     size_t limit) {
  // Transport::read() inlined: one coroutine frame per read on the request
  // path, not two. Wait first: a read that would block costs a system call
  // for nothing, and an idle connection holds no buffer while it waits.
  for (;;) {
    const auto [ec] = co_await from.readable();
    if (ec) co_return ReadStatus::Failed;
    if (!buffer.allocated()) buffer = io.buffers.take();
    if (buffer.writable() == 0) buffer.reserve(buffer.capacity() * 2);
    // Below 1 KiB a limit would only cost syscalls; chunk framing needs the room.
    const auto result = from.tryRead(buffer, std::max<size_t>(limit, 1024));
    if (result == ReadStatus::WouldBlock) continue;
    if (result == ReadStatus::Data) io.observer.onActivity();
    co_return result;
  }
}

asio::awaitable<bool> writeAll(ExchangeIo& io, network::Transport& to, std::string_view data) {
  if (data.empty()) co_return true;
  const auto [ec, n] = co_await to.write(data);
  if (!ec) io.observer.onActivity();
  co_return !ec;
}

asio::awaitable<PumpResult> pumpBody(ExchangeIo& io, network::Transport& from, network::IoBuffer& buffer,
                                     http::http1::BodyDecoder& decoder, network::Transport& to, bool chunked_out,
                                     bool until_close, uint64_t& bytes, size_t read_limit) {
  for (;;) {
    const auto step = decoder.decode(buffer.allocated() ? buffer.readable() : std::string_view());
    if (step.error) co_return PumpResult::Malformed;
    if (!step.data.empty()) {
      std::error_code ec;
      if (chunked_out) {
        char size_line[20];
        auto [end, conv] = std::to_chars(size_line, size_line + 16, step.data.size(), 16);
        *end++ = '\r';
        *end++ = '\n';
        const std::array<asio::const_buffer, 3> parts = {asio::buffer(size_line, static_cast<size_t>(end - size_line)),
                                                         asio::buffer(step.data.data(), step.data.size()),
                                                         asio::buffer("\r\n", 2)};
        std::tie(ec, std::ignore) = co_await to.writev(parts);
      } else {
        std::tie(ec, std::ignore) = co_await to.write(step.data);
      }
      if (ec) co_return PumpResult::SinkFailed;
      io.observer.onActivity();
      bytes += step.data.size();
    }
    if (step.consumed > 0) buffer.consume(step.consumed);
    if (step.done) {
      if (chunked_out) {
        io.scratch.clear();
        http::http1::appendLastChunk(decoder.chunked() ? &decoder.trailers() : nullptr, io.scratch);
        if (!co_await writeAll(io, to, io.scratch)) co_return PumpResult::SinkFailed;
      }
      co_return PumpResult::Done;
    }
    if (step.consumed > 0 || !step.data.empty()) continue;
    if (const auto read = co_await readMore(io, from, buffer, read_limit); read != ReadStatus::Data) {
      // Only a clean close (FIN) ends a close-delimited body; a reset cuts it.
      if (!until_close || read == ReadStatus::Failed) co_return PumpResult::SourceFailed;
      if (chunked_out) {
        io.scratch.clear();
        http::http1::appendLastChunk(nullptr, io.scratch);
        if (!co_await writeAll(io, to, io.scratch)) co_return PumpResult::SinkFailed;
      }
      co_return PumpResult::Done;
    }
  }
}

asio::awaitable<PumpResult> readBody(ExchangeIo& io, network::Transport& from, network::IoBuffer& buffer,
                                     http::http1::BodyDecoder& decoder, std::string& out, uint64_t& bytes,
                                     size_t read_limit) {
  for (;;) {
    const auto step = decoder.decode(buffer.allocated() ? buffer.readable() : std::string_view());
    if (step.error) co_return PumpResult::Malformed;
    out.append(step.data);
    bytes += step.data.size();
    if (step.consumed > 0) buffer.consume(step.consumed);
    if (step.done) co_return PumpResult::Done;
    if (step.consumed > 0 || !step.data.empty()) continue;
    if (co_await readMore(io, from, buffer, read_limit) != ReadStatus::Data) co_return PumpResult::SourceFailed;
  }
}

asio::awaitable<Http1ClientExchange::BodyResult> Http1ClientExchange::sendBody(const RequestBody& body) {
  // The upstream may answer before the body is all sent (a 413, say): stop
  // sending then and take its response.
  using namespace asio::experimental::awaitable_operators;
  const auto first = co_await (pumpBody(io_, body.from, body.buffer, body.decoder, upstream_, body.chunked, false,
                                        body.bytes, body.read_limit) ||
                               awaitFinalResponse());
  if (first.index() == 1) co_return BodyResult::EarlyResponse;
  switch (std::get<0>(first)) {
    case PumpResult::Done:
      co_return BodyResult::Sent;
    case PumpResult::SinkFailed:
      co_return BodyResult::UpstreamFailed;
    case PumpResult::SourceFailed:
    case PumpResult::Malformed:
      break;
  }
  co_return BodyResult::DownstreamFailed;
}

asio::awaitable<void> Http1ClientExchange::awaitFinalResponse() {
  for (;;) {
    // EOF, an error or a cancel: readFinalHead() finds out which.
    if (co_await readMore(io_, upstream_, in_) != ReadStatus::Data) co_return;
    io_.observer.onResponseBytes();
    // Drop every complete interim response (103 Early Hints, an unasked 100
    // Continue): they must not stop the body. Stop at anything else: a final
    // head (left in `in` for readFinalHead to parse again) or an error.
    while (!in_.empty()) {
      const auto head = http::http1::parseResponseHead(in_.readable(), limits_, head_);
      if (head.status == ParseStatus::Incomplete) break;
      if (head.status == ParseStatus::Error || !isInterimResponse(head_.status)) co_return;
      in_.consume(head.consumed);
    }
  }
}

asio::awaitable<Http1ClientExchange::HeadResult> Http1ClientExchange::readFinalHead() {
  size_t scanned = 0;  // bytes of `in` that parsed as Incomplete
  for (;;) {
    if (in_.allocated() && !in_.empty() &&
        http::http1::worthReparsing(in_.readable(), scanned, limits_.max_header_bytes)) {
      const auto head = http::http1::parseResponseHead(in_.readable(), limits_, head_);
      scanned = in_.readable().size();
      if (head.status == ParseStatus::Error) co_return HeadResult::Malformed;
      if (head.status == ParseStatus::Complete) {
        in_.consume(head.consumed);
        scanned = 0;
        if (isInterimResponse(head_.status)) continue;
        co_return HeadResult::Head;
      }
    }
    io_.observer.onAwaitingHead();
    if (co_await readMore(io_, upstream_, in_) != ReadStatus::Data) co_return HeadResult::Failed;
    io_.observer.onResponseBytes();
  }
}

}  // namespace sluice::upstream
