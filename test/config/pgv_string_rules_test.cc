// validateRules: string and bytes rules, accepted and rejected.
#include "config/pgv_test_util.h"

namespace sluice::config {
namespace {

// ---------------------------------------------------------------------------
// Strings.

TEST(PgvValidatorTest, AcceptsStringEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kString, "string { const: 'abc' }", "v: 'abc'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kString, "string { const: 'abc' }", "v: 'abd'")), "v: must equal \"abc\"");
}

TEST(PgvValidatorTest, AcceptsStringOfExactLengthInCodePoints) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len: 3 }", "v: '日本語'")), "");
}

TEST(PgvValidatorTest, RejectsStringOfOtherLength) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len: 3 }", "v: '日本'")), "v: must be exactly 3 characters long");
}

TEST(PgvValidatorTest, AcceptsStringWithinMaxLenInCodePoints) {
  EXPECT_EQ(errorsOf(withField(kString, "string { max_len: 2 }", "v: '日本'")), "");
}

TEST(PgvValidatorTest, RejectsStringAboveMaxLen) {
  EXPECT_EQ(errorsOf(withField(kString, "string { max_len: 2 }", "v: '日本語'")),
            "v: must be at most 2 characters long");
}

TEST(PgvValidatorTest, AcceptsStringOfExactByteLength) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len_bytes: 4 }", "v: 'abcd'")), "");
}

TEST(PgvValidatorTest, RejectsStringOfOtherByteLength) {
  EXPECT_EQ(errorsOf(withField(kString, "string { len_bytes: 4 }", "v: '日本'")), "v: must be exactly 4 bytes long");
}

TEST(PgvValidatorTest, AcceptsStringOfMinBytes) {
  EXPECT_EQ(errorsOf(withField(kString, "string { min_bytes: 4 }", "v: '日本'")), "");
}

TEST(PgvValidatorTest, RejectsStringBelowMinBytes) {
  EXPECT_EQ(errorsOf(withField(kString, "string { min_bytes: 4 }", "v: '日'")), "v: must be at least 4 bytes long");
}

TEST(PgvValidatorTest, AcceptsHeaderKeyOfMaxBytes) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key(std::string(16384, 'k'));
  EXPECT_EQ(errorsOf(header), "");
}

TEST(PgvValidatorTest, RejectsHeaderKeyAboveMaxBytes) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key(std::string(16385, 'k'));
  EXPECT_EQ(errorsOf(header), "key: must be at most 16384 bytes long");
}

TEST(PgvValidatorTest, AcceptsStringMatchingPattern) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::RouteMatch>("path_separated_prefix: '/api'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotMatchingPattern) {
  EXPECT_EQ(errorsOf(parse<envoy::config::route::v3::RouteMatch>("path_separated_prefix: '/api/'")),
            "path_separated_prefix: must match the pattern \"^[^?#]+[^?#/]$\"");
}

TEST(PgvValidatorTest, ReportsRulePatternThatDoesNotCompile) {
  EXPECT_EQ(errorsOf(withField(kString, "string { pattern: '(' }", "v: 'x'")),
            "v: has a rule pattern \"(\" that does not compile: missing ): (");
}

TEST(PgvValidatorTest, AcceptsStringWithPrefix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { prefix: '/api' }", "v: '/api/v1'")), "");
}

TEST(PgvValidatorTest, RejectsStringWithoutPrefix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { prefix: '/api' }", "v: '/v1'")), "v: must start with \"/api\"");
}

TEST(PgvValidatorTest, AcceptsStringWithSuffix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { suffix: '.json' }", "v: 'a.json'")), "");
}

TEST(PgvValidatorTest, RejectsStringWithoutSuffix) {
  EXPECT_EQ(errorsOf(withField(kString, "string { suffix: '.json' }", "v: 'a.yaml'")), "v: must end with \".json\"");
}

