#include "http/http1_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "http/http1_test_util.h"

namespace sluice::http::http1 {
namespace {

using testing::entries;
using testing::ExactBuffer;
using testing::failsWith;

HeadResult parseRequest(std::string_view data, const Limits& limits = {}) {
  RequestHead head;
  return parseRequestHead(ExactBuffer(data).view(), limits, head);
}

HeadResult parseResponse(std::string_view data, const Limits& limits = {}) {
  ResponseHead head;
  return parseResponseHead(ExactBuffer(data).view(), limits, head);
}

// A request with `line` as its only header field.
HeadResult parseField(std::string_view line, const Limits& limits = {}) {
  return parseRequest("GET / HTTP/1.1\r\n" + std::string(line) + "\r\n\r\n", limits);
}

std::string valueOf(std::string_view line) {
  RequestHead head;
  const std::string data = "GET / HTTP/1.1\r\n" + std::string(line) + "\r\n\r\n";
  const HeadResult r = parseRequestHead(data, {}, head);
  EXPECT_EQ(r.status, ParseStatus::Complete) << line;
  return std::string(head.headers.get("x").value_or("<absent>"));
}

// ---- Request line ----

TEST(Http1RequestParser, ParsesRequestLineAndFields) {
  RequestHead head;
  const std::string data = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  const HeadResult r = parseRequestHead(data, {}, head);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, data.size());
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/index.html?q=1");
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(entries(head.headers), (decltype(entries(head.headers)){{"host", "example.com"}, {"accept", "*/*"}}));
}

TEST(Http1RequestParser, AcceptsHttp10) {
  RequestHead head;
  ASSERT_EQ(parseRequestHead("GET / HTTP/1.0\r\n\r\n", {}, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.version_minor, 0);
}

TEST(Http1RequestParser, RejectsUnsupportedVersionWith505) {
  for (const char* version : {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.1"}) {
    EXPECT_TRUE(
        failsWith(parseRequest(std::string("GET / ") + version + "\r\n\r\n"), 505, details::kUnsupportedVersion))
        << version;
  }
}

TEST(Http1RequestParser, RejectsMalformedVersionWith400) {
  for (const char* version :
       {"HTTP/1", "http/1.1", "HTTP/1.10", "HTTP/11.1", "HTTP/1.1 ", "HTTP/1.x", "HTTP 1.1", ""}) {
    EXPECT_TRUE(failsWith(parseRequest(std::string("GET / ") + version + "\r\n\r\n"), 400, details::kCodecError))
        << version;
  }
}

TEST(Http1RequestParser, RejectsRequestLineWithoutVersion) {
  EXPECT_TRUE(failsWith(parseRequest("GET /\r\n\r\n"), 400, details::kCodecError));
}

TEST(Http1RequestParser, RequiresExactlySingleSpaces) {
  EXPECT_EQ(parseRequest("GET / HTTP/1.1\r\n\r\n").status, ParseStatus::Complete);
  for (const char* line : {"GET  / HTTP/1.1", "GET /  HTTP/1.1", " GET / HTTP/1.1", "GET\t/ HTTP/1.1",
                           "GET /\tHTTP/1.1", "GET / HTTP/1.1 "}) {
    EXPECT_TRUE(failsWith(parseRequest(std::string(line) + "\r\n\r\n"), 400, details::kCodecError)) << line;
  }
}

TEST(Http1RequestParser, AcceptsTokenMethods) {
  for (const char* method : {"GET", "M-SEARCH", "PROPFIND", "X_CUSTOM!", "get"}) {
    RequestHead head;
    const std::string data = std::string(method) + " / HTTP/1.1\r\n\r\n";
    ASSERT_EQ(parseRequestHead(data, {}, head).status, ParseStatus::Complete) << method;
    EXPECT_EQ(head.method, method);
  }
}

TEST(Http1RequestParser, RejectsNonTokenMethod) {
  for (const char* method : {"GE(T", "GET:", "G\"ET", "GE\x01T", "G\xc3\xa9T"}) {
    EXPECT_TRUE(failsWith(parseRequest(std::string(method) + " / HTTP/1.1\r\n\r\n"), 400, details::kCodecError))
        << method;
  }
}

TEST(Http1RequestParser, AcceptsEveryRequestTargetForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"GET", "/a/b?c=d&e"},
      {"GET", "http://example.com/x"},
      {"POST", "https://user@h:8443/"},
      {"CONNECT", "example.com:443"},
      {"CONNECT", "[::1]:8080"},
      {"CONNECT", "10.0.0.1:80"},
      {"OPTIONS", "*"},
      {"OPTIONS", "/"},
  };
  for (const auto& [method, target] : cases) {
    RequestHead head;
    const std::string data = std::string(method) + " " + target + " HTTP/1.1\r\n\r\n";
    ASSERT_EQ(parseRequestHead(data, {}, head).status, ParseStatus::Complete) << data;
    EXPECT_EQ(head.target, target);
  }
}

TEST(Http1RequestParser, RejectsTargetInTheWrongForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"GET", "*"},
      {"GET", "example.com"},
      {"GET", "1http://x/"},
      {"CONNECT", "/path"},
      {"CONNECT", "host"},
      {"CONNECT", "host:"},
      {"CONNECT", ":443"},
      {"CONNECT", "host:44a"},
      {"CONNECT", "h/p:443"},
      {"CONNECT", "u@host:443"},
      {"CONNECT", "[::1:443"},
      {"CONNECT", "http://h:443"},
      {"CONNECT", "*"},
      {"CONNECT", "host:1234567"},
      // absolute-form names a host: "scheme://authority"
      {"GET", "example.com:80"},
      {"GET", "http:/x"},
      {"GET", "http://"},
      {"GET", "http:///x"},
  };
  for (const auto& [method, target] : cases) {
    const std::string data = std::string(method) + " " + target + " HTTP/1.1\r\n\r\n";
    EXPECT_TRUE(failsWith(parseRequest(data), 400, details::kInvalidUrl)) << data;
  }
}

