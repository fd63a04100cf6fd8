// Header and query-parameter conditions of a route.
#include <gtest/gtest.h>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

// A route on `/` guarded by one header matcher, written as a YAML flow map.
class HeaderMatch : public ::testing::Test {
 protected:
  bool matches(std::string_view matcher, const TestRequest& request) {
    auto table = buildTable(singleHost("  - name: r\n    match: {prefix: /, headers: [" + std::string(matcher) +
                                       "]}\n    direct_response: {status: 200}\n"));
    return table != nullptr && matchRoute(*table, request) != nullptr;
  }
  static TestRequest with(std::string_view name, std::string_view value) {
    TestRequest request("/");
    request.header(name, value);
    return request;
  }
};

TEST_F(HeaderMatch, StringMatchExact) {
  EXPECT_TRUE(matches("{name: x-env, string_match: {exact: prod}}", with("x-env", "prod")));
  EXPECT_FALSE(matches("{name: x-env, string_match: {exact: prod}}", with("x-env", "production")));
}

TEST_F(HeaderMatch, StringMatchPrefixSuffixContains) {
  EXPECT_TRUE(matches("{name: ua, string_match: {prefix: curl/}}", with("ua", "curl/8.0")));
  EXPECT_FALSE(matches("{name: ua, string_match: {prefix: curl/}}", with("ua", "wget/1")));
  EXPECT_TRUE(matches("{name: ua, string_match: {suffix: '/8.0'}}", with("ua", "curl/8.0")));
  EXPECT_FALSE(matches("{name: ua, string_match: {suffix: '/8.0'}}", with("ua", "curl/7.0")));
  EXPECT_TRUE(matches("{name: ua, string_match: {contains: bot}}", with("ua", "googlebot/2.1")));
  EXPECT_FALSE(matches("{name: ua, string_match: {contains: bot}}", with("ua", "firefox")));
}

TEST_F(HeaderMatch, StringMatchIgnoreCase) {
  EXPECT_TRUE(matches("{name: x-env, string_match: {exact: PROD, ignore_case: true}}", with("x-env", "prod")));
  EXPECT_TRUE(matches("{name: ua, string_match: {contains: BOT, ignore_case: true}}", with("ua", "GoogleBot")));
  EXPECT_FALSE(matches("{name: x-env, string_match: {exact: PROD}}", with("x-env", "prod")));
}

TEST_F(HeaderMatch, StringMatchSafeRegexIsAFullMatch) {
  EXPECT_TRUE(matches("{name: x-id, string_match: {safe_regex: {regex: '[0-9]{3}'}}}", with("x-id", "123")));
  EXPECT_FALSE(matches("{name: x-id, string_match: {safe_regex: {regex: '[0-9]{3}'}}}", with("x-id", "1234")));
}

TEST_F(HeaderMatch, DeprecatedValueFields) {
  EXPECT_TRUE(matches("{name: a, exact_match: v}", with("a", "v")));
  EXPECT_FALSE(matches("{name: a, exact_match: v}", with("a", "vv")));
  EXPECT_TRUE(matches("{name: a, prefix_match: v}", with("a", "vv")));
  EXPECT_FALSE(matches("{name: a, prefix_match: v}", with("a", "xv")));
  EXPECT_TRUE(matches("{name: a, suffix_match: v}", with("a", "xv")));
  EXPECT_FALSE(matches("{name: a, suffix_match: v}", with("a", "vx")));
  EXPECT_TRUE(matches("{name: a, contains_match: v}", with("a", "xvx")));
  EXPECT_FALSE(matches("{name: a, contains_match: v}", with("a", "xx")));
  EXPECT_TRUE(matches("{name: a, safe_regex_match: {regex: 'v+'}}", with("a", "vvv")));
  EXPECT_FALSE(matches("{name: a, safe_regex_match: {regex: 'v+'}}", with("a", "vx")));
}

TEST_F(HeaderMatch, PresentMatch) {
  EXPECT_TRUE(matches("{name: x-debug, present_match: true}", with("x-debug", "")));
  EXPECT_FALSE(matches("{name: x-debug, present_match: true}", with("other", "1")));
}

TEST_F(HeaderMatch, PresentMatchFalseMatchesAbsence) {
  EXPECT_TRUE(matches("{name: x-debug, present_match: false}", with("other", "1")));
  EXPECT_FALSE(matches("{name: x-debug, present_match: false}", with("x-debug", "1")));
}

TEST_F(HeaderMatch, NoSpecifierMeansPresent) {
  EXPECT_TRUE(matches("{name: x-debug}", with("x-debug", "1")));
  EXPECT_FALSE(matches("{name: x-debug}", with("other", "1")));
}

TEST_F(HeaderMatch, RangeMatchIsHalfOpen) {
  const std::string range = "{name: x-n, range_match: {start: -10, end: 0}}";
  EXPECT_TRUE(matches(range, with("x-n", "-10")));
  EXPECT_TRUE(matches(range, with("x-n", "-1")));
  EXPECT_FALSE(matches(range, with("x-n", "0")));
  EXPECT_FALSE(matches(range, with("x-n", "abc")));
}

TEST_F(HeaderMatch, InvertMatchNegatesEachKind) {
  EXPECT_FALSE(matches("{name: a, string_match: {exact: v}, invert_match: true}", with("a", "v")));
  EXPECT_TRUE(matches("{name: a, string_match: {exact: v}, invert_match: true}", with("a", "w")));
  EXPECT_TRUE(matches("{name: a, safe_regex_match: {regex: '\\d{3}'}, invert_match: true}", with("a", "1234")));
  EXPECT_FALSE(matches("{name: n, range_match: {start: -10, end: 0}, invert_match: true}", with("n", "-1")));
  EXPECT_FALSE(matches("{name: a, present_match: true, invert_match: true}", with("a", "1")));
  EXPECT_TRUE(matches("{name: a, present_match: true, invert_match: true}", with("b", "1")));
}

