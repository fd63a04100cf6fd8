#include "http/http1_body.h"

#include <gtest/gtest.h>

#include <string>

#include "http/http1_test_util.h"

namespace sluice::http::http1 {
namespace {

using testing::entries;
using testing::ExactBuffer;

using Kind = Framing::Kind;

RequestHead request(std::string_view method,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> fields,
                    int version_minor = 1) {
  RequestHead head;
  head.method = method;
  head.target = "/";
  head.version_minor = version_minor;
  for (const auto& [name, value] : fields) head.headers.add(name, value);
  return head;
}

ResponseHead response(int status, std::initializer_list<std::pair<std::string_view, std::string_view>> fields,
                      int version_minor = 1) {
  ResponseHead head;
  head.status = status;
  head.version_minor = version_minor;
  for (const auto& [name, value] : fields) head.headers.add(name, value);
  return head;
}

::testing::AssertionResult framingFails(const FramingResult& r, int status, std::string_view detail) {
  if (!r.ok && r.error_status == status && r.detail == detail) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got ok=" << r.ok << " error_status=" << r.error_status
                                       << " detail=" << r.detail << "; want " << status << " " << detail;
}

// ---- Request framing ----

TEST(Http1RequestFraming, HasNoBodyWithoutContentLengthOrTransferEncoding) {
  RequestHead head = request("POST", {{"host", "h"}});
  const FramingResult r = requestFraming(head, {});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.kind, Kind::None);
}

TEST(Http1RequestFraming, UsesContentLength) {
  RequestHead head = request("POST", {{"Content-Length", "42"}});
  const FramingResult r = requestFraming(head, {});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.kind, Kind::ContentLength);
  EXPECT_EQ(r.framing.length, 42u);
}

TEST(Http1RequestFraming, AcceptsContentLengthDigitsUpToUint64Max) {
  for (const auto& [value, length] : std::initializer_list<std::pair<std::string_view, uint64_t>>{
           {"0", 0}, {"007", 7}, {" 5\t", 5}, {"18446744073709551615", UINT64_MAX}}) {
    RequestHead head = request("POST", {{"content-length", value}});
    const FramingResult r = requestFraming(head, {});
    ASSERT_TRUE(r.ok) << value;
    EXPECT_EQ(r.framing.length, length) << value;
  }
}

TEST(Http1RequestFraming, RejectsMalformedContentLength) {
  for (const char* value : {"", " ", "+5", "-5", "0x5", "5 5", "5a", "1e3", "5.0", "5,", ",5", "18446744073709551616",
                            "99999999999999999999999"}) {
    RequestHead head = request("POST", {{"content-length", value}});
    EXPECT_TRUE(framingFails(requestFraming(head, {}), 400, details::kInvalidContentLength)) << value;
  }
}

TEST(Http1RequestFraming, AcceptsIdenticalRepeatedContentLengthsAsOne) {
  RequestHead fields = request("POST", {{"content-length", "5"}, {"x", "y"}, {"Content-Length", "5"}});
  RequestHead list = request("POST", {{"content-length", "5, 5 ,5"}});
  for (RequestHead* head : {&fields, &list}) {
    const FramingResult r = requestFraming(*head, {});
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.framing.length, 5u);
    EXPECT_EQ(head->headers.count("content-length"), 1u);
    EXPECT_EQ(head->headers.get("content-length"), "5");
  }
}

TEST(Http1RequestFraming, RejectsDifferingContentLengths) {
  RequestHead fields = request("POST", {{"content-length", "5"}, {"content-length", "6"}});
  RequestHead list = request("POST", {{"content-length", "5, 6"}});
  EXPECT_TRUE(framingFails(requestFraming(fields, {}), 400, details::kInvalidContentLength));
  EXPECT_TRUE(framingFails(requestFraming(list, {}), 400, details::kInvalidContentLength));
}

TEST(Http1RequestFraming, AcceptsChunked) {
  RequestHead head = request("POST", {{"transfer-encoding", "chunked"}});
  const FramingResult r = requestFraming(head, {});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.kind, Kind::Chunked);
}

TEST(Http1RequestFraming, AcceptsChunkedCaseInsensitively) {
  for (const char* value : {"Chunked", "CHUNKED", " chunked ", "chunked,", ", chunked"}) {
    RequestHead head = request("POST", {{"Transfer-Encoding", value}});
    const FramingResult r = requestFraming(head, {});
    ASSERT_TRUE(r.ok) << value;
    EXPECT_EQ(r.framing.kind, Kind::Chunked) << value;
  }
}

