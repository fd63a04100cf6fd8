// The codec's promise that a connection reusing its heads, decoder and output
// buffer allocates nothing per message once warm. Checked by counting calls to
// the global operator new, which this file replaces for the http_test binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "http/http1_body.h"
#include "http/http1_parser.h"
#include "http/http1_serializer.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// GCC pairs the inlined free() with the `new` expression and warns; this is
// the replacement pair itself, so the pairing is right.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace sluice::http::http1 {
namespace {

struct Connection {
  RequestHead request;
  ResponseHead response;
  BodyDecoder decoder;
  std::string out;
  bool ok = true;

  // Decodes `body` delivered as two reads split at `split`, as a connection
  // holding unconsumed bytes would.
  void decodeBody(std::string_view body, size_t split, char* scratch) {
    std::string_view rest = body.substr(0, split);
    size_t fed = split;
    while (true) {
      const BodyDecoder::Step step = decoder.decode(rest);
      ok = ok && !step.error;
      rest.remove_prefix(step.consumed);
      if (step.done || step.error) break;
      if (step.consumed == 0 && step.data.empty()) {
        if (fed == body.size()) break;
        // Move the unconsumed tail next to the next read, like a read buffer.
        const size_t tail = rest.size();
        std::copy(rest.begin(), rest.end(), scratch);
        std::copy(body.begin() + static_cast<long>(fed), body.end(), scratch + tail);
        rest = std::string_view(scratch, tail + body.size() - fed);
        fed = body.size();
      }
    }
  }

  void exchange(std::string_view request_bytes, std::string_view body, size_t split, std::string_view response_bytes) {
    char scratch[256];
    ok = ok && parseRequestHead(request_bytes, {}, request).status == ParseStatus::Complete;
    const FramingResult framing = requestFraming(request, {});
    ok = ok && framing.ok;
    decoder.reset(framing.framing);
    decodeBody(body, split, scratch);
    ok = ok && decoder.trailers().size() == 1;
    out.clear();
    appendRequestHead(request, out);
    appendChunk("hello", out);
    appendLastChunk(&decoder.trailers(), out);
    ok = ok && parseResponseHead(response_bytes, {}, response).status == ParseStatus::Complete;
    ok = ok && responseFraming(response, request.method, {}).ok;
    appendResponseHead(response, out);
  }
};

TEST(Http1Codec, DoesNotAllocatePerMessageOnceWarm) {
  const std::string request =
      "POST /upload?id=7 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const std::string body = "5;ext=1\r\nhello\r\n0\r\nChecksum: 0123456789abcdef\r\n\r\n";
  const size_t split_in_trailers = body.size() - 10;
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: upstream\r\n\r\n";

  Connection connection;
  connection.exchange(request, body, split_in_trailers, response);  // warms every buffer
  ASSERT_TRUE(connection.ok);

  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 3; ++i) connection.exchange(request, body, split_in_trailers, response);
  g_counting = false;
  EXPECT_TRUE(connection.ok);
  EXPECT_EQ(g_allocations.load(), 0);
}

}  // namespace
}  // namespace sluice::http::http1
