#include "stats/stats.h"

#include <bit>
#include <cmath>
#include <limits>

namespace sluice::stats {

void setThreadSlot(uint32_t slot) { detail::t_slot = slot; }

uint64_t Counter::raw() const {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < slots_; ++i) sum += data_[i].v.load(std::memory_order_relaxed);
  return sum;
}

int64_t Gauge::value() const {
  int64_t sum = 0;
  for (uint32_t i = 0; i < slots_; ++i) sum += data_[i].v.load(std::memory_order_relaxed);
  return sum;
}

size_t HistogramBuckets::index(uint64_t value) {
  if (value > kMaxValue) value = kMaxValue;
  if (value < kSubBuckets) return static_cast<size_t>(value);
  const uint32_t shift = static_cast<uint32_t>(std::bit_width(value)) - kSubBucketBits;  // >= 1
  const uint64_t mantissa = value >> shift;                                              // [64, 128)
  return static_cast<size_t>(kSubBuckets + (shift - 1) * kHalf + (mantissa - kHalf));
}

uint64_t HistogramBuckets::lower(size_t i) {
  if (i < kSubBuckets) return i;
  const uint64_t shift = (i - kSubBuckets) / kHalf + 1;
  const uint64_t mantissa = (i - kSubBuckets) % kHalf + kHalf;
  return mantissa << shift;
}

uint64_t HistogramBuckets::upper(size_t i) {
  if (i < kSubBuckets) return i;
  const uint64_t shift = (i - kSubBuckets) / kHalf + 1;
  return lower(i) + (uint64_t{1} << shift) - 1;
}

double HistogramSnapshot::quantile(double q) const {
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  // The rank of the wanted value among `count` sorted values (0-based, fractional).
  const double rank = q * static_cast<double>(count - 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0) continue;
    if (static_cast<double>(seen + buckets[i]) > rank) {
      const double lo = static_cast<double>(HistogramBuckets::lower(i));
      const double hi = static_cast<double>(HistogramBuckets::upper(i));
      if (buckets[i] == 1 || hi == lo) return buckets[i] == 1 ? (lo + hi) / 2 : lo;
      // Spread the bucket's values evenly over its range.
      const double within = (rank - static_cast<double>(seen)) / static_cast<double>(buckets[i] - 1);
      return lo + within * (hi - lo);
    }
    seen += buckets[i];
  }
  return static_cast<double>(HistogramBuckets::upper(buckets.size() - 1));
}

uint64_t HistogramSnapshot::countAtOrBelow(double bound) const {
  uint64_t n = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (static_cast<double>(HistogramBuckets::lower(i)) > bound) break;
    n += buckets[i];
  }
  return n;
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot out;
  out.buckets.assign(HistogramBuckets::kCount, 0);
  for (uint32_t s = 0; s <= last_; ++s) {
    const auto& block = data_[s];
    for (size_t i = 0; i < HistogramBuckets::kCount; ++i) {
      const uint64_t n = block.buckets[i].load(std::memory_order_relaxed);
      out.buckets[i] += n;
      out.count += n;
    }
    out.sum += block.sum.load(std::memory_order_relaxed);
  }
  return out;
}

bool Histogram::used() const {
  for (uint32_t s = 0; s <= last_; ++s) {
    for (const auto& b : data_[s].buckets) {
      if (b.load(std::memory_order_relaxed) != 0) return true;
    }
  }
  return false;
}

Store::Store(uint32_t workers)
    : slots_(workers + 1),
      null_counter_(workers + 1),
      null_gauge_(workers + 1),
      null_histogram_(std::make_unique<Histogram>(workers + 1)) {}

Store::~Store() = default;

void Store::setRejector(std::function<bool(std::string_view)> rejects) {
  std::lock_guard lock(mutex_);
  rejects_ = std::move(rejects);
}

bool Store::rejects(const std::string& name) const { return rejects_ && rejects_(name); }

Counter& Store::counter(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (auto it = counters_.find(name); it != counters_.end()) return *it->second;
  if (rejects(name)) return null_counter_;
  return *counters_.emplace(name, std::make_unique<Counter>(slots_)).first->second;
}

Gauge& Store::gauge(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (auto it = gauges_.find(name); it != gauges_.end()) return *it->second;
  if (rejects(name)) return null_gauge_;
  return *gauges_.emplace(name, std::make_unique<Gauge>(slots_)).first->second;
}

Histogram& Store::histogram(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (auto it = histograms_.find(name); it != histograms_.end()) return *it->second;
  if (rejects(name)) return *null_histogram_;
  return *histograms_.emplace(name, std::make_unique<Histogram>(slots_)).first->second;
}

void Store::counterFunction(const std::string& name, std::function<uint64_t()> read) {
  std::lock_guard lock(mutex_);
  if (rejects(name)) return;
  counter_functions_[name] = FunctionCounter{std::move(read), 0};
}

void Store::gaugeFunction(const std::string& name, std::function<int64_t()> read) {
  std::lock_guard lock(mutex_);
  if (rejects(name)) return;
  gauge_functions_[name] = std::move(read);
}

std::vector<Store::Value> Store::values() const {
  std::lock_guard lock(mutex_);
  std::map<std::string_view, Value> sorted;
  for (const auto& [name, c] : counters_) sorted[name] = Value{name, c->value(), 0, false, c->used()};
  for (const auto& [name, f] : counter_functions_) {
    const uint64_t raw = f.read();
    sorted[name] = Value{name, raw - f.baseline, 0, false, raw != 0};
  }
  for (const auto& [name, g] : gauges_) sorted[name] = Value{name, 0, g->value(), true, g->used()};
  for (const auto& [name, f] : gauge_functions_) sorted[name] = Value{name, 0, f(), true, true};
  std::vector<Value> out;
  out.reserve(sorted.size());
  for (auto& [name, v] : sorted) out.push_back(std::move(v));
  return out;
}

std::vector<Store::HistogramValue> Store::histograms() const {
  std::lock_guard lock(mutex_);
  std::vector<HistogramValue> out;
  for (const auto& [name, h] : histograms_) out.push_back(HistogramValue{name, h->snapshot()});
  return out;
}

void Store::resetCounters() {
  std::lock_guard lock(mutex_);
  for (auto& [name, c] : counters_) c->reset();
  for (auto& [name, f] : counter_functions_) f.baseline = f.read();
}

std::string sanitize(std::string_view segment) {
  std::string out(segment);
  for (char& c : out) {
    if (c == ':' || c == '\0') c = '_';
  }
  return out;
}

}  // namespace sluice::stats
