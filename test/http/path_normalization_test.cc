#include "http/path_normalization.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::http {
namespace {

std::string canonical(std::string target) {
  canonicalizePath(target);
  return target;
}

std::string merged(std::string target) {
  mergeSlashes(target);
  return target;
}

struct Normalized {
  PathVerdict verdict;
  std::string target;
};

Normalized normalize(std::string target, PathNormalizationOptions options) {
  const PathVerdict verdict = normalizeRequestPath(target, options);
  return {verdict, target};
}

TEST(PathNormalization, RemovesDotSegmentsAsRfc3986Says) {
  EXPECT_EQ(canonical("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(canonical("/a/./b"), "/a/b");
  EXPECT_EQ(canonical("/a/b/.."), "/a/");
  EXPECT_EQ(canonical("/a/b/."), "/a/b/");
  EXPECT_EQ(canonical("/a//../b"), "/a/b");
  EXPECT_EQ(canonical("/info/../private"), "/private");
}

TEST(PathNormalization, KeepsDotDotAtTheRoot) {
  EXPECT_EQ(canonical("/.."), "/");
  EXPECT_EQ(canonical("/../../a"), "/a");
  EXPECT_EQ(canonical("/./"), "/");
}

TEST(PathNormalization, LeavesSegmentsThatOnlyContainDots) {
  EXPECT_EQ(canonical("/a/.../b"), "/a/.../b");
  EXPECT_EQ(canonical("/a/..b/.c"), "/a/..b/.c");
}

TEST(PathNormalization, DecodesEscapedUnreservedCharacters) {
  EXPECT_EQ(canonical("/%61%62%43%7e%2D%5f%30"), "/abC~-_0");
}

TEST(PathNormalization, DecodesEscapedDotsBeforeRemovingDotSegments) {
  EXPECT_EQ(canonical("/a/%2e%2E/b"), "/b");
  EXPECT_EQ(canonical("/a/.%2e/b"), "/b");
  EXPECT_EQ(canonical("/a/%2e/b"), "/a/b");
}

TEST(PathNormalization, KeepsOtherEscapesAndInvalidPercentSequences) {
  EXPECT_EQ(canonical("/a%2Fb%20c%3f"), "/a%2Fb%20c%3f");
  EXPECT_EQ(canonical("/100%/%zz/%4"), "/100%/%zz/%4");
}

TEST(PathNormalization, TreatsBackslashAsSlash) { EXPECT_EQ(canonical("/a\\b\\..\\c"), "/a/c"); }

TEST(PathNormalization, NeverTouchesTheQuery) {
  EXPECT_EQ(canonical("/a/../b?x=/../%61&y=//"), "/b?x=/../%61&y=//");
  EXPECT_EQ(merged("//a//b?c//d"), "/a/b?c//d");
}

TEST(PathNormalization, MergesSlashes) {
  EXPECT_EQ(merged("//dir///file"), "/dir/file");
  EXPECT_EQ(merged("/a/b/"), "/a/b/");
}

TEST(PathNormalization, FindsEscapedSlashesInThePathOnly) {
  EXPECT_TRUE(hasEscapedSlashes("/a%2Fb"));
  EXPECT_TRUE(hasEscapedSlashes("/a%2fb"));
  EXPECT_TRUE(hasEscapedSlashes("/a%5Cb"));
  EXPECT_TRUE(hasEscapedSlashes("/a%5c"));
  EXPECT_FALSE(hasEscapedSlashes("/a%2"));
  EXPECT_FALSE(hasEscapedSlashes("/a?b=%2F"));
  EXPECT_FALSE(hasEscapedSlashes("/a%252F"));
}

TEST(PathNormalization, DoesNothingByDefault) {
  const auto r = normalize("/a/../b//c%2Fd/%61", {});
  EXPECT_EQ(r.verdict, PathVerdict::Forward);
  EXPECT_EQ(r.target, "/a/../b//c%2Fd/%61");
}

TEST(PathNormalization, KeepUnchangedLeavesEscapedSlashesEvenWhenNormalizing) {
  const auto r = normalize("/a%2F..%2Fb/../c", {.normalize_path = true});
  EXPECT_EQ(r.verdict, PathVerdict::Forward);
  EXPECT_EQ(r.target, "/c");  // "a%2F..%2Fb" is one segment
}

TEST(PathNormalization, RejectRequestRejectsEscapedSlashes) {
  const PathNormalizationOptions options{.escaped_slashes = EscapedSlashesAction::RejectRequest};
  EXPECT_EQ(normalize("/a%2fb", options).verdict, PathVerdict::Reject);
  EXPECT_EQ(normalize("/a%5Cb", options).verdict, PathVerdict::Reject);
  EXPECT_EQ(normalize("/ab?c=%2F", options).verdict, PathVerdict::Forward);
}

TEST(PathNormalization, UnescapeAndForwardUnescapesBeforeNormalizing) {
  const auto r = normalize(
      "/a%2F..%2Fb%5c%2f/c",
      {.normalize_path = true, .merge_slashes = true, .escaped_slashes = EscapedSlashesAction::UnescapeAndForward});
  EXPECT_EQ(r.verdict, PathVerdict::Forward);
  EXPECT_EQ(r.target, "/b/c");
}

TEST(PathNormalization, UnescapeAndForwardWithoutNormalizingKeepsTheBackslash) {
  const auto r = normalize("/a%5Cb", {.escaped_slashes = EscapedSlashesAction::UnescapeAndForward});
  EXPECT_EQ(r.target, "/a\\b");
}

TEST(PathNormalization, UnescapeAndRedirectRedirectsOnlyWhenThereWasAnEscapedSlash) {
  const PathNormalizationOptions options{.merge_slashes = true,
                                         .escaped_slashes = EscapedSlashesAction::UnescapeAndRedirect};
  const auto r = normalize("/a%2F%2Fb?q=1", options);
  EXPECT_EQ(r.verdict, PathVerdict::Redirect);
  EXPECT_EQ(r.target, "/a/b?q=1");
  const auto plain = normalize("/a//b", options);
  EXPECT_EQ(plain.verdict, PathVerdict::Forward);
  EXPECT_EQ(plain.target, "/a/b");
}

TEST(PathNormalization, LeavesAsteriskAndAuthorityFormAlone) {
  const PathNormalizationOptions all{
      .normalize_path = true, .merge_slashes = true, .escaped_slashes = EscapedSlashesAction::RejectRequest};
  EXPECT_EQ(normalize("*", all).target, "*");
  EXPECT_EQ(normalize("example.com:443", all).target, "example.com:443");
}

}  // namespace
}  // namespace sluice::http
