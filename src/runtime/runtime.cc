#include "runtime/runtime.h"

#include <charconv>

namespace sluice::runtime {

uint64_t Snapshot::getInteger(std::string_view key, uint64_t fallback) const {
  const auto value = get(key);
  if (!value) return fallback;
  uint64_t out = 0;
  const auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), out);
  if (ec != std::errc() || ptr != value->data() + value->size()) return fallback;
  return out;
}

}  // namespace sluice::runtime