TEST(PgvValidatorTest, AcceptsStringContainingSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { contains: '@' }", "v: 'a@b'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotContainingSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { contains: '@' }", "v: 'ab'")), "v: must contain \"@\"");
}

TEST(PgvValidatorTest, AcceptsStringWithoutExcludedSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_contains: '..' }", "v: 'a/b'")), "");
}

TEST(PgvValidatorTest, RejectsStringContainingExcludedSubstring) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_contains: '..' }", "v: 'a/../b'")), "v: must not contain \"..\"");
}

TEST(PgvValidatorTest, AcceptsStringInList) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::SchemeHeaderTransformation>("scheme_to_overwrite: 'https'")), "");
}

TEST(PgvValidatorTest, RejectsStringNotInList) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::SchemeHeaderTransformation>("scheme_to_overwrite: 'ftp'")),
            "scheme_to_overwrite: must be one of [\"http\", \"https\"]");
}

TEST(PgvValidatorTest, AcceptsStringNotInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_in: ['admin', 'root'] }", "v: 'web'")), "");
}

TEST(PgvValidatorTest, RejectsStringInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kString, "string { not_in: ['admin', 'root'] }", "v: 'root'")),
            "v: must not be one of [\"admin\", \"root\"]");
}

TEST(PgvValidatorTest, AcceptsEmail) {
  EXPECT_EQ(errorsOf(withField(kString, "string { email: true }", "v: 'ops.team+envoy@example.com'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidEmail) {
  EXPECT_EQ(errorsOf(withField(kString, "string { email: true }", "v: 'ops@@example.com'")),
            "v: must be a valid email address");
}

TEST(PgvValidatorTest, AcceptsHostname) {
  EXPECT_EQ(errorsOf(withField(kString, "string { hostname: true }", "v: 'api-1.Example.com.'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidHostname) {
  EXPECT_EQ(errorsOf(withField(kString, "string { hostname: true }", "v: '-api.example.com'")),
            "v: must be a valid hostname");
}

TEST(PgvValidatorTest, AcceptsIpAddressOfEitherFamily) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ip: true }", "v: '10.0.0.1'")), "");
  EXPECT_EQ(errorsOf(withField(kString, "string { ip: true }", "v: '::1'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidIpAddress) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ip: true }", "v: '10.0.0'")), "v: must be a valid IP address");
}

TEST(PgvValidatorTest, AcceptsIpv4Address) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv4: true }", "v: '192.168.1.255'")), "");
}

TEST(PgvValidatorTest, RejectsIpv6WhereIpv4Required) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv4: true }", "v: '::1'")), "v: must be a valid IPv4 address");
}

TEST(PgvValidatorTest, AcceptsIpv6Address) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv6: true }", "v: 'fe80::1:2'")), "");
}

TEST(PgvValidatorTest, RejectsIpv4WhereIpv6Required) {
  EXPECT_EQ(errorsOf(withField(kString, "string { ipv6: true }", "v: '10.0.0.1'")), "v: must be a valid IPv6 address");
}

TEST(PgvValidatorTest, AcceptsAbsoluteUri) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri: true }", "v: 'https://user@[::1]:8443/a%20b?q=1#top'")), "");
}

TEST(PgvValidatorTest, RejectsRelativeReferenceWhereUriRequired) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri: true }", "v: '/relative/path'")),
            "v: must be a valid absolute URI");
}

TEST(PgvValidatorTest, AcceptsRelativeUriReference) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri_ref: true }", "v: '../a?b=c'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidUriReference) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uri_ref: true }", "v: 'http://exa mple.com/'")),
            "v: must be a valid URI reference");
}

