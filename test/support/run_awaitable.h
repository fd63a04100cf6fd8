// Drives a test's io_context: one coroutine to completion (runAwaitable), or
// until a condition holds (runUntil) while other work stays pending (an
// acceptor, a backend). Test thread only.
#pragma once

#include <gtest/gtest.h>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <chrono>
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

// Runs the loop until `done()` (a test failure after `limit`): waits for an
// event, never for a fixed time.
template <typename Done>
void runUntil(asio::io_context& io, Done&& done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "timed out";
    io.run_one_for(std::chrono::milliseconds(20));
  }
}

}  // namespace sluice::test
