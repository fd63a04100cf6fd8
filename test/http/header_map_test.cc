#include "http/header_map.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sluice::http {
namespace {

std::vector<std::pair<std::string, std::string>> entries(const HeaderMap& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  headers.forEach([&](const HeaderMap::Entry& e) { out.emplace_back(std::string(e.name), std::string(e.value)); });
  return out;
}

using Entries = std::vector<std::pair<std::string, std::string>>;

TEST(HeaderMap, StoresNamesLowercasedAndGetsThemInAnyCase) {
  HeaderMap headers;
  headers.add("Content-Type", "Text/HTML");
  EXPECT_EQ(headers.get("content-type"), "Text/HTML");
  EXPECT_EQ(headers.get("CONTENT-TYPE"), "Text/HTML");
  EXPECT_TRUE(headers.has("Content-type"));
  EXPECT_EQ(entries(headers), (Entries{{"content-type", "Text/HTML"}}));  // the value keeps its case
}

TEST(HeaderMap, ReturnsNulloptForAbsentNames) {
  HeaderMap headers;
  headers.add("a", "1");
  EXPECT_EQ(headers.get("b"), std::nullopt);
  EXPECT_EQ(headers.get("aa"), std::nullopt);
  EXPECT_FALSE(headers.has(""));
}

TEST(HeaderMap, KeepsDuplicatesInOrder) {
  HeaderMap headers;
  headers.add("Set-Cookie", "a=1");
  headers.add("x", "y");
  headers.add("set-cookie", "b=2");
  EXPECT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers.count("SET-COOKIE"), 2u);
  EXPECT_EQ(headers.get("set-cookie"), "a=1");  // the first
  EXPECT_EQ(entries(headers), (Entries{{"set-cookie", "a=1"}, {"x", "y"}, {"set-cookie", "b=2"}}));
}

TEST(HeaderMap, SetReplacesEveryValueWithOne) {
  HeaderMap headers;
  headers.add("a", "1");
  headers.add("b", "2");
  headers.add("A", "3");
  headers.set("a", "4");
  EXPECT_EQ(headers.count("a"), 1u);
  EXPECT_EQ(headers.get("a"), "4");
  EXPECT_EQ(entries(headers), (Entries{{"b", "2"}, {"a", "4"}}));
  headers.set("new", "5");
  EXPECT_EQ(headers.get("new"), "5");
}

TEST(HeaderMap, RemoveDeletesEveryMatchAndCountsThem) {
  HeaderMap headers;
  headers.add("a", "1");
  headers.add("b", "2");
  headers.add("A", "3");
  EXPECT_EQ(headers.remove("A"), 2u);
  EXPECT_EQ(headers.remove("a"), 0u);
  EXPECT_EQ(entries(headers), (Entries{{"b", "2"}}));
  EXPECT_EQ(headers.size(), 1u);
}

TEST(HeaderMap, RemoveIfUsesThePredicate) {
  HeaderMap headers;
  headers.add("x-1", "keep");
  headers.add("x-2", "drop");
  headers.add("x-3", "drop");
  EXPECT_EQ(headers.removeIf([](const HeaderMap::Entry& e) { return e.value == "drop"; }), 2u);
  EXPECT_EQ(entries(headers), (Entries{{"x-1", "keep"}}));
}

TEST(HeaderMap, CountsBytesOfNamesAndValues) {
  HeaderMap headers;
  headers.add("ab", "cde");
  headers.add("f", "");
  EXPECT_EQ(headers.byteSize(), 6u);
  headers.remove("ab");
  EXPECT_EQ(headers.byteSize(), 1u);
}

TEST(HeaderMap, CanBeReusedAfterClear) {
  HeaderMap headers;
  headers.add("a", "1");
  headers.add("b", "2");
  headers.clear();
  EXPECT_TRUE(headers.empty());
  EXPECT_EQ(headers.size(), 0u);
  EXPECT_EQ(headers.byteSize(), 0u);
  EXPECT_FALSE(headers.has("a"));
  headers.add("c", "3");
  EXPECT_EQ(entries(headers), (Entries{{"c", "3"}}));
  EXPECT_EQ(headers.byteSize(), 2u);
}

TEST(HeaderMap, CompactionKeepsLiveValuesInOrder) {
  HeaderMap headers;
  const std::string big(200, 'v');
  for (int i = 0; i < 40; ++i) headers.add("h" + std::to_string(i), big + std::to_string(i));
  // Removing most fields leaves most of the (> 4 KiB) arena dead, which
  // triggers compaction; the survivors must be intact and in order.
  headers.removeIf([](const HeaderMap::Entry& e) { return e.name != "h7" && e.name != "h31"; });
  EXPECT_EQ(entries(headers), (Entries{{"h7", big + "7"}, {"h31", big + "31"}}));
  EXPECT_EQ(headers.byteSize(), 2 + big.size() + 1 + 3 + big.size() + 2);
  headers.add("after", "x");
  EXPECT_EQ(headers.get("H31"), big + "31");
  EXPECT_EQ(headers.get("after"), "x");
}

TEST(HeaderMap, RepeatedSetDoesNotLoseValues) {
  HeaderMap headers;
  headers.add("keep", "me");
  for (int i = 0; i < 1000; ++i) headers.set("counter", std::to_string(i));
  EXPECT_EQ(entries(headers), (Entries{{"keep", "me"}, {"counter", "999"}}));
}

TEST(HeaderMap, ComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(equalsIgnoreCase("Chunked", "cHUNKED"));
  EXPECT_FALSE(equalsIgnoreCase("chunked", "chunke"));
  EXPECT_FALSE(equalsIgnoreCase("a-b", "a_b"));
  EXPECT_EQ(toLowerAscii('Z'), 'z');
  EXPECT_EQ(toLowerAscii('['), '[');
  EXPECT_EQ(toLowerAscii('\xc3'), '\xc3');
}

}  // namespace
}  // namespace sluice::http