TEST(PgvValidatorTest, AcceptsHostnameOrIpAsAddress) {
  EXPECT_EQ(errorsOf(withField(kString, "string { address: true }", "v: 'example.com'")), "");
  EXPECT_EQ(errorsOf(withField(kString, "string { address: true }", "v: '2001:db8::1'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidAddress) {
  EXPECT_EQ(errorsOf(withField(kString, "string { address: true }", "v: 'exa_mple.com'")),
            "v: must be a valid hostname or IP address");
}

TEST(PgvValidatorTest, AcceptsUuid) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uuid: true }", "v: '123e4567-E89B-12d3-a456-426614174000'")), "");
}

TEST(PgvValidatorTest, RejectsInvalidUuid) {
  EXPECT_EQ(errorsOf(withField(kString, "string { uuid: true }", "v: '123e4567e89b12d3a456426614174000'")),
            "v: must be a valid UUID");
}

TEST(PgvValidatorTest, AcceptsStrictHeaderNameOrEmptyWithIgnoreEmpty) {
  using Entry = envoy::config::core::v3::AlternateProtocolsCacheOptions::AlternateProtocolsCacheEntry;
  EXPECT_EQ(errorsOf(parse<Entry>("port: 443")), "");
  EXPECT_EQ(errorsOf(parse<Entry>("hostname: 'www.example.com' port: 443")), "");
}

TEST(PgvValidatorTest, RejectsInvalidStrictHeaderName) {
  using Entry = envoy::config::core::v3::AlternateProtocolsCacheOptions::AlternateProtocolsCacheEntry;
  EXPECT_EQ(errorsOf(parse<Entry>("hostname: 'www example.com' port: 443")),
            "hostname: must be a valid HTTP header name");
}

TEST(PgvValidatorTest, AcceptsNonStrictHeaderNameWithSpace) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::HeaderValue>("key: 'x-my header'")), "");
}

TEST(PgvValidatorTest, RejectsNonStrictHeaderNameWithCrLf) {
  EXPECT_EQ(errorsOf(parse<envoy::config::core::v3::HeaderValue>("key: 'x-a\\r\\nb'")),
            "key: must not contain NUL, CR or LF characters");
}

TEST(PgvValidatorTest, AcceptsStrictHeaderValueWithTab) {
  EXPECT_EQ(errorsOf(withField(kString, "string { well_known_regex: HTTP_HEADER_VALUE }", "v: 'text/html;\\tq=1'")),
            "");
}

TEST(PgvValidatorTest, RejectsStrictHeaderValueWithControlCharacter) {
  EXPECT_EQ(errorsOf(withField(kString, "string { well_known_regex: HTTP_HEADER_VALUE }", "v: 'a\\001b'")),
            "v: must be a valid HTTP header value (no control characters)");
}

TEST(PgvValidatorTest, AcceptsUnsetOrValidWrappedString) {
  constexpr std::string_view kStringValue = "type: TYPE_MESSAGE type_name: '.google.protobuf.StringValue'";
  EXPECT_EQ(errorsOf(withField(kStringValue, "string { min_len: 2 }", "")), "");
  EXPECT_EQ(errorsOf(withField(kStringValue, "string { min_len: 2 }", "v { value: 'ab' }")), "");
}

TEST(PgvValidatorTest, RejectsWrappedStringBreakingItsRule) {
  constexpr std::string_view kStringValue = "type: TYPE_MESSAGE type_name: '.google.protobuf.StringValue'";
  EXPECT_EQ(errorsOf(withField(kStringValue, "string { min_len: 2 }", "v { value: 'a' }")),
            "v: must be at least 2 characters long");
}

// ---------------------------------------------------------------------------
// Bytes.

TEST(PgvValidatorTest, AcceptsBytesEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { const: '\\001\\002' }", "v: '\\001\\002'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotEqualToConst) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { const: '\\001\\002' }", "v: '\\001\\003'")),
            "v: must equal \"\\x01\\x02\"");
}

TEST(PgvValidatorTest, AcceptsBytesOfExactLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { len: 4 }", "v: 'abcd'")), "");
}

TEST(PgvValidatorTest, RejectsBytesOfOtherLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { len: 4 }", "v: 'abc'")), "v: must be exactly 4 bytes long");
}

