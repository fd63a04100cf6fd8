// Helpers shared by the load balancer tests: host sets and statistically safe
// bounds for pick counts.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/hash.h"
#include "upstream/host.h"
#include "upstream/load_balancer.h"

namespace sluice::upstream::testing {

// Hosts 10.<i/250>.<i%250>.1:8080 with the given weights, in order.
inline HostSetPtr makeHostSet(const std::vector<uint32_t>& weights, size_t first_index = 0) {
  std::vector<HostPtr> hosts;
  for (size_t i = 0; i < weights.size(); ++i) {
    const size_t n = first_index + i;
    hosts.push_back(makeHost("10." + std::to_string(n / 250) + "." + std::to_string(n % 250) + ".1", 8080));
  }
  return std::make_shared<const HostSet>(std::move(hosts), weights);
}

inline HostSetPtr makeEqualHostSet(size_t count) { return makeHostSet(std::vector<uint32_t>(count, 1)); }

// Position of `host` in `set`, or -1.
inline int indexOf(const HostSet& set, const Host* host) {
  for (size_t i = 0; i < set.size(); ++i) {
    if (&set[i] == host) return static_cast<int>(i);
  }
  return -1;
}

// Counts per host index of `picks` choices with no context.
inline std::vector<uint64_t> countPicks(LoadBalancer& lb, const HostSet& set, uint64_t picks,
                                        const LbContext* context = nullptr) {
  std::unordered_map<const Host*, size_t> index;
  for (size_t i = 0; i < set.size(); ++i) index[&set[i]] = i;
  std::vector<uint64_t> counts(set.size(), 0);
  for (uint64_t i = 0; i < picks; ++i) {
    const Host* host = lb.chooseHost(context);
    EXPECT_NE(host, nullptr);
    if (host == nullptr) return counts;
    counts.at(index.at(host))++;
  }
  return counts;
}

// Asserts that `count` successes out of `trials` are within 6 standard
// deviations of a binomial with success probability `p`. A fair generator
// fails this with probability about 2e-9 per call; the seeds are fixed, so a
// test that passes once passes always, and a test would only start failing if
// the algorithm's distribution really changed.
inline void expectBinomial(uint64_t count, uint64_t trials, double p, const std::string& what) {
  const double mean = static_cast<double>(trials) * p;
  const double sigma = std::sqrt(static_cast<double>(trials) * p * (1 - p));
  const double bound = 6 * sigma + 1e-9;
  EXPECT_LE(std::abs(static_cast<double>(count) - mean), bound)
      << what << ": " << count << " of " << trials << ", expected " << mean << " +- " << bound;
}

// Expected shares proportional to weights.
inline std::vector<double> weightShares(const std::vector<uint32_t>& weights) {
  double total = 0;
  for (const uint32_t w : weights) total += w;
  std::vector<double> shares;
  for (const uint32_t w : weights) shares.push_back(w / total);
  return shares;
}

inline void expectShares(const std::vector<uint64_t>& counts, const std::vector<double>& shares) {
  ASSERT_EQ(counts.size(), shares.size());
  uint64_t trials = 0;
  for (const uint64_t c : counts) trials += c;
  for (size_t i = 0; i < counts.size(); ++i) expectBinomial(counts[i], trials, shares[i], "host " + std::to_string(i));
}

// A well-spread request hash for key i, as a route hash policy would produce.
inline uint64_t requestHash(uint64_t i) { return hash64("request-" + std::to_string(i)); }

}  // namespace sluice::upstream::testing
