// A fast, stable 64-bit hash for load balancing (hash policies, ring hash,
// maglev). Stable across runs and machines, so a key maps to the same host on
// every worker and every proxy. Not for security. Any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

// FNV-1a over the bytes, then a 64-bit finaliser (from SplitMix64) so that
// nearby keys spread over the whole range.
constexpr uint64_t hash64(std::string_view data, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (const char c : data) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace sluice
