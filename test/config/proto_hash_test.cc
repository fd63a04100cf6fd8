#include "config/proto_hash.h"

#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"

namespace sluice::config {
namespace {

using envoy::config::cluster::v3::Cluster;

TEST(ProtoHash, EqualProtosHashEquallyWhateverTheirMapOrder) {
  Cluster a;
  a.set_name("web");
  Cluster b = a;
  // filter_metadata is a map: inserted in opposite orders.
  for (const char* key : {"one", "two", "three", "four", "five", "six", "seven", "eight"}) {
    (*a.mutable_metadata()->mutable_filter_metadata())[key];
  }
  for (const char* key : {"eight", "seven", "six", "five", "four", "three", "two", "one"}) {
    (*b.mutable_metadata()->mutable_filter_metadata())[key];
  }
  EXPECT_EQ(protoHash(a), protoHash(b));
}

TEST(ProtoHash, AnyChangedFieldChangesTheHash) {
  Cluster a;
  a.set_name("web");
  Cluster b = a;
  b.mutable_connect_timeout()->set_seconds(2);
  EXPECT_NE(protoHash(a), protoHash(b));
  Cluster c = a;
  c.set_name("wet");
  EXPECT_NE(protoHash(a), protoHash(c));
}

}  // namespace
}  // namespace sluice::config
