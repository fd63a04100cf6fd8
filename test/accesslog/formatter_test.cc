// The access-log formatter: every supported operator, escaping, typed JSON
// values, nested JSON and the syntax errors a config gets.
#include "accesslog/formatter.h"

#include <gtest/gtest.h>

#include "config/yaml_to_proto.h"

namespace sluice::accesslog {
namespace {

using namespace std::chrono_literals;

class FormatterTest : public ::testing::Test {
 protected:
  FormatterTest() {
    info.reset();
    info.start = StreamInfo::Clock::time_point(100s);
    info.connection_id = 7;
    info.downstream_remote = {asio::ip::make_address("10.0.0.1"), 40000};
    info.downstream_local = {asio::ip::make_address("::1"), 8080};
    request.add("host", "shop.example.com");
    request.add("user-agent", "curl/8");
    request.add("x-long", "abcdefghij");
    response.add("x-envoy-upstream-service-time", "12");
  }

  LogContext context(bool with_response = true) const {
    // 2016-04-15T20:17:00.310123456Z
    const auto wall =
        std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(1460751420) + std::chrono::nanoseconds(310123456)));
    return LogContext{
        info, &request, "POST", "/api/v1?x=1", 1, with_response ? &response : nullptr, info.start + 1234ms, wall};
  }

  std::string text(std::string_view format, bool with_response = true, bool omit = false) const {
    config::ErrorList errors;
    auto f = Formatter::text(format, "fmt", errors, omit);
    EXPECT_TRUE(errors.empty()) << errors.toString();
    if (!f) return "<error>";
    std::string out;
    f->format(context(with_response), out);
    return out;
  }

  std::string json(std::string_view yaml) const {
    envoy::config::core::v3::SubstitutionFormatString config;
    config::ErrorList errors;
    config::parseYamlInto(yaml, config, errors);
    auto f = Formatter::build(config, "log_format", errors);
    EXPECT_TRUE(errors.empty()) << errors.toString();
    if (!f) return "<error>";
    std::string out;
    f->format(context(), out);
    return out;
  }

  std::string error(std::string_view format) const {
    config::ErrorList errors;
    auto f = Formatter::text(format, "fmt", errors);
    EXPECT_EQ(f, nullptr);
    return errors.toString();
  }

  StreamInfo info;
  http::HeaderMap request;
  http::HeaderMap response;
};

TEST_F(FormatterTest, StartTimeDefaultsToIso8601UtcWithMilliseconds) {
  EXPECT_EQ(text("%START_TIME%"), "2016-04-15T20:17:00.310Z");
}

TEST_F(FormatterTest, StartTimeTakesStrftimeWithEnvoySpecifiers) {
  EXPECT_EQ(text("%START_TIME(%Y/%m/%d %H:%M:%S)%"), "2016/04/15 20:17:00");
  EXPECT_EQ(text("%START_TIME(%s.%3f)%"), "1460751420.310");
  EXPECT_EQ(text("%START_TIME(%s.%6f)%"), "1460751420.310123");
  EXPECT_EQ(text("%START_TIME(%f)%"), "310123456");
  EXPECT_EQ(text("%START_TIME(%1f|%%)%"), "3|%");
}

TEST_F(FormatterTest, RequestHeadersWithAlternativeAndTruncation) {
  EXPECT_EQ(text("%REQ(USER-AGENT)%"), "curl/8");
  EXPECT_EQ(text("%REQ(x-missing?User-Agent)%"), "curl/8");
  EXPECT_EQ(text("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"), "/api/v1?x=1");
  EXPECT_EQ(text("%REQ(:METHOD)% %REQ(:AUTHORITY)% %REQ(HOST)% %REQ(:SCHEME)%"),
            "POST shop.example.com "
            "shop.example.com http");
  EXPECT_EQ(text("%REQ(X-LONG):3%"), "abc");
  EXPECT_EQ(text("%REQ(X-MISSING)%"), "-");
}

TEST_F(FormatterTest, ResponseHeadersAreAbsentWithoutAResponse) {
  info.response_code = 200;
  EXPECT_EQ(text("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESP(:STATUS)%"), "12 200");
  EXPECT_EQ(text("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", false), "-");
}

