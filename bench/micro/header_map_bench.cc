// HeaderMap operations as a proxied request uses them: fill, get (hit and
// miss), set (replace), remove, and a cleared map refilled (its arena reused).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "http/header_map.h"

namespace {

using sluice::http::HeaderMap;

const std::vector<std::pair<std::string, std::string>> kFields = {
    {"Host", "example.com"},
    {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
    {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    {"Accept-Language", "en-US,en;q=0.5"},
    {"Accept-Encoding", "gzip, deflate, br"},
    {"Connection", "keep-alive"},
    {"Cookie", "session=0123456789abcdef; theme=dark"},
    {"Cache-Control", "max-age=0"},
};

void fill(HeaderMap& map) {
  for (const auto& [name, value] : kFields) map.add(name, value);
}

void BM_HeaderMapClearAndFill(benchmark::State& state) {
  HeaderMap map;
  for (auto _ : state) {
    map.clear();
    fill(map);
    benchmark::DoNotOptimize(map);
  }
}
BENCHMARK(BM_HeaderMapClearAndFill);

void BM_HeaderMapGetHit(benchmark::State& state) {
  HeaderMap map;
  fill(map);
  for (auto _ : state) benchmark::DoNotOptimize(map.get("cache-control"));
}
BENCHMARK(BM_HeaderMapGetHit);

void BM_HeaderMapGetMiss(benchmark::State& state) {
  HeaderMap map;
  fill(map);
  for (auto _ : state) benchmark::DoNotOptimize(map.get("x-forwarded-for"));
}
BENCHMARK(BM_HeaderMapGetMiss);

// What the router does per request: set a few, remove hop-by-hop ones.
void BM_HeaderMapForwardingEdits(benchmark::State& state) {
  HeaderMap map;
  for (auto _ : state) {
    map.clear();
    fill(map);
    map.remove("connection");
    map.remove("keep-alive");
    map.set("x-forwarded-for", "127.0.0.1");
    map.set("x-forwarded-proto", "http");
    map.set("x-request-id", "5c2d3f4e-1a2b-4c3d-8e9f-0123456789ab");
    benchmark::DoNotOptimize(map);
  }
}
BENCHMARK(BM_HeaderMapForwardingEdits);

}  // namespace
