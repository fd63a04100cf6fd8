// Helpers shared by the HTTP/1 codec tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/header_map.h"
#include "http/http1_parser.h"

namespace sluice::http::http1::testing {

// A copy of `data` in a heap block of exactly its size, so a read past the end
// is caught by AddressSanitizer (the asan flavour runs these tests too).
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view data) : size_(data.size()), bytes_(new char[data.size()]) {
    if (size_ > 0) std::memcpy(bytes_.get(), data.data(), size_);
  }
  std::string_view view() const { return {bytes_.get(), size_}; }

 private:
  size_t size_;
  std::unique_ptr<char[]> bytes_;
};

inline std::vector<std::pair<std::string, std::string>> entries(const HeaderMap& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  headers.forEach([&](const HeaderMap::Entry& e) { out.emplace_back(std::string(e.name), std::string(e.value)); });
  return out;
}

inline const char* statusName(ParseStatus s) {
  switch (s) {
    case ParseStatus::Incomplete:
      return "Incomplete";
    case ParseStatus::Complete:
      return "Complete";
    case ParseStatus::Error:
      return "Error";
  }
  return "?";
}

inline ::testing::AssertionResult failsWith(const HeadResult& r, int status, std::string_view detail) {
  if (r.status == ParseStatus::Error && r.error_status == status && r.detail == detail) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << statusName(r.status) << " error_status=" << r.error_status
                                       << " detail=" << r.detail << "; want Error " << status << " " << detail;
}

// Split points for feeding `size` bytes in random pieces, seeded so that every
// run feeds the same pieces.
inline std::vector<size_t> randomSplits(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<size_t> ends;
  size_t at = 0;
  while (at < size) {
    at += std::uniform_int_distribution<size_t>(1, 7)(rng);
    ends.push_back(std::min(at, size));
  }
  return ends;
}

}  // namespace sluice::http::http1::testing
