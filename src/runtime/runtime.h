// Runtime: layered key/value settings read on the request path (Envoy's
// `layered_runtime`). A Snapshot is immutable; the main thread builds a new one
// when a layer changes and publishes it to workers, which read it lock-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::runtime {

class Snapshot {
 public:
  // Values as text, later layers already applied over earlier ones.
  explicit Snapshot(std::map<std::string, std::string, std::less<>> values = {}) : values_(std::move(values)) {}

  std::optional<std::string_view> get(std::string_view key) const {
    const auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  // The value as an unsigned integer; `fallback` when absent or not a number.
  uint64_t getInteger(std::string_view key, uint64_t fallback) const;
  // Envoy's feature-enabled check: percent in [0, 100] against `random % 100`.
  bool featureEnabled(std::string_view key, uint64_t default_percent, uint64_t random) const {
    return random % 100 < getInteger(key, default_percent);
  }
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace sluice::runtime
