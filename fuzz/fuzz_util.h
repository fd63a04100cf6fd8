// Helpers shared by the fuzz targets: a check that aborts (libFuzzer reports
// the input as a crash) and small predicates over parsed HTTP.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "http/header_map.h"

// Unlike assert(), active in every build type.
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace sluice::fuzz {

// Prints `text` when SLUICE_FUZZ_VERBOSE is set: to see what a corpus file
// exercises (e.g. whether a config passes validation) when writing seeds.
inline void verbose(std::string_view text) {
  static const bool enabled = std::getenv("SLUICE_FUZZ_VERBOSE") != nullptr;
  if (enabled) std::fwrite(text.data(), 1, text.size(), stderr);
}

// RFC 9110 5.6.2 tchar.
inline bool isTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTchar(c)) return false;
  }
  return true;
}

// What the parsers promise about every field they return: a lowercase token
// name, and a value without CR, LF, NUL or surrounding whitespace, so that
// re-serialising it can never split a line.
inline void checkFields(const http::HeaderMap& headers) {
  headers.forEach([](const http::HeaderMap::Entry& e) {
    FUZZ_CHECK(isToken(e.name));
    for (char c : e.name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    for (char c : e.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    if (!e.value.empty()) {
      FUZZ_CHECK(e.value.front() != ' ' && e.value.front() != '\t');
      FUZZ_CHECK(e.value.back() != ' ' && e.value.back() != '\t');
    }
  });
}

inline bool sameFields(const http::HeaderMap& a, const http::HeaderMap& b) {
  if (a.size() != b.size()) return false;
  std::vector<http::HeaderMap::Entry> left;
  a.forEach([&](const http::HeaderMap::Entry& e) { left.push_back(e); });
  size_t i = 0;
  bool same = true;
  b.forEach([&](const http::HeaderMap::Entry& e) {
    same = same && left[i].name == e.name && left[i].value == e.value;
    ++i;
  });
  return same;
}

}  // namespace sluice::fuzz