TEST(Http1RequestParser, RejectsFragmentInTarget) {
  for (const char* target : {"/a#f", "/a?b#", "http://h/#x"}) {
    const std::string data = std::string("GET ") + target + " HTTP/1.1\r\n\r\n";
    EXPECT_TRUE(failsWith(parseRequest(data), 400, details::kInvalidUrl)) << data;
  }
}

TEST(Http1RequestParser, RejectsControlAndNonAsciiBytesInTarget) {
  for (const std::string& target : {std::string("/a\x01"), std::string("/a\x7f"), std::string("/\xc3\xa9"),
                                    std::string("/a\0b", 4), std::string("/a\x1b")}) {
    const std::string data = "GET " + target + " HTTP/1.1\r\n\r\n";
    EXPECT_TRUE(failsWith(parseRequest(data), 400, details::kInvalidUrl)) << data;
  }
}

// ---- Leading empty lines (RFC 9112 2.2) ----

TEST(Http1RequestParser, SkipsAFewLeadingEmptyLines) {
  RequestHead head;
  const std::string data = "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  const HeadResult r = parseRequestHead(data, {}, head);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, data.size());
  EXPECT_EQ(head.method, "GET");
}

TEST(Http1RequestParser, RejectsManyLeadingEmptyLines) {
  EXPECT_TRUE(failsWith(parseRequest("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 400, details::kCodecError));
}

TEST(Http1RequestParser, RejectsBareLfAsLeadingEmptyLine) {
  EXPECT_TRUE(failsWith(parseRequest("\nGET / HTTP/1.1\r\n\r\n"), 400, details::kCodecError));
}

// ---- Field lines ----

TEST(Http1RequestParser, LowercasesNamesAndKeepsDuplicatesInOrder) {
  RequestHead head;
  ASSERT_EQ(parseRequestHead("GET / HTTP/1.1\r\nX-A: 1\r\nCookie: a\r\nx-a: 2\r\n\r\n", {}, head).status,
            ParseStatus::Complete);
  EXPECT_EQ(entries(head.headers), (decltype(entries(head.headers)){{"x-a", "1"}, {"cookie", "a"}, {"x-a", "2"}}));
}

TEST(Http1RequestParser, AcceptsTokenFieldNames) {
  EXPECT_EQ(parseField("X-Weird!#$%&'*+.^_`|~Name: v").status, ParseStatus::Complete);
}

TEST(Http1RequestParser, RejectsNonTokenFieldName) {
  for (const char* line : {"Bad Name: v", "Bad(Name): v", "Bad/Name: v", "N\x01: v", "N\xc3\xa9: v", "N\"x: v"}) {
    EXPECT_TRUE(failsWith(parseField(line), 400, details::kInvalidCharacters)) << line;
  }
}

TEST(Http1RequestParser, RejectsWhitespaceBeforeColon) {
  EXPECT_EQ(parseField("Host: x").status, ParseStatus::Complete);
  EXPECT_TRUE(failsWith(parseField("Host : x"), 400, details::kInvalidCharacters));
  EXPECT_TRUE(failsWith(parseField("Host\t: x"), 400, details::kInvalidCharacters));
}

TEST(Http1RequestParser, RejectsFieldLineWithoutNameOrColon) {
  EXPECT_TRUE(failsWith(parseField(": v"), 400, details::kCodecError));
  EXPECT_TRUE(failsWith(parseField("NoColon"), 400, details::kCodecError));
}

TEST(Http1RequestParser, TrimsOwsAroundValues) {
  EXPECT_EQ(valueOf("X: \t value \t "), "value");
  EXPECT_EQ(valueOf("X:value"), "value");
  EXPECT_EQ(valueOf("X: a  \t b"), "a  \t b");
  EXPECT_EQ(valueOf("X:   "), "");
  EXPECT_EQ(valueOf("X:"), "");
}

TEST(Http1RequestParser, RejectsObsFold) {
  EXPECT_EQ(parseRequest("GET / HTTP/1.1\r\nX: a b\r\n\r\n").status, ParseStatus::Complete);
  EXPECT_TRUE(failsWith(parseRequest("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), 400, details::kCodecError));
  EXPECT_TRUE(failsWith(parseRequest("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), 400, details::kCodecError));
}

TEST(Http1RequestParser, RejectsWhitespaceBeforeFirstField) {
  EXPECT_TRUE(failsWith(parseRequest("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), 400, details::kCodecError));
}

TEST(Http1RequestParser, AcceptsHtabAndObsTextInValues) {
  EXPECT_EQ(valueOf("X: a\tb"), "a\tb");
  EXPECT_EQ(valueOf("X: caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(valueOf("X: \"quoted, (comment)\" ~!"), "\"quoted, (comment)\" ~!");
}

TEST(Http1RequestParser, RejectsNulInValue) {
  EXPECT_TRUE(failsWith(parseField(std::string("X: a\0b", 6)), 400, details::kInvalidCharacters));
}

TEST(Http1RequestParser, RejectsControlCharactersInValue) {
  for (const char* line : {"X: a\x01", "X: \x1f", "X: a\x7f", "X: \x0b", "X: \x1b[0m"}) {
    EXPECT_TRUE(failsWith(parseField(line), 400, details::kInvalidCharacters)) << line;
  }
}

TEST(Http1RequestParser, RejectsBareCrAnywhere) {
  EXPECT_EQ(parseRequest("GET / HTTP/1.1\r\nX: a\r\n\r\n").status, ParseStatus::Complete);
  for (const char* data :
       {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "GET / HTTP/1.1\r\nX: a\r\r\n\r\n", "GET / HTTP/1.1\r\nX\r: a\r\n\r\n",
        "GET /\r HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\r\n\r\n", "G\rET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\r\n\rX\r\n", "\rGET / HTTP/1.1\r\n\r\n"}) {
    EXPECT_TRUE(failsWith(parseRequest(data), 400, details::kCodecError)) << data;
  }
}

TEST(Http1RequestParser, RejectsBareLfAsLineEnd) {
  for (const char* data :
       {"GET / HTTP/1.1\n\r\n", "GET / HTTP/1.1\r\nX: a\n\r\n", "GET / HTTP/1.1\r\nX: a\r\n\n", "GET / HTTP/1.1\n\n"}) {
    EXPECT_TRUE(failsWith(parseRequest(data), 400, details::kCodecError)) << data;
  }
}

TEST(Http1RequestParser, AcceptsOneHostField) {
  RequestHead head;
  ASSERT_EQ(parseRequestHead("GET / HTTP/1.1\r\nHost: a\r\n\r\n", {}, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.headers.get("host"), "a");
}

TEST(Http1RequestParser, RejectsMultipleHostFields) {
  EXPECT_TRUE(failsWith(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400, details::kMultipleHosts));
  EXPECT_TRUE(failsWith(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nHOST: a\r\n\r\n"), 400, details::kMultipleHosts));
}

// ---- Underscores ----

TEST(Http1RequestParser, KeepsUnderscoreNamesByDefault) {
  RequestHead head;
  ASSERT_EQ(parseRequestHead("GET / HTTP/1.1\r\nX_Y: 1\r\n\r\n", {}, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.headers.get("x_y"), "1");
}

TEST(Http1RequestParser, RejectsUnderscoreNamesWhenConfigured) {
  Limits limits;
  limits.headers_with_underscores = Limits::Underscores::RejectRequest;
  EXPECT_EQ(parseField("X-Y: 1", limits).status, ParseStatus::Complete);
  EXPECT_TRUE(failsWith(parseField("X_Y: 1", limits), 400, details::kUnexpectedUnderscore));
}

TEST(Http1RequestParser, DropsUnderscoreNamesWhenConfigured) {
  Limits limits;
  limits.headers_with_underscores = Limits::Underscores::DropHeader;
  RequestHead head;
  ASSERT_EQ(parseRequestHead("GET / HTTP/1.1\r\nA: 1\r\nX_Y: 2\r\nB: 3\r\n\r\n", limits, head).status,
            ParseStatus::Complete);
  EXPECT_EQ(entries(head.headers), (decltype(entries(head.headers)){{"a", "1"}, {"b", "3"}}));
}

// ---- Limits ----

std::string requestOfSize(size_t size) {
  std::string data = "GET / HTTP/1.1\r\nX: ";
  data.append(size - data.size() - 4, 'v');
  data.append("\r\n\r\n");
  return data;
}

TEST(Http1RequestParser, AcceptsHeadOfExactlyMaxHeaderBytes) {
  Limits limits;
  limits.max_header_bytes = 200;
  const HeadResult r = parseRequest(requestOfSize(200), limits);
  EXPECT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, 200u);
}

TEST(Http1RequestParser, RejectsHeadOverMaxHeaderBytesWith431) {
  Limits limits;
  limits.max_header_bytes = 200;
  EXPECT_TRUE(failsWith(parseRequest(requestOfSize(201), limits), 431, details::kHeadersTooLarge));
  EXPECT_TRUE(failsWith(parseRequest(requestOfSize(61 * 1024)), 431, details::kHeadersTooLarge));
}

TEST(Http1RequestParser, RejectsOversizedHeadBeforeItIsComplete) {
  Limits limits;
  limits.max_header_bytes = 200;
  const std::string partial = requestOfSize(400).substr(0, 250);
  EXPECT_TRUE(failsWith(parseRequest(partial, limits), 431, details::kHeadersTooLarge));
  EXPECT_TRUE(failsWith(parseRequest(std::string(200, 'G'), limits), 431, details::kHeadersTooLarge));
  EXPECT_EQ(parseRequest(std::string(199, 'G'), limits).status, ParseStatus::Incomplete);
}

TEST(Http1RequestParser, DoesNotCountPipelinedBytesAgainstTheLimit) {
  Limits limits;
  limits.max_header_bytes = 100;
  const std::string data = "GET / HTTP/1.1\r\n\r\n" + std::string(500, 'x');
  const HeadResult r = parseRequest(data, limits);
  EXPECT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, 18u);
}

std::string requestWithFields(size_t count) {
  std::string data = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < count; ++i) data += "X-" + std::to_string(i) + ": v\r\n";
  return data + "\r\n";
}

TEST(Http1RequestParser, AcceptsMaxHeadersCount) {
  RequestHead head;
  ASSERT_EQ(parseRequestHead(requestWithFields(100), {}, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.headers.size(), 100u);
}

TEST(Http1RequestParser, RejectsTooManyHeadersWith431) {
  EXPECT_TRUE(failsWith(parseRequest(requestWithFields(101)), 431, details::kTooManyHeaders));
  Limits limits;
  limits.max_headers_count = 2;
  EXPECT_TRUE(failsWith(parseRequest(requestWithFields(3).substr(0, 60), limits), 431, details::kTooManyHeaders));
}

// ---- Incremental input ----

TEST(Http1RequestParser, ReportsIncompleteForEveryPrefixOfAValidHead) {
  const std::string data = "\r\nPOST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  for (size_t n = 0; n < data.size(); ++n) {
    EXPECT_EQ(parseRequest(data.substr(0, n)).status, ParseStatus::Incomplete) << n;
  }
}

TEST(Http1RequestParser, RejectsInvalidBytesBeforeTheHeadIsComplete) {
  const std::pair<const char*, std::string_view> cases[] = {
      {"GE(", details::kCodecError},
      {" ", details::kCodecError},
      {"GET /\x01", details::kInvalidUrl},
      {"GET / XTTP", details::kCodecError},
      {"GET / HTTP/1.1\r\nBad Name", details::kInvalidCharacters},
      {"GET / HTTP/1.1\r\nX: \x01", details::kInvalidCharacters},
      {"GET / HTTP/1.1\r\nX: a\r\n ", details::kCodecError},
      {"GET / HTTP/1.1\r\nX: a\rb", details::kCodecError},
      {"GET / HTTP/1.1\n", details::kCodecError},
  };
  for (const auto& [data, detail] : cases) EXPECT_TRUE(failsWith(parseRequest(data), 400, detail)) << data;
}

TEST(Http1RequestParser, ClearsTheHeadBeforeParsing) {
  RequestHead head;
  ASSERT_EQ(parseRequestHead("POST /a HTTP/1.0\r\nA: 1\r\n\r\n", {}, head).status, ParseStatus::Complete);
  ASSERT_EQ(parseRequestHead("GET /b HTTP/1.1\r\nB: 2\r\n\r\n", {}, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/b");
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(entries(head.headers), (decltype(entries(head.headers)){{"b", "2"}}));
}

TEST(Http1RequestParser, ParsesPipelinedRequestsWithExactConsumption) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "GET /2 HTTP/1.1\r\nHost: b\r\n\r\n";
  const std::string data = first + second;
  RequestHead head;
  HeadResult r = parseRequestHead(data, {}, head);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(head.target, "/1");
  r = parseRequestHead(std::string_view(data).substr(r.consumed), {}, head);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(head.target, "/2");
  EXPECT_EQ(head.headers.get("host"), "b");
}

// The connection code calls again with everything received so far. Feeding
// each message byte by byte and in seeded random pieces must give the whole
// message's result: Incomplete until then, and never a different answer.
const char* const kRequestCorpus[] = {
    "GET / HTTP/1.1\r\n\r\n",
    "\r\n\r\nPOST /submit?x=1 HTTP/1.0\r\nHost: example.com\r\nContent-Length:  12 \r\nX:\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nA_B: \tv\t\r\n\r\ntrailing pipelined bytes",
    "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
    "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
    "GET / HTTP/1.1\nX: a\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
    "GET  / HTTP/1.1\r\n\r\n",
    "GET * HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
    "GET / HTTP/1.1\r\nX: \x7f\r\n\r\n",
    "GET / HTTP/1.1\r\nbad line\r\n\r\n",
    "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nbad line\r\n\r\n",
    "GET / HTTP/1.1\r\nX_Y: a\x01\r\n\r\n",
    "GET / HTTP/1.1\r\nX-Long: 0123456789012345678901234567890123456789\r\n\r\n",
};
const char* const kResponseCorpus[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "HTTP/1.0 204\r\n\r\n",
    "HTTP/1.1 100 \r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n",
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/2.0x200 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nbad line\r\n\r\n",
};

void expectSameHead(const RequestHead& a, const RequestHead& b) {
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.version_minor, b.version_minor);
  EXPECT_EQ(entries(a.headers), entries(b.headers));
}
void expectSameHead(const ResponseHead& a, const ResponseHead& b) {
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.version_minor, b.version_minor);
  EXPECT_EQ(entries(a.headers), entries(b.headers));
}

// Feeds growing prefixes of `data` ending at `ends` to `parse`.
template <typename Head, typename Parse>
void expectIncrementalMatchesWhole(std::string_view data, const std::vector<size_t>& ends, Parse parse,
                                   const Limits& limits = {}) {
  Head whole_head;
  const HeadResult whole = parse(data, limits, whole_head);
  ASSERT_NE(whole.status, ParseStatus::Incomplete) << data;
  Head head;
  for (const size_t end : ends) {
    const HeadResult r = parse(ExactBuffer(data.substr(0, end)).view(), limits, head);
    if (r.status == ParseStatus::Incomplete) {
      ASSERT_TRUE(whole.status == ParseStatus::Error || end < whole.consumed) << data << " at " << end;
      continue;
    }
    ASSERT_EQ(r.status, whole.status) << data << " at " << end;
    if (r.status == ParseStatus::Error) {
      EXPECT_EQ(r.error_status, whole.error_status) << data << " at " << end;
      EXPECT_EQ(r.detail, whole.detail) << data << " at " << end;
    } else {
      EXPECT_EQ(r.consumed, whole.consumed) << data << " at " << end;
      expectSameHead(head, whole_head);
    }
    return;
  }
  FAIL() << "never finished: " << data;
}

std::vector<size_t> everyByte(size_t size) {
  std::vector<size_t> ends;
  for (size_t n = 0; n <= size; ++n) ends.push_back(n);
  return ends;
}

TEST(Http1RequestParser, GivesTheSameResultByteByByte) {
  for (const std::string_view data : kRequestCorpus) {
    expectIncrementalMatchesWhole<RequestHead>(data, everyByte(data.size()), parseRequestHead);
  }
}

TEST(Http1RequestParser, GivesTheSameResultInRandomPieces) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    for (const std::string_view data : kRequestCorpus) {
      expectIncrementalMatchesWhole<RequestHead>(data, testing::randomSplits(data.size(), seed), parseRequestHead);
    }
  }
}

TEST(Http1RequestParser, GivesTheSameResultUnderTightLimits) {
  Limits limits;
  limits.max_header_bytes = 64;
  limits.max_headers_count = 2;
  limits.headers_with_underscores = Limits::Underscores::RejectRequest;
  for (const std::string_view data : kRequestCorpus) {
    expectIncrementalMatchesWhole<RequestHead>(data, everyByte(data.size()), parseRequestHead, limits);
  }
}

TEST(Http1ResponseParser, GivesTheSameResultByteByByteAndInRandomPieces) {
  for (const std::string_view data : kResponseCorpus) {
    expectIncrementalMatchesWhole<ResponseHead>(data, everyByte(data.size()), parseResponseHead);
    for (uint32_t seed = 1; seed <= 20; ++seed) {
      expectIncrementalMatchesWhole<ResponseHead>(data, testing::randomSplits(data.size(), seed), parseResponseHead);
    }
  }
}

// ---- Responses ----

TEST(Http1ResponseParser, ParsesStatusLineAndFields) {
  ResponseHead head;
  const std::string data = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  const HeadResult r = parseResponseHead(data, {}, head);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, data.size());
  EXPECT_EQ(head.status, 404);
  EXPECT_EQ(head.reason, "Not Found");
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(head.headers.get("content-length"), "0");
}

TEST(Http1ResponseParser, AcceptsEmptyReasonWithOrWithoutItsSpace) {
  for (const char* line : {"HTTP/1.0 200 ", "HTTP/1.0 200"}) {
    ResponseHead head;
    ASSERT_EQ(parseResponseHead(std::string(line) + "\r\n\r\n", {}, head).status, ParseStatus::Complete) << line;
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.reason, "");
    EXPECT_EQ(head.version_minor, 0);
  }
}

TEST(Http1ResponseParser, AcceptsReasonWithSpacesTabsAndObsText) {
  ResponseHead head;
  ASSERT_EQ(parseResponseHead("HTTP/1.1 599 Not \tOK caf\xc3\xa9\r\n\r\n", {}, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.status, 599);
  EXPECT_EQ(head.reason, "Not \tOK caf\xc3\xa9");
}

TEST(Http1ResponseParser, AcceptsStatusFrom100To999) {
  EXPECT_EQ(parseResponse("HTTP/1.1 100 Continue\r\n\r\n").status, ParseStatus::Complete);
  EXPECT_EQ(parseResponse("HTTP/1.1 999 X\r\n\r\n").status, ParseStatus::Complete);
}

TEST(Http1ResponseParser, RejectsMalformedStatusCodeWith502) {
  for (const char* line : {"HTTP/1.1 099 X", "HTTP/1.1 000", "HTTP/1.1 20 OK", "HTTP/1.1 1000 OK", "HTTP/1.1 2x0 OK",
                           "HTTP/1.1  200 OK", "HTTP/1.1 200\tOK", "HTTP/1.1", "HTTP/1.1 "}) {
    EXPECT_TRUE(failsWith(parseResponse(std::string(line) + "\r\n\r\n"), 502, details::kCodecError)) << line;
  }
}

TEST(Http1ResponseParser, RejectsUnsupportedVersionWith502) {
  EXPECT_TRUE(failsWith(parseResponse("HTTP/2.0 200 OK\r\n\r\n"), 502, details::kUnsupportedVersion));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.2 200 OK\r\n\r\n"), 502, details::kUnsupportedVersion));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1x200 OK\r\n\r\n"), 502, details::kCodecError));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1 200 OK\r\n\r\n"), 502, details::kCodecError));
}

TEST(Http1ResponseParser, RejectsControlCharactersInReason) {
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 200 O\x01K\r\n\r\n"), 502, details::kInvalidCharacters));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 200 O\rK\r\n\r\n"), 502, details::kCodecError));
}

TEST(Http1ResponseParser, AppliesFieldRulesWith502) {
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 502, details::kCodecError));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), 502, details::kInvalidCharacters));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 200 OK\r\nX: a\n\r\n"), 502, details::kCodecError));
  Limits limits;
  limits.max_header_bytes = 30;
  EXPECT_TRUE(
      failsWith(parseResponse("HTTP/1.1 200 OK\r\nX: 0123456789\r\n\r\n", limits), 502, details::kHeadersTooLarge));
}