TEST(Http1RequestFraming, RejectsTransferCodingsOtherThanOneFinalChunkedWith501) {
  for (const char* value :
       {"gzip, chunked", "chunked, gzip", "identity", "chunked, chunked", "", "chunked;x=1", "chunkedx", "gzip"}) {
    RequestHead head = request("POST", {{"transfer-encoding", value}});
    EXPECT_TRUE(framingFails(requestFraming(head, {}), 501, details::kInvalidTransferEncoding)) << value;
  }
  RequestHead split = request("POST", {{"transfer-encoding", "gzip"}, {"transfer-encoding", "chunked"}});
  EXPECT_TRUE(framingFails(requestFraming(split, {}), 501, details::kInvalidTransferEncoding));
}

TEST(Http1RequestFraming, RejectsContentLengthWithChunked) {
  RequestHead head = request("POST", {{"content-length", "5"}, {"transfer-encoding", "chunked"}});
  EXPECT_TRUE(framingFails(requestFraming(head, {}), 400, details::kChunkedContentLength));
}

TEST(Http1RequestFraming, AllowChunkedLengthDropsTheContentLength) {
  Limits limits;
  limits.allow_chunked_length = true;
  RequestHead head = request("POST", {{"content-length", "5"}, {"transfer-encoding", "chunked"}});
  const FramingResult r = requestFraming(head, limits);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.kind, Kind::Chunked);
  EXPECT_FALSE(head.headers.has("content-length"));
  EXPECT_EQ(head.headers.get("transfer-encoding"), "chunked");
}

TEST(Http1RequestFraming, RejectsTransferEncodingOnHttp10) {
  RequestHead chunked = request("POST", {{"transfer-encoding", "chunked"}}, 0);
  EXPECT_TRUE(framingFails(requestFraming(chunked, {}), 400, details::kTransferEncodingNotAllowed));
  RequestHead length = request("POST", {{"content-length", "3"}}, 0);
  EXPECT_TRUE(requestFraming(length, {}).ok);
}

TEST(Http1RequestFraming, RejectsBodyOnConnect) {
  RequestHead chunked = request("CONNECT", {{"transfer-encoding", "chunked"}});
  EXPECT_TRUE(framingFails(requestFraming(chunked, {}), 501, details::kInvalidTransferEncoding));
  RequestHead length = request("CONNECT", {{"content-length", "1"}});
  EXPECT_TRUE(framingFails(requestFraming(length, {}), 400, details::kContentLengthNotAllowed));
  RequestHead zero = request("CONNECT", {{"content-length", "0"}});
  EXPECT_TRUE(requestFraming(zero, {}).ok);
}

// ---- Response framing ----

TEST(Http1ResponseFraming, ReadsUntilCloseWithoutContentLengthOrTransferEncoding) {
  ResponseHead head = response(200, {});
  const FramingResult r = responseFraming(head, "GET", {});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.framing.kind, Kind::UntilClose);
}

TEST(Http1ResponseFraming, UsesContentLengthOrChunked) {
  ResponseHead length = response(200, {{"content-length", "7"}});
  EXPECT_EQ(responseFraming(length, "GET", {}).framing.length, 7u);
  ResponseHead chunked = response(200, {{"transfer-encoding", "Chunked"}});
  EXPECT_EQ(responseFraming(chunked, "GET", {}).framing.kind, Kind::Chunked);
}

TEST(Http1ResponseFraming, HasNoBodyForHead1xx204And304) {
  ResponseHead to_head = response(200, {{"content-length", "10"}});
  EXPECT_EQ(responseFraming(to_head, "HEAD", {}).framing.kind, Kind::None);
  for (int status : {100, 101, 103, 204, 304}) {
    ResponseHead head = response(status, {{"content-length", "10"}});
    const FramingResult r = responseFraming(head, "GET", {});
    ASSERT_TRUE(r.ok) << status;
    EXPECT_EQ(r.framing.kind, Kind::None) << status;
  }
}

