// AdsClient: the state-of-the-world ADS protocol, driven through a fake
// transport that records every request. Each test is one rule of Envoy's
// xDS protocol document.
#include "config/xds/ads_client.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/xds/grpc_subscription.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace sluice::config::xds {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

class FakeTransport final : public AdsTransport {
 public:
  void start(AdsStreamEvents& events) override { events_ = &events; }
  void send(uint64_t stream, DiscoveryRequest request, SharedNames names) override {
    if (names) {
      for (const auto& n : *names) request.add_resource_names(n);
    }
    if (stream == open_) sent.push_back(std::move(request));
  }
  void stop() override { events_ = nullptr; }
  void open() {
    open_ = ++streams_;
    events_->onStreamOpen(open_, "fake");
  }
  void close() {
    events_->onStreamClosed(open_, "gone");
    open_ = 0;
  }
  void respond(DiscoveryResponse r, uint64_t stream = 0) {
    events_->onResponse(stream ? stream : open_, std::move(r), std::chrono::steady_clock::now());
  }
  uint64_t current() const { return open_; }
  std::vector<DiscoveryRequest> sent;

 private:
  AdsStreamEvents* events_ = nullptr;
  uint64_t streams_ = 0;
  uint64_t open_ = 0;
};

class Watcher final : public AdsWatcher {
 public:
  bool onResponse(const DiscoveryResponse& response, ReceivedAt, std::string& error) override {
    responses.push_back(response);
    if (reject) error = "cluster 'web'.connect_timeout: rejected by the test";
    return !reject;
  }
  void onStreamFailure() override { ++failures; }
  std::vector<DiscoveryResponse> responses;
  bool reject = false;
  int failures = 0;
};

DiscoveryResponse response(const std::string& type_url, const std::string& version, const std::string& nonce) {
  DiscoveryResponse r;
  r.set_type_url(type_url);
  r.set_version_info(version);
  r.set_nonce(nonce);
  return r;
}

class AdsClientTest : public ::testing::Test {
 protected:
  explicit AdsClientTest(bool node_first_only = false) : client_(make(node_first_only)) {}
  std::unique_ptr<AdsClient> make(bool node_first_only) {
    envoy::config::core::v3::Node node;
    node.set_id("node-1");
    node.set_cluster("edge");
    node.mutable_locality()->set_zone("z1");
    return std::make_unique<AdsClient>(transport_, node, node_first_only, store_);
  }
  int64_t connectedState() { return store_.gauge("control_plane.connected_state").value(); }

  FakeTransport transport_;
  stats::Store store_{1};
  std::unique_ptr<AdsClient> client_;
  Watcher cds_, eds_;
};

TEST_F(AdsClientTest, SubscriptionsWaitForTheStreamThenGoInOrderWildcardCdsFirst) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->subscribe(kEndpointType, {"b", "a"}, eds_);
  client_->start();
  EXPECT_TRUE(transport_.sent.empty());
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[0].type_url(), kClusterType);
  EXPECT_EQ(transport_.sent[0].resource_names_size(), 0);  // wildcard
  EXPECT_EQ(transport_.sent[1].type_url(), kEndpointType);
  ASSERT_EQ(transport_.sent[1].resource_names_size(), 2);
  EXPECT_EQ(transport_.sent[1].resource_names(0), "a");
  EXPECT_EQ(transport_.sent[1].resource_names(1), "b");
  EXPECT_EQ(transport_.sent[0].version_info(), "");
  EXPECT_EQ(transport_.sent[0].response_nonce(), "");
}

