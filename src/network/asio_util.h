// Asio conventions used across sluice: coroutines that return errors as values
// (no exceptions on the request path) and the socket types.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

namespace sluice::network {

// `co_await op(..., kNoThrow)` yields a tuple (error_code, result...) instead of
// throwing: failures on the data path are ordinary events.
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

using Tcp = asio::ip::tcp;

}  // namespace sluice::network