TEST(Http1ResponseFraming, HasNoBodyForSuccessfulConnect) {
  ResponseHead ok = response(200, {});
  EXPECT_EQ(responseFraming(ok, "CONNECT", {}).framing.kind, Kind::None);
  ResponseHead denied = response(407, {{"content-length", "3"}});
  EXPECT_EQ(responseFraming(denied, "CONNECT", {}).framing.kind, Kind::ContentLength);
}

TEST(Http1ResponseFraming, RejectsBadFramingWith502) {
  ResponseHead gzip = response(200, {{"transfer-encoding", "gzip, chunked"}});
  EXPECT_TRUE(framingFails(responseFraming(gzip, "GET", {}), 502, details::kInvalidTransferEncoding));
  ResponseHead both = response(200, {{"transfer-encoding", "chunked"}, {"content-length", "3"}});
  EXPECT_TRUE(framingFails(responseFraming(both, "GET", {}), 502, details::kChunkedContentLength));
  ResponseHead length = response(200, {{"content-length", "3, 4"}});
  EXPECT_TRUE(framingFails(responseFraming(length, "GET", {}), 502, details::kInvalidContentLength));
  ResponseHead http10 = response(200, {{"transfer-encoding", "chunked"}}, 0);
  EXPECT_TRUE(framingFails(responseFraming(http10, "GET", {}), 502, details::kTransferEncodingNotAllowed));
}

TEST(Http1ResponseFraming, RejectsMalformedOrDifferingContentLengthWith502) {
  for (const char* value : {"", "+5", "-5", "0x5", "5 5", "5,6", "99999999999999999999999"}) {
    ResponseHead head = response(200, {{"content-length", value}});
    EXPECT_TRUE(framingFails(responseFraming(head, "GET", {}), 502, details::kInvalidContentLength)) << value;
  }
  ResponseHead fields = response(200, {{"content-length", "5"}, {"content-length", "6"}});
  EXPECT_TRUE(framingFails(responseFraming(fields, "GET", {}), 502, details::kInvalidContentLength));
}

TEST(Http1ResponseFraming, AcceptsChunkedCaseInsensitivelyAndRejectsOtherCodings) {
  ResponseHead upper = response(200, {{"transfer-encoding", "CHUNKED"}});
  EXPECT_EQ(responseFraming(upper, "GET", {}).framing.kind, Kind::Chunked);
  for (const char* value : {"chunked, gzip", "identity", "chunked, chunked", "xchunked"}) {
    ResponseHead head = response(200, {{"transfer-encoding", value}});
    EXPECT_TRUE(framingFails(responseFraming(head, "GET", {}), 502, details::kInvalidTransferEncoding)) << value;
  }
}

TEST(Http1ResponseFraming, AllowChunkedLengthDropsTheContentLength) {
  Limits limits;
  limits.allow_chunked_length = true;
  ResponseHead head = response(200, {{"transfer-encoding", "chunked"}, {"content-length", "3"}});
  EXPECT_EQ(responseFraming(head, "GET", limits).framing.kind, Kind::Chunked);
  EXPECT_FALSE(head.headers.has("content-length"));
}

// ---- Body decoding ----

struct Decoded {
  std::string body;
  bool done = false;
  bool error = false;
  std::string detail;
  size_t consumed = 0;  // total input bytes consumed
};

// Feeds `input` in pieces ending at `ends`, keeping unconsumed bytes as the
// connection code does, until the body is done or fails.
Decoded decodeInPieces(BodyDecoder& decoder, std::string_view input, const std::vector<size_t>& ends) {
  Decoded out;
  std::string pending;
  size_t fed = 0;
  for (const size_t end : ends) {
    pending.append(input.substr(fed, end - fed));
    fed = end;
    while (true) {
      const ExactBuffer buffer(pending);
      const BodyDecoder::Step step = decoder.decode(buffer.view());
      out.body.append(step.data);
      out.consumed += step.consumed;
      pending.erase(0, step.consumed);
      if (step.error) {
        out.error = true;
        out.detail = std::string(step.detail);
        return out;
      }
      if (step.done) {
        out.done = true;
        return out;
      }
      if (step.consumed == 0 && step.data.empty()) break;
    }
  }
  return out;
}

Decoded decodeAll(BodyDecoder& decoder, std::string_view input) {
  return decodeInPieces(decoder, input, {input.size()});
}

Decoded decodeWhole(Framing framing, std::string_view input, const Limits& limits = {}) {
  BodyDecoder decoder(limits);
  decoder.reset(framing);
  return decodeInPieces(decoder, input, {input.size()});
}