TEST_F(AdsClientTest, AStreamRequestsInWarmingOrderWhateverTheSubscriptionOrder) {
  Watcher lds, rds;
  client_->subscribe(kRouteType, {"r1"}, rds);
  client_->subscribe(kListenerType, {}, lds);
  client_->subscribe(kEndpointType, {"a"}, eds_);
  client_->subscribe(kClusterType, {}, cds_);
  client_->start();
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 4u);
  EXPECT_EQ(transport_.sent[0].type_url(), kClusterType);
  EXPECT_EQ(transport_.sent[1].type_url(), kEndpointType);
  EXPECT_EQ(transport_.sent[2].type_url(), kListenerType);
  EXPECT_EQ(transport_.sent[3].type_url(), kRouteType);
}

TEST_F(AdsClientTest, NodeOnEveryRequestByDefault) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->subscribe(kEndpointType, {"a"}, eds_);
  client_->start();
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[0].node().id(), "node-1");
  EXPECT_EQ(transport_.sent[0].node().cluster(), "edge");
  EXPECT_EQ(transport_.sent[0].node().locality().zone(), "z1");
  EXPECT_EQ(transport_.sent[1].node().id(), "node-1");
}

class AdsClientNodeOnceTest : public AdsClientTest {
 protected:
  AdsClientNodeOnceTest() : AdsClientTest(true) {}
};

TEST_F(AdsClientNodeOnceTest, NodeOnlyOnTheFirstRequestOfEachStream) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->subscribe(kEndpointType, {"a"}, eds_);
  client_->start();
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_TRUE(transport_.sent[0].has_node());
  EXPECT_FALSE(transport_.sent[1].has_node());
  transport_.close();
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 4u);
  EXPECT_TRUE(transport_.sent[2].has_node());
  EXPECT_FALSE(transport_.sent[3].has_node());
}

TEST_F(AdsClientTest, AckCarriesTheAcceptedVersionAndNonce) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->start();
  transport_.open();
  transport_.respond(response(kClusterType, "v1", "n1"));
  ASSERT_EQ(cds_.responses.size(), 1u);
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[1].version_info(), "v1");
  EXPECT_EQ(transport_.sent[1].response_nonce(), "n1");
  EXPECT_FALSE(transport_.sent[1].has_error_detail());
}

TEST_F(AdsClientTest, NackCarriesThePreviousVersionTheNonceAndTheError) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->start();
  transport_.open();
  transport_.respond(response(kClusterType, "v1", "n1"));
  cds_.reject = true;
  transport_.respond(response(kClusterType, "v2", "n2"));
  ASSERT_EQ(transport_.sent.size(), 3u);
  const auto& nack = transport_.sent[2];
  EXPECT_EQ(nack.version_info(), "v1");
  EXPECT_EQ(nack.response_nonce(), "n2");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_EQ(nack.error_detail().code(), 3);  // INVALID_ARGUMENT
  EXPECT_NE(nack.error_detail().message().find("cluster 'web'.connect_timeout"), std::string::npos);
}

TEST_F(AdsClientTest, ReconnectResendsTheAcceptedVersionsWithoutNonces) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->subscribe(kEndpointType, {"a"}, eds_);
  client_->start();
  transport_.open();
  EXPECT_EQ(connectedState(), 1);
  transport_.respond(response(kClusterType, "c1", "n1"));
  transport_.respond(response(kEndpointType, "e1", "n2"));
  transport_.close();
  EXPECT_EQ(connectedState(), 0);
  EXPECT_EQ(cds_.failures, 1);
  EXPECT_EQ(eds_.failures, 1);
  transport_.sent.clear();
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[0].version_info(), "c1");
  EXPECT_EQ(transport_.sent[0].response_nonce(), "");
  EXPECT_EQ(transport_.sent[1].version_info(), "e1");
  EXPECT_EQ(transport_.sent[1].response_nonce(), "");
  EXPECT_EQ(transport_.sent[1].resource_names(0), "a");
}

TEST_F(AdsClientTest, ResponsesOfAClosedStreamAreIgnored) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->start();
  transport_.open();
  const auto old = transport_.current();
  transport_.close();
  transport_.open();
  transport_.respond(response(kClusterType, "v1", "n1"), old);
  EXPECT_TRUE(cds_.responses.empty());
}