TEST_F(HeaderMatch, MissingHeaderFailsAndSoMatchesWhenInverted) {
  EXPECT_FALSE(matches("{name: a, string_match: {prefix: v}}", with("b", "v")));
  EXPECT_TRUE(matches("{name: a, string_match: {prefix: v}, invert_match: true}", with("b", "v")));
}

TEST_F(HeaderMatch, TreatMissingHeaderAsEmpty) {
  EXPECT_TRUE(matches("{name: a, string_match: {exact: ''}, treat_missing_header_as_empty: true}", with("b", "v")));
  EXPECT_FALSE(matches("{name: a, string_match: {exact: ''}}", with("b", "v")));
  EXPECT_TRUE(matches("{name: a, string_match: {exact: x}, invert_match: true, treat_missing_header_as_empty: true}",
                      with("b", "v")));
  EXPECT_FALSE(matches("{name: a, string_match: {safe_regex: {regex: '.+'}}, treat_missing_header_as_empty: true}",
                       with("b", "v")));
}

TEST_F(HeaderMatch, RepeatedHeaderIsMatchedAsItsValuesJoinedWithComma) {
  TestRequest request("/");
  request.header("x-tag", "a").header("other", "z").header("X-Tag", "b");
  EXPECT_TRUE(matches("{name: x-tag, string_match: {exact: 'a,b'}}", request));
  EXPECT_FALSE(matches("{name: x-tag, string_match: {exact: a}}", request));
}

TEST_F(HeaderMatch, HeaderNamesAreCaseInsensitive) {
  EXPECT_TRUE(matches("{name: X-Env, string_match: {exact: prod}}", with("x-env", "prod")));
}

TEST_F(HeaderMatch, PseudoHeadersComeFromTheRequest) {
  TestRequest post("/");
  post.method = "POST";
  EXPECT_TRUE(matches("{name: ':method', string_match: {exact: POST}}", post));
  EXPECT_FALSE(matches("{name: ':method', string_match: {exact: POST}}", TestRequest("/")));
  EXPECT_TRUE(matches("{name: ':authority', string_match: {suffix: .com}}", TestRequest("/", "a.example.com")));
}

TEST_F(HeaderMatch, CookiesAreMatchedThroughTheCookieHeader) {
  EXPECT_TRUE(matches("{name: cookie, string_match: {contains: 'beta=1'}}", with("cookie", "a=b; beta=1")));
  EXPECT_FALSE(matches("{name: cookie, string_match: {contains: 'beta=1'}}", with("cookie", "a=b")));
}

TEST_F(HeaderMatch, AllHeaderMatchersMustHold) {
  const std::string both = "{name: a, present_match: true}, {name: b, present_match: true}";
  TestRequest request("/");
  request.header("a", "1");
  EXPECT_FALSE(matches(both, request));
  request.header("b", "1");
  EXPECT_TRUE(matches(both, request));
}

// A route on `/` guarded by one query-parameter matcher.
class QueryMatch : public ::testing::Test {
 protected:
  bool matches(std::string_view matcher, std::string_view path) {
    auto table = buildTable(singleHost("  - name: r\n    match: {prefix: /, query_parameters: [" +
                                       std::string(matcher) + "]}\n    direct_response: {status: 200}\n"));
    return table != nullptr && matchRoute(*table, TestRequest(std::string(path))) != nullptr;
  }
};

TEST_F(QueryMatch, StringMatchOnTheFirstValue) {
  EXPECT_TRUE(matches("{name: debug, string_match: {exact: 'true'}}", "/p?x=1&debug=true"));
  EXPECT_FALSE(matches("{name: debug, string_match: {exact: 'true'}}", "/p?debug=false&debug=true"));
  EXPECT_FALSE(matches("{name: debug, string_match: {exact: 'true'}}", "/p?debugx=true"));
  EXPECT_FALSE(matches("{name: debug, string_match: {exact: 'true'}}", "/p"));
}

TEST_F(QueryMatch, StringMatchKindsAndCase) {
  EXPECT_TRUE(matches("{name: v, string_match: {prefix: ab}}", "/?v=abc"));
  EXPECT_FALSE(matches("{name: v, string_match: {prefix: ab}}", "/?v=cab"));
  EXPECT_TRUE(matches("{name: v, string_match: {exact: ABC, ignore_case: true}}", "/?v=abc"));
  EXPECT_TRUE(matches("{name: v, string_match: {safe_regex: {regex: '[a-c]+'}}}", "/?v=abc"));
  EXPECT_FALSE(matches("{name: v, string_match: {safe_regex: {regex: '[a-c]+'}}}", "/?v=abcd"));
}

TEST_F(QueryMatch, ValuesAreNotPercentDecoded) {
  EXPECT_TRUE(matches("{name: q, string_match: {exact: 'a%20b'}}", "/?q=a%20b"));
  EXPECT_FALSE(matches("{name: q, string_match: {exact: 'a b'}}", "/?q=a%20b"));
}

TEST_F(QueryMatch, PresentMatch) {
  EXPECT_TRUE(matches("{name: flag, present_match: true}", "/?flag"));
  EXPECT_TRUE(matches("{name: flag, present_match: true}", "/?a=1&flag="));
  EXPECT_FALSE(matches("{name: flag, present_match: true}", "/?a=1"));
  EXPECT_FALSE(matches("{name: flag}", "/?a=1#flag"));
  EXPECT_TRUE(matches("{name: flag}", "/?flag=1"));
}

}  // namespace
}  // namespace sluice::router::test