// Every field-line rule of requests, on a response: each answers 502.
TEST(Http1ResponseParser, AppliesEveryFieldLineRuleWith502) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"X: a\rb\r\n", details::kCodecError},                              // bare CR
      {"X: a\n", details::kCodecError},                                   // bare LF as a line end
      {"X: a\r\n\tb\r\n", details::kCodecError},                          // obs-fold
      {"X\t: a\r\n", details::kInvalidCharacters},                        // whitespace before the colon
      {"X(y): a\r\n", details::kInvalidCharacters},                       // non-token name
      {std::string_view("X: a\0b\r\n", 8), details::kInvalidCharacters},  // NUL
      {"X: a\x01"
       "b\r\n",
       details::kInvalidCharacters},                  // control character
      {"X: a\x7f\r\n", details::kInvalidCharacters},  // DEL
      {": a\r\n", details::kCodecError},              // empty name
      {"X a\r\n", details::kInvalidCharacters},       // no colon (space in the name)
  };
  for (const auto& [field, detail] : cases) {
    const std::string data = "HTTP/1.1 200 OK\r\n" + std::string(field) + "\r\n";
    EXPECT_TRUE(failsWith(parseResponse(data), 502, detail)) << data;
  }
}

TEST(Http1ResponseParser, RejectsTooManyHeadersWith502) {
  Limits limits;
  limits.max_headers_count = 2;
  EXPECT_EQ(parseResponse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", limits).status, ParseStatus::Complete);
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits), 502,
                        details::kTooManyHeaders));
}