TEST_F(AdsClientTest, ATypeNotSubscribedToIsNacked) {
  client_->subscribe(kClusterType, {}, cds_);
  client_->start();
  transport_.open();
  transport_.respond(response("type.googleapis.com/some.Thing", "v1", "n1"));
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[1].type_url(), "type.googleapis.com/some.Thing");
  EXPECT_EQ(transport_.sent[1].response_nonce(), "n1");
  EXPECT_TRUE(transport_.sent[1].has_error_detail());
  EXPECT_TRUE(cds_.responses.empty());
}

TEST_F(AdsClientTest, NewNamesAreRequestedAtOnceEvenWhenUnchanged) {
  client_->subscribe(kEndpointType, {"a"}, eds_);
  client_->start();
  transport_.open();
  transport_.respond(response(kEndpointType, "e1", "n1"));
  client_->updateNames(kEndpointType, {"a"});
  client_->updateNames(kEndpointType, {"a", "b"});
  ASSERT_EQ(transport_.sent.size(), 4u);
  EXPECT_EQ(transport_.sent[2].resource_names_size(), 1);
  EXPECT_EQ(transport_.sent[2].version_info(), "e1");
  EXPECT_EQ(transport_.sent[2].response_nonce(), "n1");
  EXPECT_EQ(transport_.sent[3].resource_names_size(), 2);
}

// A server ignores a request whose nonce is not its latest (the protocol's
// stale nonce): a name added in such a request is not lost, because every
// request, the ACK of the newer response too, carries the full current names.
TEST_F(AdsClientTest, ANameSentWithAStaleNonceGoesAgainWithTheNextAck) {
  client_->subscribe(kEndpointType, {"a"}, eds_);
  client_->start();
  transport_.open();
  transport_.respond(response(kEndpointType, "e1", "n1"));
  client_->updateNames(kEndpointType, {"a", "b"});  // goes out with n1; the server has sent n2 meanwhile
  ASSERT_EQ(transport_.sent.back().response_nonce(), "n1");
  transport_.respond(response(kEndpointType, "e2", "n2"));  // the answer to the old names
  const auto& ack = transport_.sent.back();
  EXPECT_EQ(ack.response_nonce(), "n2");
  EXPECT_EQ(ack.version_info(), "e2");
  ASSERT_EQ(ack.resource_names_size(), 2);
  EXPECT_EQ(ack.resource_names(1), "b");
}

// GrpcSubscription: the checks a file's resources get, before the callbacks.
class Recorder final : public SubscriptionCallbacks {
 public:
  bool onConfigUpdate(const DiscoveryUpdate& update, std::string&) override {
    updates.push_back(update);
    return true;
  }
  void onConfigUpdateFailed(const std::string& error) override { failures.push_back(error); }
  void onConnectionFailure() override { ++connection_failures; }
  std::vector<DiscoveryUpdate> updates;
  std::vector<std::string> failures;
  int connection_failures = 0;
};

class GrpcSubscriptionTest : public AdsClientTest {
 protected:
  GrpcSubscriptionTest() : subscription_(*client_, "envoy.config.cluster.v3.Cluster", {}, recorder_) {
    std::string unused;
    subscription_.start(unused);
    client_->start();
    transport_.open();
  }
  static google::protobuf::Any cluster(const std::string& name, int64_t timeout_seconds = 1) {
    envoy::config::cluster::v3::Cluster c;
    c.set_name(name);
    c.mutable_connect_timeout()->set_seconds(timeout_seconds);
    google::protobuf::Any any;
    any.PackFrom(c);
    return any;
  }
  Recorder recorder_;
  GrpcSubscription subscription_;
};