Decoded decodeChunked(std::string_view input, const Limits& limits = {}) {
  return decodeWhole({Kind::Chunked, 0}, input, limits);
}

TEST(Http1BodyDecoder, DecodesContentLengthWithoutConsumingMore) {
  BodyDecoder decoder;
  decoder.reset({Kind::ContentLength, 5});
  const std::string input = "helloGET";
  BodyDecoder::Step step = decoder.decode(input);
  EXPECT_EQ(step.consumed, 5u);
  EXPECT_EQ(step.data, "hello");
  EXPECT_EQ(step.data.data(), input.data());  // zero-copy
  EXPECT_TRUE(step.done);
  step = decoder.decode("GET");
  EXPECT_EQ(step.consumed, 0u);
  EXPECT_TRUE(step.done);
}

TEST(Http1BodyDecoder, DecodesContentLengthAcrossInputs) {
  BodyDecoder decoder;
  decoder.reset({Kind::ContentLength, 10});
  EXPECT_EQ(decoder.decode("").consumed, 0u);
  BodyDecoder::Step step = decoder.decode("0123");
  EXPECT_EQ(step.data, "0123");
  EXPECT_FALSE(step.done);
  step = decoder.decode("456789xyz");
  EXPECT_EQ(step.data, "456789");
  EXPECT_TRUE(step.done);
}

TEST(Http1BodyDecoder, FinishesAtOnceWithoutBody) {
  BodyDecoder decoder;
  for (Framing framing : {Framing{Kind::None, 0}, Framing{Kind::ContentLength, 0}}) {
    decoder.reset(framing);
    const BodyDecoder::Step step = decoder.decode("GET / HTTP/1.1\r\n");
    EXPECT_TRUE(step.done);
    EXPECT_EQ(step.consumed, 0u);
    EXPECT_FALSE(decoder.chunked());
  }
}

TEST(Http1BodyDecoder, ReadsUntilCloseWithoutFinishing) {
  BodyDecoder decoder;
  decoder.reset({Kind::UntilClose, 0});
  const BodyDecoder::Step step = decoder.decode("anything at all");
  EXPECT_EQ(step.data, "anything at all");
  EXPECT_EQ(step.consumed, 15u);
  EXPECT_FALSE(step.done);
}

TEST(Http1BodyDecoder, DecodesChunkedBody) {
  const std::string input = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  const Decoded d = decodeChunked(input + "GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "hello world");
  EXPECT_EQ(d.consumed, input.size());
}

TEST(Http1BodyDecoder, AcceptsHexSizesInAnyCaseWithLeadingZeros) {
  const std::string data(26, 'x');
  for (const char* size : {"1a", "1A", "001a", "0000000000000000000000001a"}) {
    const Decoded d = decodeChunked(std::string(size) + "\r\n" + data + "\r\n0\r\n\r\n");
    EXPECT_TRUE(d.done) << size;
    EXPECT_EQ(d.body, data) << size;
  }
}

TEST(Http1BodyDecoder, RejectsInvalidChunkSize) {
  for (const char* input :
       {"\r\n", "+5\r\n", "-5\r\n", "0x5\r\n", " 5\r\n", "5 \r\n", "5 5\r\n", "g\r\n", "5\t\r\n", ";a\r\n"}) {
    const Decoded d = decodeChunked(input);
    EXPECT_TRUE(d.error) << input;
    EXPECT_EQ(d.detail, details::kInvalidChunkSize) << input;
  }
}

TEST(Http1BodyDecoder, RejectsChunkSizeOver64Bits) {
  EXPECT_FALSE(decodeChunked("ffffffffffffffff\r\nabc").error);
  const Decoded d = decodeChunked("10000000000000000\r\nabc");
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.detail, details::kInvalidChunkSize);
}

TEST(Http1BodyDecoder, AcceptsAndIgnoresChunkExtensions) {
  for (const char* size_line : {"5;name=value", "5;a;b=\"quoted; \\\"str\\\"\"", "5 ; a = b", "5\t;a", "5;"}) {
    const Decoded d = decodeChunked(std::string(size_line) + "\r\nhello\r\n0;last\r\n\r\n");
    EXPECT_TRUE(d.done) << size_line;
    EXPECT_EQ(d.body, "hello") << size_line;
  }
}