TEST(Http1ResponseParser, DoesNotSkipLeadingEmptyLines) {
  EXPECT_TRUE(failsWith(parseResponse("\r\nHTTP/1.1 200 OK\r\n\r\n"), 502, details::kCodecError));
}

TEST(Http1ResponseParser, RejectsInvalidStatusLineBeforeItIsComplete) {
  EXPECT_TRUE(failsWith(parseResponse("HTTX"), 502, details::kCodecError));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 0"), 502, details::kCodecError));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/2.0"), 502, details::kUnsupportedVersion));
  EXPECT_TRUE(failsWith(parseResponse("HTTP/1.1 200 \x01"), 502, details::kInvalidCharacters));
  EXPECT_EQ(parseResponse("HTTP/1.1 200 O").status, ParseStatus::Incomplete);
}

// ---- Trailer sections ----

TEST(Http1TrailerParser, ParsesEmptyAndNonEmptySections) {
  HeaderMap trailers;
  HeadResult r = parseTrailerSection("\r\nrest", {}, trailers);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, 2u);
  EXPECT_TRUE(trailers.empty());
  const std::string section = "Checksum: abc\r\nX: 1\r\n\r\n";
  r = parseTrailerSection(section + "rest", {}, trailers);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.consumed, section.size());
  EXPECT_EQ(entries(trailers), (decltype(entries(trailers)){{"checksum", "abc"}, {"x", "1"}}));
}