TEST_F(GrpcSubscriptionTest, AValidResponseIsDeliveredWithNamesAndVersion) {
  auto r = response(kClusterType, "v1", "n1");
  *r.add_resources() = cluster("a");
  *r.add_resources() = cluster("b");
  transport_.respond(r);
  ASSERT_EQ(recorder_.updates.size(), 1u);
  EXPECT_EQ(recorder_.updates[0].version_info, "v1");
  ASSERT_EQ(recorder_.updates[0].resources.size(), 2u);
  EXPECT_EQ(recorder_.updates[0].resources[1].name, "b");
  EXPECT_FALSE(transport_.sent.back().has_error_detail());
}

TEST_F(GrpcSubscriptionTest, AResourceThatComesAgainByteForByteIsNotDecodedOrCheckedAgain) {
  auto r1 = response(kClusterType, "v1", "n1");
  *r1.add_resources() = cluster("a");
  transport_.respond(r1);
  auto r2 = response(kClusterType, "v2", "n2");
  *r2.add_resources() = cluster("a");
  *r2.add_resources() = cluster("b");
  transport_.respond(r2);
  ASSERT_EQ(recorder_.updates.size(), 2u);
  const auto* a = recorder_.updates[0].resources[0].message.get();
  EXPECT_EQ(recorder_.updates[1].resources[0].message.get(), a) << "the object accepted before, not a new decode";
  // A rejected response neither evicts the accepted resources nor adds its own.
  auto r3 = response(kClusterType, "v3", "n3");
  *r3.add_resources() = cluster("a");
  *r3.add_resources() = cluster("c");
  *r3.add_resources() = cluster("bad", -1);
  transport_.respond(r3);
  ASSERT_EQ(recorder_.failures.size(), 1u);
  auto r4 = response(kClusterType, "v4", "n4");
  *r4.add_resources() = cluster("a");
  *r4.add_resources() = cluster("c", 2);  // changed: decoded and checked
  transport_.respond(r4);
  ASSERT_EQ(recorder_.updates.size(), 3u);
  EXPECT_EQ(recorder_.updates[2].resources[0].message.get(), a);
  EXPECT_EQ(recorder_.updates[2].resources[1].name, "c");
  // A bad resource is rejected every time it comes, never remembered as good.
  transport_.respond(r3);
  EXPECT_EQ(recorder_.failures.size(), 2u);
}

TEST_F(GrpcSubscriptionTest, OneInvalidResourceRejectsTheWholeResponseWithItsPath) {
  auto r = response(kClusterType, "v1", "n1");
  *r.add_resources() = cluster("a");
  *r.add_resources() = cluster("web", -1);  // PGV: connect_timeout must be positive
  transport_.respond(r);
  EXPECT_TRUE(recorder_.updates.empty());
  ASSERT_EQ(recorder_.failures.size(), 1u);
  ASSERT_TRUE(transport_.sent.back().has_error_detail());
  EXPECT_NE(transport_.sent.back().error_detail().message().find("cluster 'web'.connect_timeout"), std::string::npos)
      << transport_.sent.back().error_detail().message();
}

TEST_F(GrpcSubscriptionTest, AResourceOfAnotherTypeOrUndecodableIsNacked) {
  auto r = response(kClusterType, "v1", "n1");
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  r.add_resources()->PackFrom(cla);
  auto* garbage = r.add_resources();
  garbage->set_type_url(kClusterType);
  garbage->set_value("\xff\xff\xff");
  transport_.respond(r);
  EXPECT_TRUE(recorder_.updates.empty());
  ASSERT_TRUE(transport_.sent.back().has_error_detail());
  const auto& message = transport_.sent.back().error_detail().message();
  EXPECT_NE(message.find("resources[0]"), std::string::npos) << message;
  EXPECT_NE(message.find("resources[1]"), std::string::npos) << message;
}

TEST_F(GrpcSubscriptionTest, AClosedStreamIsAConnectionFailure) {
  transport_.close();
  EXPECT_EQ(recorder_.connection_failures, 1);
}

}  // namespace
}  // namespace sluice::config::xds
