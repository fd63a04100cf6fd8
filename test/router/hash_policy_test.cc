// hash_policy: which request attributes feed the consistent-hash key.
#include <gtest/gtest.h>

#include "router/route_table.h"
#include "router/router_test_util.h"

namespace sluice::router::test {
namespace {

class HashPolicyTest : public ::testing::Test {
 protected:
  // Installs a route whose hash_policy is `policies` (a YAML flow list).
  void policy(std::string_view policies) {
    table_ = buildTable(
        singleHost("  - match: {prefix: /}\n    route: {cluster: c, hash_policy: " + std::string(policies) + "}\n"));
  }
  std::optional<uint64_t> hash(const TestRequest& request) const {
    return deref(table_->virtualHosts()[0]->routes()[0]->forward()).hash(request.view());
  }
  static TestRequest with(std::string_view name, std::string_view value) {
    TestRequest request("/");
    request.header(name, value);
    return request;
  }

  std::shared_ptr<const RouteTable> table_;
};

TEST_F(HashPolicyTest, NoPolicyNoHash) {
  table_ = buildTable(singleHost("  - match: {prefix: /}\n    route: {cluster: c}\n"));
  EXPECT_EQ(hash(with("x-user", "alice")), std::nullopt);
}

TEST_F(HashPolicyTest, HeaderSameValueSameHash) {
  policy("[{header: {header_name: X-User}}]");
  ASSERT_TRUE(hash(with("x-user", "alice")).has_value());
  EXPECT_EQ(hash(with("x-user", "alice")), hash(with("X-User", "alice")));
  EXPECT_NE(hash(with("x-user", "alice")), hash(with("x-user", "bob")));
}

TEST_F(HashPolicyTest, MissingHeaderNoHash) {
  policy("[{header: {header_name: x-user}}]");
  EXPECT_EQ(hash(with("other", "1")), std::nullopt);
}

TEST_F(HashPolicyTest, RepeatedHeaderHashIsIndependentOfOrder) {
  policy("[{header: {header_name: x-user}}]");
  TestRequest ab("/"), ba("/");
  ab.header("x-user", "a").header("x-user", "b");
  ba.header("x-user", "b").header("x-user", "a");
  EXPECT_EQ(hash(ab), hash(ba));
  EXPECT_NE(hash(ab), hash(with("x-user", "a")));
}

TEST_F(HashPolicyTest, PseudoHeader) {
  policy("[{header: {header_name: ':path'}}]");
  EXPECT_EQ(hash(TestRequest("/a")), hash(TestRequest("/a")));
  EXPECT_NE(hash(TestRequest("/a")), hash(TestRequest("/b")));
}

TEST_F(HashPolicyTest, Cookie) {
  policy("[{cookie: {name: session, ttl: 60s}}]");
  const auto plain = hash(with("cookie", "a=1; session=abc; b=2"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain, hash(with("cookie", "session=\"abc\"")));
  EXPECT_NE(plain, hash(with("cookie", "session=abd")));
  EXPECT_EQ(hash(with("cookie", "a=1; sessionx=abc")), std::nullopt);  // ttl set, but no cookie is generated
}

TEST_F(HashPolicyTest, CookieInALaterCookieHeader) {
  policy("[{cookie: {name: session}}]");
  TestRequest request("/");
  request.header("cookie", "a=1").header("cookie", "session=abc");
  EXPECT_EQ(hash(request), hash(with("cookie", "session=abc")));
}

TEST_F(HashPolicyTest, SourceIp) {
  policy("[{connection_properties: {source_ip: true}}]");
  TestRequest a("/"), b("/"), none("/");
  a.source_ip = "10.0.0.1";
  b.source_ip = "10.0.0.2";
  EXPECT_EQ(hash(a), hash(a));
  EXPECT_NE(hash(a), hash(b));
  EXPECT_EQ(hash(none), std::nullopt);
}

TEST_F(HashPolicyTest, QueryParameter) {
  policy("[{query_parameter: {name: user}}]");
  EXPECT_EQ(hash(TestRequest("/x?user=alice")), hash(TestRequest("/y?a=1&user=alice")));
  EXPECT_NE(hash(TestRequest("/x?user=alice")), hash(TestRequest("/x?user=bob")));
  EXPECT_EQ(hash(TestRequest("/x?other=alice")), std::nullopt);
}

TEST_F(HashPolicyTest, PoliciesWithoutAValueAreSkipped) {
  policy("[{header: {header_name: x-missing}}, {header: {header_name: x-user}}]");
  const auto combined = hash(with("x-user", "alice"));
  policy("[{header: {header_name: x-user}}]");
  EXPECT_EQ(combined, hash(with("x-user", "alice")));
}

TEST_F(HashPolicyTest, ValuesOfSeveralPoliciesAreCombined) {
  policy("[{header: {header_name: x-user}}, {query_parameter: {name: q}}]");
  TestRequest one("/?q=1"), two("/?q=2");
  one.header("x-user", "alice");
  two.header("x-user", "alice");
  EXPECT_NE(hash(one), hash(two));
}

TEST_F(HashPolicyTest, DuplicatePoliciesDoNotCancelOut) {
  policy("[{header: {header_name: x-user}}, {header: {header_name: x-user}}]");
  const auto value = hash(with("x-user", "alice"));
  ASSERT_TRUE(value.has_value());
  EXPECT_NE(*value, 0u);
}

TEST_F(HashPolicyTest, TerminalPolicyWithAValueStopsTheWalk) {
  policy("[{header: {header_name: x-user}, terminal: true}, {query_parameter: {name: q}}]");
  TestRequest one("/?q=1"), two("/?q=2");
  one.header("x-user", "alice");
  two.header("x-user", "alice");
  EXPECT_EQ(hash(one), hash(two));
  // Without a value the terminal policy does not stop the walk.
  EXPECT_NE(hash(TestRequest("/?q=1")), hash(TestRequest("/?q=2")));
  EXPECT_TRUE(hash(TestRequest("/?q=1")).has_value());
}

// filter_state is rejected by the gate:
// SupportedFields.RejectsEveryRouteAndAccessLogFieldSluiceDoesNotImplement.

}  // namespace
}  // namespace sluice::router::test