TEST_F(FormatterTest, StreamOperators) {
  info.response_code = 503;
  info.response_flags = kUpstreamConnectionFailure | kNoHealthyUpstream;
  info.response_code_details = "upstream_reset_before_response_started{connection failure}";
  info.bytes_received = 5;
  info.bytes_sent = 91;
  info.upstream_host = "127.0.0.1:9";
  info.upstream_cluster = "web";
  info.route_name = "r1";
  info.upstream_connect_errno = ECONNREFUSED;
  info.upstream_local = {asio::ip::make_address("127.0.0.1"), 51000};
  EXPECT_EQ(text("%PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT%"),
            "HTTP/1.1 503 UH,UF 5 91");
  EXPECT_EQ(text("%RESPONSE_CODE_DETAILS%"), "upstream_reset_before_response_started{connection_failure}");
  EXPECT_EQ(text("%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%"),
            "upstream_reset_before_response_started{connection failure}");
  EXPECT_EQ(text("%UPSTREAM_HOST% %UPSTREAM_CLUSTER% %ROUTE_NAME% %UPSTREAM_LOCAL_ADDRESS%"),
            "127.0.0.1:9 web r1 127.0.0.1:51000");
  EXPECT_EQ(text("%UPSTREAM_TRANSPORT_FAILURE_REASON%"), "delayed_connect_error:_Connection_refused");
  EXPECT_EQ(text("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %CONNECTION_ID%"),
            "10.0.0.1:40000 [::1]:8080 7");
  EXPECT_FALSE(text("%HOSTNAME%").empty());
}

TEST_F(FormatterTest, DownstreamRemoteAddressIsTheTrustedClient) {
  const std::string f =
      "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS% "
      "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%";
  // No trusted address from x-forwarded-for: the peer, everywhere.
  EXPECT_EQ(text(f), "10.0.0.1:40000 10.0.0.1 10.0.0.1:40000 10.0.0.1");
  // From x-forwarded-for: no port (Envoy prints 0); the direct ones stay the peer's.
  info.downstream_client.from_xff = true;
  info.downstream_client.address = asio::ip::make_address("2001:db8::7");
  EXPECT_EQ(text(f), "[2001:db8::7]:0 2001:db8::7 10.0.0.1:40000 10.0.0.1");
  // A new stream starts from the peer again.
  info.reset();
  EXPECT_EQ(text("%DOWNSTREAM_REMOTE_ADDRESS%"), "10.0.0.1:40000");
}

TEST_F(FormatterTest, Durations) {
  EXPECT_EQ(text("%DURATION% %REQUEST_DURATION% %RESPONSE_DURATION%"), "1234 - -");
  info.request_complete = info.start + 3ms;
  info.first_upstream_byte = info.start + 40ms;
  EXPECT_EQ(text("%DURATION% %REQUEST_DURATION% %RESPONSE_DURATION%"), "1234 3 40");
}

TEST_F(FormatterTest, NothingToReportIsADashOrNothingWithOmitEmptyValues) {
  EXPECT_EQ(text("[%UPSTREAM_HOST%] [%RESPONSE_FLAGS%] [%RESPONSE_CODE%]"), "[-] [-] [0]");
  EXPECT_EQ(text("[%UPSTREAM_HOST%]", true, true), "[]");
}

TEST_F(FormatterTest, PercentPercentIsALiteralPercent) { EXPECT_EQ(text("100%% %PROTOCOL%%%"), "100% HTTP/1.1%"); }

TEST_F(FormatterTest, DefaultFormatIsEnvoys) {
  info.response_code = 200;
  EXPECT_EQ(text(kDefaultFormat),
            "[2016-04-15T20:17:00.310Z] \"POST /api/v1?x=1 HTTP/1.1\" 200 - 0 0 1234 12 \"-\" \"curl/8\" \"-\" "
            "\"shop.example.com\" \"-\"\n");
}

