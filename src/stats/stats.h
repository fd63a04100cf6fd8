// Stats: counters, gauges and histograms with Envoy's names.
//
// Threads: every stat has one slot per worker plus one shared slot (the main
// thread and any other thread). A thread picks its slot once
// (setThreadSlot(worker index)); an update is one relaxed atomic add on that
// thread's own cache line, so workers never contend and nothing allocates.
// Readers (the admin handlers, on the main thread) sum the slots with relaxed
// loads. Histograms keep fixed-size log-linear buckets per slot, merged on read.
//
// Stats are created by name (Store::counter() ...) when a config is compiled
// or a component is built, never per request; the returned reference lives as
// long as the Store, and the same name always yields the same stat, so stats
// survive config reloads. A name the stats matcher rejects gets a private sink
// stat that is never reported.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::stats {

// The calling thread's slot: the worker index, or kSharedSlot (the default).
constexpr uint32_t kSharedSlot = UINT32_MAX;
void setThreadSlot(uint32_t slot);
namespace detail {
inline thread_local uint32_t t_slot = kSharedSlot;
}

template <typename T>
struct alignas(64) PaddedAtomic {
  std::atomic<T> v{0};
};

class Counter {
 public:
  explicit Counter(uint32_t slots) : slots_(slots), last_(slots - 1), data_(new PaddedAtomic<uint64_t>[slots]) {}
  void inc(uint64_t n = 1) { mine().fetch_add(n, std::memory_order_relaxed); }
  // Since the last reset.
  uint64_t value() const { return raw() - baseline_.load(std::memory_order_relaxed); }
  bool used() const { return raw() != 0; }
  void reset() { baseline_.store(raw(), std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t>& mine() { return data_[std::min(detail::t_slot, last_)].v; }
  uint64_t raw() const;
  uint32_t slots_;
  uint32_t last_;
  std::unique_ptr<PaddedAtomic<uint64_t>[]> data_;
  std::atomic<uint64_t> baseline_{0};
};

// inc()/dec() from any thread (per-thread slots); set() replaces the value and
// is for gauges only ever set (from one thread at a time).
class Gauge {
 public:
  explicit Gauge(uint32_t slots) : slots_(slots), last_(slots - 1), data_(new PaddedAtomic<int64_t>[slots]) {}
  void inc(int64_t n = 1) {
    markUsed();
    data_[std::min(detail::t_slot, last_)].v.fetch_add(n, std::memory_order_relaxed);
  }
  void dec(int64_t n = 1) { inc(-n); }
  void set(int64_t value) {
    markUsed();
    data_[last_].v.store(value, std::memory_order_relaxed);
  }
  int64_t value() const;
  bool used() const { return used_.load(std::memory_order_relaxed); }

 private:
  void markUsed() {
    if (!used_.load(std::memory_order_relaxed)) used_.store(true, std::memory_order_relaxed);
  }
  uint32_t slots_;
  uint32_t last_;
  std::unique_ptr<PaddedAtomic<int64_t>[]> data_;
  std::atomic<bool> used_{false};
};

// Log-linear buckets, HdrHistogram-like: values below 128 are exact; above,
// each power of two is split in 64 buckets (under 1.6% relative error, about
// two significant digits). Values are clamped at 2^32 - 1.
class HistogramBuckets {
 public:
  static constexpr uint32_t kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = 1 << kSubBucketBits;  // 128
  static constexpr uint64_t kHalf = kSubBuckets / 2;            // 64
  static constexpr uint64_t kMaxValue = (uint64_t{1} << 32) - 1;
  static constexpr size_t kCount = kSubBuckets + (32 - kSubBucketBits) * kHalf;  // 1728

  static size_t index(uint64_t value);
  // The smallest and largest value of bucket `i`.
  static uint64_t lower(size_t i);
  static uint64_t upper(size_t i);
};

// A histogram merged across slots, as read.
struct HistogramSnapshot {
  std::vector<uint64_t> buckets;  // HistogramBuckets::kCount counts
  uint64_t count = 0;
  uint64_t sum = 0;
  // The value at quantile q (0..1), interpolated inside its bucket; NaN when empty.
  double quantile(double q) const;
  // Values <= `bound`, a bucket's values counted at its lower end (exact below
  // 128, where a bucket is one value; above, within the bucket's 1.6%).
  uint64_t countAtOrBelow(double bound) const;
};

class Histogram {
 public:
  explicit Histogram(uint32_t slots) : last_(slots - 1), data_(new Block[slots]) {}
  void record(uint64_t value) {
    auto& block = data_[std::min(detail::t_slot, last_)];
    block.buckets[HistogramBuckets::index(value)].fetch_add(1, std::memory_order_relaxed);
    block.sum.fetch_add(value, std::memory_order_relaxed);
  }
  HistogramSnapshot snapshot() const;
  bool used() const;

 private:
  struct alignas(64) Block {
    std::array<std::atomic<uint64_t>, HistogramBuckets::kCount> buckets{};
    std::atomic<uint64_t> sum{0};
  };
  uint32_t last_;
  std::unique_ptr<Block[]> data_;
};

// Envoy's /stats quantiles: P0 P25 P50 P75 P90 P95 P99 P99.5 P99.9 P100.
inline constexpr std::array<double, 10> kSupportedQuantiles = {0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100};

class Store {
 public:
  // `workers`: per-worker slots (one more is shared by every other thread).
  explicit Store(uint32_t workers);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // True: the stat is not created (stats_config.stats_matcher). Set before
  // any stat is created.
  void setRejector(std::function<bool(std::string_view)> rejects);

  // Any thread (creation takes a lock: never on the request path).
  Counter& counter(const std::string& name);
  Gauge& gauge(const std::string& name);
  Histogram& histogram(const std::string& name);
  // Values read when the stats are read (counters kept elsewhere, uptime).
  void counterFunction(const std::string& name, std::function<uint64_t()> read);
  void gaugeFunction(const std::string& name, std::function<int64_t()> read);

  struct Value {
    std::string name;
    uint64_t counter = 0;
    int64_t gauge = 0;
    bool is_gauge = false;
    bool used = false;
  };
  struct HistogramValue {
    std::string name;
    HistogramSnapshot snapshot;
  };
  // Sorted by name.
  std::vector<Value> values() const;
  std::vector<HistogramValue> histograms() const;
  void resetCounters();

 private:
  struct FunctionCounter {
    std::function<uint64_t()> read;
    uint64_t baseline = 0;
  };
  bool rejects(const std::string& name) const;

  const uint32_t slots_;
  mutable std::mutex mutex_;
  std::function<bool(std::string_view)> rejects_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::unique_ptr<Gauge>> gauges_;
  std::map<std::string, std::unique_ptr<Histogram>> histograms_;
  std::map<std::string, FunctionCounter> counter_functions_;
  std::map<std::string, std::function<int64_t()>> gauge_functions_;
  // Sinks for rejected names (updated, never reported).
  Counter null_counter_;
  Gauge null_gauge_;
  std::unique_ptr<Histogram> null_histogram_;
};

// Envoy's sanitising of a name segment (':' and NUL become '_').
std::string sanitize(std::string_view segment);

}  // namespace sluice::stats
