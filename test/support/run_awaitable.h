// Runs one coroutine to completion on a test's io_context and returns its
// result (a test failure if it never completed). Test thread only.
#pragma once

#include <gtest/gtest.h>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <optional>

namespace sluice::test {

template <typename T>
T runAwaitable(asio::io_context& io, asio::awaitable<T> op) {
  std::optional<T> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await std::move(op); }, asio::detached);
  io.restart();
  io.run();
  EXPECT_TRUE(result.has_value());
  return *result;
}

}  // namespace sluice::test