TEST_F(FormatterTest, JsonKeepsTheTypeOfALoneOperator) {
  info.response_code = 404;
  info.response_flags = kNoRouteFound;
  EXPECT_EQ(json(R"(json_format: {code: "%RESPONSE_CODE%", flags: "%RESPONSE_FLAGS%", host: "%UPSTREAM_HOST%",
                                  mixed: "code=%RESPONSE_CODE% up=%UPSTREAM_HOST%", n: 1.5, b: true})"),
            R"({"b":true,"code":404,"flags":"NR","host":null,"mixed":"code=404 up=-","n":1.5})"
            "\n");
}

TEST_F(FormatterTest, JsonNestsObjects) {
  EXPECT_EQ(json(R"(json_format: {request: {method: "%REQ(:METHOD)%", ua: "%REQ(USER-AGENT)%"}, d: "%DURATION%"})"),
            R"({"d":1234,"request":{"method":"POST","ua":"curl/8"}})"
            "\n");
}

TEST_F(FormatterTest, JsonOmitsEmptyValuesWhenAsked) {
  EXPECT_EQ(json(R"(omit_empty_values: true
json_format: {host: "%UPSTREAM_HOST%", code: "%RESPONSE_CODE%", both: "%UPSTREAM_HOST%%ROUTE_NAME%"})"),
            R"({"code":0})"
            "\n");
}

TEST_F(FormatterTest, JsonEscapesQuotesControlsAndInvalidUtf8) {
  request.add("x-evil", std::string("a\"b\\c\x01\xc3\xa9\xff", 9));
  EXPECT_EQ(json(R"(json_format: {v: "%REQ(X-EVIL)%", "k\"ey": "x"})"),
            "{\"k\\\"ey\":\"x\",\"v\":\"a\\\"b\\\\c\\u0001\xc3\xa9\\u00ff\"}\n");
}

TEST_F(FormatterTest, TextFormatSourceAndDeprecatedTextFormat) {
  info.response_code = 201;
  EXPECT_EQ(json("text_format_source: {inline_string: \"%RESPONSE_CODE%\\n\"}"), "201\n");
  EXPECT_EQ(json("text_format: \"%RESPONSE_CODE%!\""), "201!");
}

TEST_F(FormatterTest, RejectsUnknownOperators) {
  EXPECT_NE(error("%NOPE%").find("fmt: unknown command operator %NOPE% (sluice supports: START_TIME REQ"),
            std::string::npos);
}

TEST_F(FormatterTest, RejectsMalformedOperators) {
  EXPECT_NE(error("abc %REQ(X").find("unterminated '('"), std::string::npos);
  EXPECT_NE(error("%PROTOCOL").find("is not closed by '%'"), std::string::npos);
  EXPECT_NE(error("50% off").find("'%' starts no command operator"), std::string::npos);
  EXPECT_NE(error("%").find("'%' starts no command operator"), std::string::npos);
  EXPECT_NE(error("%DURATION(x)%").find("%DURATION% takes no parameters"), std::string::npos);
  EXPECT_NE(error("%DURATION:3%").find("takes no length limit"), std::string::npos);
  EXPECT_NE(error("%REQ%").find("needs a parameter"), std::string::npos);
  EXPECT_NE(error("%REQ(A?B?C)%").find("more than one alternative"), std::string::npos);
  EXPECT_NE(error("%REQ(A):x%").find("bad length"), std::string::npos);
  EXPECT_NE(error("%RESPONSE_CODE_DETAILS(X)%").find("only ALLOW_WHITESPACES"), std::string::npos);
}

TEST_F(FormatterTest, JsonErrorsNameTheKey) {
  envoy::config::core::v3::SubstitutionFormatString config;
  config::ErrorList errors;
  config::parseYamlInto(R"(json_format: {outer: {inner: "%BAD%"}, list: [1]})", config, errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(Formatter::build(config, "log_format", errors), nullptr);
  const std::string all = errors.toString();
  EXPECT_NE(all.find("log_format.json_format[\"outer\"][\"inner\"]: unknown command operator %BAD%"), std::string::npos)
      << all;
  EXPECT_NE(all.find("log_format.json_format[\"list\"]: json_format values must be"), std::string::npos) << all;
}

}  // namespace
}  // namespace sluice::accesslog
