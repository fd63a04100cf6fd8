// The application log on the request path: what a disabled debug line costs
// (the common case: one relaxed load), and what an enabled one costs the
// calling thread (format the message, queue it; the writer thread writes to
// /dev/null here).
#include <benchmark/benchmark.h>

#include <string>

#include "log/logger.h"

namespace {

using sluice::log::Component;
using sluice::log::Level;

void BM_LogDisabledDebugLine(benchmark::State& state) {
  sluice::log::setLevel(Component::Connection, Level::Info);
  const std::string remote = "127.0.0.1";
  uint64_t id = 0;
  for (auto _ : state) {
    SLUICE_LOG(connection, debug, "[C{}] new connection from {}:{}", ++id, remote, 4242);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_LogDisabledDebugLine);

void BM_LogEnabledLineQueued(benchmark::State& state) {
  sluice::log::Config config;
  config.path = "/dev/null";
  std::string error;
  if (!sluice::log::init(config, error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  sluice::log::setLevel(Component::Connection, Level::Debug);
  const std::string remote = "127.0.0.1";
  uint64_t id = 0;
  for (auto _ : state) SLUICE_LOG(connection, debug, "[C{}] new connection from {}:{}", ++id, remote, 4242);
  sluice::log::shutdown();
  sluice::log::setLevel(Component::Connection, Level::Info);
}
BENCHMARK(BM_LogEnabledLineQueued);

}  // namespace
