#include "http/http1_serializer.h"

#include <gtest/gtest.h>

#include <string>

#include "http/http1_body.h"
#include "http/http1_test_util.h"

namespace sluice::http::http1 {
namespace {

using testing::entries;

TEST(Http1Serializer, WritesRequestHead) {
  RequestHead head;
  head.method = "POST";
  head.target = "/submit?a=b";
  head.headers.add("Host", "example.com");
  head.headers.add("content-length", "3");
  std::string out;
  appendRequestHead(head, out);
  EXPECT_EQ(out, "POST /submit?a=b HTTP/1.1\r\nhost: example.com\r\ncontent-length: 3\r\n\r\n");
}

TEST(Http1Serializer, WritesTheHeadsVersion) {
  RequestHead request;
  request.method = "GET";
  request.target = "/";
  request.version_minor = 0;
  std::string out;
  appendRequestHead(request, out);
  EXPECT_EQ(out, "GET / HTTP/1.0\r\n\r\n");
  ResponseHead response;
  response.status = 200;
  response.version_minor = 0;
  out.clear();
  appendResponseHead(response, out);
  EXPECT_EQ(out, "HTTP/1.0 200 OK\r\n\r\n");
}

TEST(Http1Serializer, WritesResponseHeadWithStandardReasonWhenEmpty) {
  ResponseHead head;
  head.status = 404;
  head.headers.add("content-length", "0");
  std::string out;
  appendResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
}

TEST(Http1Serializer, WritesResponseHeadsOwnReason) {
  ResponseHead head;
  head.status = 200;
  head.reason = "Fine Thanks";
  std::string out;
  appendResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 200 Fine Thanks\r\n\r\n");
}

TEST(Http1Serializer, WritesEmptyReasonForUnknownStatus) {
  ResponseHead head;
  head.status = 599;
  std::string out;
  appendResponseHead(head, out);
  EXPECT_EQ(out, "HTTP/1.1 599 \r\n\r\n");
}

TEST(Http1Serializer, AppendsToWhatTheBufferHolds) {
  std::string out = "previous";
  appendChunk("abc", out);
  EXPECT_EQ(out, "previous3\r\nabc\r\n");
}

TEST(Http1Serializer, WritesChunkSizeInHex) {
  std::string out;
  appendChunk(std::string(26, 'z'), out);
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'z') + "\r\n");
  out.clear();
  appendChunk(std::string(4096, 'z'), out);
  EXPECT_EQ(out.substr(0, 6), "1000\r\n");
}

TEST(Http1Serializer, WritesNothingForAnEmptyChunk) {
  std::string out;
  appendChunk("", out);
  EXPECT_EQ(out, "");
}

TEST(Http1Serializer, WritesLastChunkWithAndWithoutTrailers) {
  std::string out;
  appendLastChunk(nullptr, out);
  EXPECT_EQ(out, "0\r\n\r\n");
  HeaderMap trailers;
  out.clear();
  appendLastChunk(&trailers, out);
  EXPECT_EQ(out, "0\r\n\r\n");
  trailers.add("Checksum", "abc");
  out.clear();
  appendLastChunk(&trailers, out);
  EXPECT_EQ(out, "0\r\nchecksum: abc\r\n\r\n");
}

TEST(Http1Serializer, KnowsStandardReasonPhrases) {
  EXPECT_EQ(reasonPhrase(100), "Continue");
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(413), "Content Too Large");
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(reasonPhrase(299), "");
  EXPECT_EQ(reasonPhrase(0), "");
}

// parse -> serialise -> parse gives the same head, and serialising that gives
// the same bytes (the canonical form is a fixed point).
TEST(Http1Serializer, RoundTripsRequestHeads) {
  for (const char* data : {
           "GET / HTTP/1.1\r\n\r\n",
           "\r\nPOST /a?b=c HTTP/1.0\r\nHost: h\r\nContent-Length: 5\r\nX-Empty:\r\n\r\n",
           "CONNECT [::1]:443 HTTP/1.1\r\nHost:   [::1]:443  \r\n\r\n",
           "OPTIONS * HTTP/1.1\r\nSet-Cookie: a\r\nset-cookie: b\r\nV: a\tb caf\xc3\xa9\r\n\r\n",
           "GET http://example.com/x HTTP/1.1\r\nWeird_Name!: \"q\"\r\n\r\n",
       }) {
    RequestHead first;
    ASSERT_EQ(parseRequestHead(data, {}, first).status, ParseStatus::Complete) << data;
    std::string wire;
    appendRequestHead(first, wire);
    RequestHead second;
    const HeadResult r = parseRequestHead(wire, {}, second);
    ASSERT_EQ(r.status, ParseStatus::Complete) << wire;
    EXPECT_EQ(r.consumed, wire.size());
    EXPECT_EQ(second.method, first.method);
    EXPECT_EQ(second.target, first.target);
    EXPECT_EQ(second.version_minor, first.version_minor);
    EXPECT_EQ(entries(second.headers), entries(first.headers));
    std::string again;
    appendRequestHead(second, again);
    EXPECT_EQ(again, wire);
  }
}

TEST(Http1Serializer, RoundTripsResponseHeads) {
  for (const char* data : {
           "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.0 404 Nope, not here\r\nA: 1\r\n\r\n",
           "HTTP/1.1 599 \r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 100\r\n\r\n",
       }) {
    ResponseHead first;
    ASSERT_EQ(parseResponseHead(data, {}, first).status, ParseStatus::Complete) << data;
    std::string wire;
    appendResponseHead(first, wire);
    ResponseHead second;
    ASSERT_EQ(parseResponseHead(wire, {}, second).status, ParseStatus::Complete) << wire;
    EXPECT_EQ(second.status, first.status);
    EXPECT_EQ(second.version_minor, first.version_minor);
    EXPECT_EQ(entries(second.headers), entries(first.headers));
    // An empty reason is written as the standard phrase, which then parses.
    EXPECT_EQ(second.reason, first.reason.empty() ? reasonPhrase(first.status) : first.reason);
  }
}

TEST(Http1Serializer, RoundTripsChunkedBodiesWithTrailers) {
  const std::string pieces[] = {"a", std::string(300, 'b'), "\r\n0\r\n", ""};
  HeaderMap trailers;
  trailers.add("checksum", "123");
  std::string wire;
  std::string body;
  for (const std::string& piece : pieces) {
    appendChunk(piece, wire);
    body += piece;
  }
  appendLastChunk(&trailers, wire);

  BodyDecoder decoder;
  decoder.reset({Framing::Kind::Chunked, 0});
  std::string_view rest = wire;
  std::string decoded;
  while (true) {
    const BodyDecoder::Step step = decoder.decode(rest);
    ASSERT_FALSE(step.error) << step.detail;
    decoded.append(step.data);
    rest.remove_prefix(step.consumed);
    if (step.done) break;
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(decoded, body);
  EXPECT_EQ(entries(decoder.trailers()), entries(trailers));
}

}  // namespace
}  // namespace sluice::http::http1
