// HTTP/1.1 request head parsing: a small browser-like head and one with 4 KiB
// of header fields. The head object is reused, as a connection reuses it.
#include <benchmark/benchmark.h>

#include <string>

#include "http/http1_parser.h"

namespace {

using sluice::http::http1::Limits;
using sluice::http::http1::parseRequestHead;
using sluice::http::http1::ParseStatus;
using sluice::http::http1::RequestHead;

const std::string kSmallHead =
    "GET /api/v1/items?id=42 HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

// About 4 KiB of fields: 32 headers of ~128 bytes each.
std::string largeHead() {
  std::string head = "POST /upload/some/longer/path?with=query&and=more HTTP/1.1\r\nHost: example.com\r\n";
  for (int i = 0; i < 32; ++i) {
    head += "x-custom-header-" + std::to_string(i) + ": " + std::string(100, static_cast<char>('a' + i % 26)) + "\r\n";
  }
  head += "Content-Length: 0\r\n\r\n";
  return head;
}

void parse(benchmark::State& state, const std::string& head) {
  const Limits limits;
  RequestHead out;
  for (auto _ : state) {
    const auto result = parseRequestHead(head, limits, out);
    if (result.status != ParseStatus::Complete) state.SkipWithError("head did not parse");
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * head.size()));
}

void BM_ParseRequestHeadSmall(benchmark::State& state) { parse(state, kSmallHead); }
BENCHMARK(BM_ParseRequestHeadSmall);

void BM_ParseRequestHead4KiB(benchmark::State& state) {
  static const std::string head = largeHead();
  parse(state, head);
}
BENCHMARK(BM_ParseRequestHead4KiB);

}  // namespace