TEST(Http1BodyDecoder, RejectsControlCharactersInChunkExtension) {
  for (const std::string& line :
       {std::string("5;a=\x01"), std::string("5;a\0", 4), std::string("5;a=\x7f"), std::string("5;\x1b")}) {
    const Decoded d = decodeChunked(line + "\r\nhello\r\n0\r\n\r\n");
    EXPECT_TRUE(d.error) << line;
    EXPECT_EQ(d.detail, details::kInvalidChunkExtension) << line;
  }
}

TEST(Http1BodyDecoder, RejectsOverlongChunkExtension) {
  EXPECT_TRUE(decodeChunked("5;" + std::string(4000, 'a') + "\r\nhello\r\n0\r\n\r\n").done);
  const Decoded d = decodeChunked("5;" + std::string(5000, 'a') + "\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.detail, details::kInvalidChunkExtension);
}

TEST(Http1BodyDecoder, RejectsBareLfOrCrInChunkSizeLine) {
  for (const char* input : {"5\nhello\r\n0\r\n\r\n", "5\rhello\r\n0\r\n\r\n", "5;a\nhello\r\n0\r\n\r\n",
                            "5;a\rb\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\n\r\n"}) {
    const Decoded d = decodeChunked(input);
    EXPECT_TRUE(d.error) << input;
    EXPECT_EQ(d.detail, details::kCodecError) << input;
  }
}

TEST(Http1BodyDecoder, RequiresExactlyCrlfAfterChunkData) {
  for (const char* input : {"5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "5\r\nhello\rX0\r\n\r\n",
                            "5\r\nhello\r\r\n0\r\n\r\n", "5\r\nhello0\r\n\r\n"}) {
    const Decoded d = decodeChunked(input);
    EXPECT_TRUE(d.error) << input;
    EXPECT_EQ(d.detail, details::kInvalidChunkFraming) << input;
  }
}

TEST(Http1BodyDecoder, CollectsTrailers) {
  BodyDecoder decoder;
  decoder.reset({Kind::Chunked, 0});
  const std::string input = "3\r\nabc\r\n0\r\nChecksum: xyz\r\nX-Other:  1 \r\n\r\n";
  const Decoded d = decodeAll(decoder, input + "NEXT");
  ASSERT_TRUE(d.done);
  EXPECT_TRUE(decoder.chunked());
  EXPECT_EQ(d.body, "abc");
  EXPECT_EQ(d.consumed, input.size());
  EXPECT_EQ(entries(decoder.trailers()),
            (decltype(entries(decoder.trailers())){{"checksum", "xyz"}, {"x-other", "1"}}));
}

TEST(Http1BodyDecoder, RejectsInvalidTrailers) {
  const std::pair<const char*, std::string_view> cases[] = {
      {"0\r\nX: a\r\n b\r\n\r\n", details::kCodecError},
      {"0\r\nX: a\n\r\n", details::kCodecError},
      {"0\r\n\n", details::kCodecError},
      {"0\r\nX : a\r\n\r\n", details::kInvalidCharacters},
      {"0\r\nX: \x01\r\n\r\n", details::kInvalidCharacters},
  };
  for (const auto& [input, detail] : cases) {
    const Decoded d = decodeChunked(input);
    EXPECT_TRUE(d.error) << input;
    EXPECT_EQ(d.detail, detail) << input;
  }
}

TEST(Http1BodyDecoder, LimitsTrailerSectionSize) {
  Limits limits;
  limits.max_header_bytes = 64;
  const std::string fits = "X: " + std::string(57, 'v') + "\r\n\r\n";  // 64 bytes
  EXPECT_TRUE(decodeChunked("0\r\n" + fits, limits).done);
  const Decoded d = decodeChunked("0\r\nX: " + std::string(58, 'v') + "\r\n\r\n", limits);
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.detail, details::kHeadersTooLarge);
  // Split across inputs, the limit holds without buffering more than it.
  BodyDecoder decoder(limits);
  decoder.reset({Kind::Chunked, 0});
  const std::string big = "0\r\nX: " + std::string(5000, 'v');
  const Decoded split = decodeInPieces(decoder, big, testing::randomSplits(big.size(), 7));
  EXPECT_TRUE(split.error);
  EXPECT_EQ(split.detail, details::kHeadersTooLarge);
}