TEST(Http1TrailerParser, RejectsInvalidTrailerLines) {
  HeaderMap trailers;
  EXPECT_TRUE(failsWith(parseTrailerSection("X: a\r\n b\r\n\r\n", {}, trailers), 400, details::kCodecError));
  EXPECT_TRUE(failsWith(parseTrailerSection("\n", {}, trailers), 400, details::kCodecError));
  EXPECT_TRUE(failsWith(parseTrailerSection("X: \x02\r\n\r\n", {}, trailers), 400, details::kInvalidCharacters));
}

}  // namespace
}  // namespace sluice::http::http1

namespace sluice::http::http1 {
namespace {

TEST(Http1WorthReparsing, FirstLookAlwaysParses) { EXPECT_TRUE(worthReparsing("GET / HT", 0, 1024)); }

TEST(Http1WorthReparsing, SkipsBytesThatEndNoLine) {
  const std::string data = "GET / HTTP/1.1\r\nHost: exa";
  EXPECT_FALSE(worthReparsing(data, data.size() - 2, 1024));
}

TEST(Http1WorthReparsing, ParsesOnceALineEnds) {
  const std::string data = "GET / HTTP/1.1\r\nHost: example\r\n";
  EXPECT_TRUE(worthReparsing(data, data.size() - 3, 1024));
}

TEST(Http1WorthReparsing, ParsesWhenTheDataDoubledOrPassedTheLimit) {
  const std::string data(100, 'a');
  EXPECT_TRUE(worthReparsing(data, 50, 1024));   // doubled: an invalid byte is found within 2x
  EXPECT_FALSE(worthReparsing(data, 60, 1024));  // neither
  EXPECT_TRUE(worthReparsing(data, 60, 99));     // over the limit: 431 at once
}

TEST(Http1WorthReparsing, ABytewiseHeadStillParsesExactlyOnceComplete) {
  const std::string head = "GET /x HTTP/1.1\r\nHost: example\r\nX-Long: " + std::string(4000, 'v') + "\r\n\r\n";
  Limits limits;
  RequestHead request;
  size_t scanned = 0;
  int parses = 0;
  for (size_t n = 1; n <= head.size(); ++n) {
    const std::string_view data(head.data(), n);
    if (!worthReparsing(data, scanned, limits.max_header_bytes)) continue;
    ++parses;
    const auto result = parseRequestHead(data, limits, request);
    scanned = n;
    if (n < head.size()) {
      ASSERT_EQ(result.status, ParseStatus::Incomplete) << n;
    } else {
      ASSERT_EQ(result.status, ParseStatus::Complete);
      EXPECT_EQ(request.target, "/x");
    }
  }
  EXPECT_EQ(scanned, head.size());
  EXPECT_LT(parses, 30);  // line ends and doublings, not one parse per byte (4,040)
}

}  // namespace
}  // namespace sluice::http::http1