TEST(PgvValidatorTest, AcceptsBytesOfMinLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { min_len: 2 }", "v: 'ab'")), "");
}

TEST(PgvValidatorTest, RejectsBytesBelowMinLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { min_len: 2 }", "v: 'a'")), "v: must be at least 2 bytes long");
}

TEST(PgvValidatorTest, AcceptsBytesOfMaxLength) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key("k");
  header.set_raw_value(std::string(16384, '\0'));
  EXPECT_EQ(errorsOf(header), "");
}

TEST(PgvValidatorTest, RejectsBytesAboveMaxLength) {
  envoy::config::core::v3::HeaderValue header;
  header.set_key("k");
  header.set_raw_value(std::string(16385, '\0'));
  EXPECT_EQ(errorsOf(header), "raw_value: must be at most 16384 bytes long");
}

TEST(PgvValidatorTest, AcceptsBytesMatchingPattern) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { pattern: '^[a-f0-9]+$' }", "v: 'c0ffee'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotMatchingPattern) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { pattern: '^[a-f0-9]+$' }", "v: 'tea'")),
            "v: must match the pattern \"^[a-f0-9]+$\"");
}

TEST(PgvValidatorTest, AcceptsBytesWithPrefix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { prefix: 'PK' }", "v: 'PK\\003\\004'")), "");
}

TEST(PgvValidatorTest, RejectsBytesWithoutPrefix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { prefix: 'PK' }", "v: 'GIF8'")), "v: must start with \"PK\"");
}

TEST(PgvValidatorTest, AcceptsBytesWithSuffix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { suffix: '\\000' }", "v: 'ab\\000'")), "");
}

TEST(PgvValidatorTest, RejectsBytesWithoutSuffix) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { suffix: '\\000' }", "v: 'ab'")), "v: must end with \"\\x00\"");
}

TEST(PgvValidatorTest, AcceptsBytesContainingSequence) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { contains: '\\r\\n' }", "v: 'a\\r\\nb'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotContainingSequence) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { contains: '\\r\\n' }", "v: 'a\\nb'")),
            "v: must contain \"\\x0d\\x0a\"");
}

TEST(PgvValidatorTest, AcceptsBytesInList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { in: ['a', 'b'] }", "v: 'b'")), "");
}

TEST(PgvValidatorTest, RejectsBytesNotInList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { in: ['a', 'b'] }", "v: 'c'")), "v: must be one of [\"a\", \"b\"]");
}

TEST(PgvValidatorTest, AcceptsBytesNotInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { not_in: ['a'] }", "v: 'b'")), "");
}

TEST(PgvValidatorTest, RejectsBytesInExcludedList) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { not_in: ['a'] }", "v: 'a'")), "v: must not be one of [\"a\"]");
}

TEST(PgvValidatorTest, AcceptsBytesIpOfEitherLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ip: true }", "v: '\\n\\000\\000\\001'")), "");
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ip: true }", "v: '0123456789abcdef'")), "");
}

TEST(PgvValidatorTest, RejectsBytesIpOfOtherLength) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ip: true }", "v: 'abc'")), "v: must be an IP address (4 or 16 bytes)");
}

TEST(PgvValidatorTest, AcceptsBytesIpv4OfFourBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv4: true }", "v: 'abcd'")), "");
}

TEST(PgvValidatorTest, RejectsBytesIpv4OfSixteenBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv4: true }", "v: '0123456789abcdef'")),
            "v: must be an IPv4 address (4 bytes)");
}

TEST(PgvValidatorTest, AcceptsBytesIpv6OfSixteenBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv6: true }", "v: '0123456789abcdef'")), "");
}

TEST(PgvValidatorTest, RejectsBytesIpv6OfFourBytes) {
  EXPECT_EQ(errorsOf(withField(kBytes, "bytes { ipv6: true }", "v: 'abcd'")), "v: must be an IPv6 address (16 bytes)");
}

}  // namespace
}  // namespace sluice::config