TEST(Http1BodyDecoder, StaysFailedUntilReset) {
  BodyDecoder decoder;
  decoder.reset({Kind::Chunked, 0});
  EXPECT_TRUE(decoder.decode("zz").error);
  const BodyDecoder::Step step = decoder.decode("5\r\nhello\r\n");
  EXPECT_TRUE(step.error);
  EXPECT_EQ(step.consumed, 0u);
  decoder.reset({Kind::Chunked, 0});
  EXPECT_TRUE(decodeAll(decoder, "0\r\n\r\n").done);
}

TEST(Http1BodyDecoder, ResetClearsTrailersAndStartsOver) {
  BodyDecoder decoder;
  decoder.reset({Kind::Chunked, 0});
  ASSERT_TRUE(decodeAll(decoder, "1\r\na\r\n0\r\nT: 1\r\n\r\n").done);
  EXPECT_EQ(decoder.trailers().size(), 1u);
  decoder.reset({Kind::Chunked, 0});
  EXPECT_TRUE(decoder.trailers().empty());
  const Decoded d = decodeAll(decoder, "2\r\nbc\r\n0\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "bc");
}

// Chunked bodies fed byte by byte and in seeded random pieces decode exactly
// as when whole: same body, same end, same error, same trailers.
const char* const kChunkedCorpus[] = {
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT",
    "a;ext=\"v\"\r\n0123456789\r\n0\r\nTrailer-One: 1\r\nTrailer-Two:\t2\r\n\r\nNEXT",
    "0\r\n\r\n",
    "3\r\nabc\r\n0\r\nX: a\r\n b\r\n\r\n",
    "3\r\nabcX\r\n",
    "3 x\r\n",
    "3;\x01\r\n",
    "1\r\na\r\n0\r\nbad line\r\n\r\n",
};

TEST(Http1BodyDecoder, GivesTheSameResultByteByByteAndInRandomPieces) {
  for (const std::string_view input : kChunkedCorpus) {
    BodyDecoder whole_decoder;
    whole_decoder.reset({Kind::Chunked, 0});
    const Decoded whole = decodeAll(whole_decoder, input);
    ASSERT_TRUE(whole.done || whole.error) << input;
    std::vector<std::vector<size_t>> feeds;
    std::vector<size_t> bytes;
    for (size_t n = 1; n <= input.size(); ++n) bytes.push_back(n);
    feeds.push_back(bytes);
    for (uint32_t seed = 1; seed <= 20; ++seed) feeds.push_back(testing::randomSplits(input.size(), seed));
    for (const auto& ends : feeds) {
      BodyDecoder decoder;
      decoder.reset({Kind::Chunked, 0});
      const Decoded d = decodeInPieces(decoder, input, ends);
      EXPECT_EQ(d.body, whole.body) << input;
      EXPECT_EQ(d.done, whole.done) << input;
      EXPECT_EQ(d.error, whole.error) << input;
      EXPECT_EQ(d.detail, whole.detail) << input;
      if (whole.done) {
        EXPECT_EQ(d.consumed, whole.consumed) << input;
        EXPECT_EQ(entries(decoder.trailers()), entries(whole_decoder.trailers())) << input;
      }
    }
  }
}

// Two requests with bodies back to back in one buffer, as a pipelining client
// sends them: each head and body consumes exactly its own bytes.
TEST(Http1Codec, ParsesPipelinedRequestsWithBodies) {
  const std::string data =
      "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\nT: v\r\n\r\n"
      "GET /c HTTP/1.1\r\n\r\n";
  std::string_view rest = data;
  RequestHead head;
  BodyDecoder decoder;
  std::vector<std::pair<std::string, std::string>> seen;
  while (!rest.empty()) {
    const HeadResult r = parseRequestHead(rest, {}, head);
    ASSERT_EQ(r.status, ParseStatus::Complete);
    rest.remove_prefix(r.consumed);
    const FramingResult framing = requestFraming(head, {});
    ASSERT_TRUE(framing.ok);
    decoder.reset(framing.framing);
    std::string body;
    while (true) {
      const BodyDecoder::Step step = decoder.decode(rest);
      ASSERT_FALSE(step.error);
      body.append(step.data);
      rest.remove_prefix(step.consumed);
      if (step.done) break;
    }
    seen.emplace_back(head.target, body);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"/a", "hello"}, {"/b", "xyz"}, {"/c", ""}}));
}

}  // namespace
}  // namespace sluice::http::http1
