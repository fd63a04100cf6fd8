// Stat updates. sluice has no stats yet (issue 4); these measure the two
// designs it chooses between: a counter shared by the workers (a relaxed
// atomic increment) and a per-worker plain counter summed when read.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

namespace {

void BM_StatRelaxedAtomicIncrement(benchmark::State& state) {
  static std::atomic<uint64_t> counter{0};
  for (auto _ : state) counter.fetch_add(1, std::memory_order_relaxed);
  benchmark::DoNotOptimize(counter.load(std::memory_order_relaxed));
}
BENCHMARK(BM_StatRelaxedAtomicIncrement);
// The same, contended by two threads (two workers on one counter).
BENCHMARK(BM_StatRelaxedAtomicIncrement)->Threads(2);

void BM_StatPerWorkerIncrement(benchmark::State& state) {
  // volatile: keep one store per increment, as a counter in a worker's
  // struct read by another thread's flush would need.
  volatile uint64_t counter = 0;
  for (auto _ : state) counter = counter + 1;
  benchmark::DoNotOptimize(counter);
}
BENCHMARK(BM_StatPerWorkerIncrement);

}  // namespace
