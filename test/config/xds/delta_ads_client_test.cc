// DeltaAdsClient and GrpcSubscription over it: the incremental ADS protocol,
// driven through a fake transport that records every request. Each test is
// one rule of Envoy's xDS protocol document for the delta variant.
#include "config/xds/delta_ads_client.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/xds/grpc_subscription.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

namespace sluice::config::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

class FakeDeltaTransport final : public DeltaAdsTransport {
 public:
  void start(DeltaAdsStreamEvents& events) override { events_ = &events; }
  void send(uint64_t stream, DeltaDiscoveryRequest request, SharedNames names) override {
    EXPECT_EQ(names, nullptr) << "delta requests carry their own names";
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
  void respond(DeltaDiscoveryResponse r) { events_->onResponse(open_, std::move(r), std::chrono::steady_clock::now()); }
  std::vector<DeltaDiscoveryRequest> sent;

 private:
  DeltaAdsStreamEvents* events_ = nullptr;
  uint64_t streams_ = 0;
  uint64_t open_ = 0;
};

class Recorder final : public SubscriptionCallbacks {
 public:
  bool onConfigUpdate(const DiscoveryUpdate& update, std::string& error) override {
    updates.push_back(update);
    if (reject) error = "cannot compile the configuration: rejected by the test";
    return !reject;
  }
  void onConfigUpdateFailed(const std::string& error) override { failures.push_back(error); }
  void onConnectionFailure() override { ++connection_failures; }
  std::vector<DiscoveryUpdate> updates;
  std::vector<std::string> failures;
  int connection_failures = 0;
  bool reject = false;
};

envoy::service::discovery::v3::Resource cluster(const std::string& name, const std::string& version,
                                                int64_t timeout_seconds = 1) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  c.mutable_connect_timeout()->set_seconds(timeout_seconds);
  envoy::service::discovery::v3::Resource r;
  r.set_name(name);
  r.set_version(version);
  r.mutable_resource()->PackFrom(c);
  return r;
}

DeltaDiscoveryResponse response(const std::string& type_url, const std::string& nonce,
                                std::vector<envoy::service::discovery::v3::Resource> resources,
                                std::vector<std::string> removed = {}) {
  DeltaDiscoveryResponse r;
  r.set_type_url(type_url);
  r.set_nonce(nonce);
  r.set_system_version_info("sys-" + nonce);
  for (auto& resource : resources) *r.add_resources() = std::move(resource);
  for (auto& name : removed) r.add_removed_resources(name);
  return r;
}

std::vector<std::string> names(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

class DeltaAdsClientTest : public ::testing::Test {
 protected:
  explicit DeltaAdsClientTest(bool node_first_only = true) {
    envoy::config::core::v3::Node node;
    node.set_id("node-1");
    client_ = std::make_unique<DeltaAdsClient>(transport_, node, node_first_only, store_);
  }
  FakeDeltaTransport transport_;
  stats::Store store_{1};
  std::unique_ptr<DeltaAdsClient> client_;
  Recorder cds_, eds_;
};

TEST_F(DeltaAdsClientTest, WildcardCdsNamesNothingEdsSubscribesByNameInWarmingOrder) {
  GrpcSubscription eds(*client_, "envoy.config.endpoint.v3.ClusterLoadAssignment", {"b", "a"}, eds_);
  GrpcSubscription cds(*client_, "envoy.config.cluster.v3.Cluster", {}, cds_);
  std::string unused;
  eds.start(unused);
  cds.start(unused);
  client_->start();
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 2u);
  EXPECT_EQ(transport_.sent[0].type_url(), kClusterType);
  EXPECT_EQ(transport_.sent[0].resource_names_subscribe_size(), 0);  // wildcard
  EXPECT_TRUE(transport_.sent[0].has_node());
  EXPECT_EQ(transport_.sent[1].type_url(), kEndpointType);
  EXPECT_EQ(names(transport_.sent[1].resource_names_subscribe()), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(transport_.sent[1].has_node());  // set_node_on_first_message_only
  EXPECT_EQ(transport_.sent[0].response_nonce(), "");
  EXPECT_EQ(store_.gauge("control_plane.connected_state").value(), 1);
}

TEST_F(DeltaAdsClientTest, AddedAndRemovedResourcesComeAsADeltaAndAreAckedByNonce) {
  GrpcSubscription cds(*client_, "envoy.config.cluster.v3.Cluster", {}, cds_);
  std::string unused;
  cds.start(unused);
  client_->start();
  transport_.open();
  transport_.respond(response(kClusterType, "n1", {cluster("a", "1"), cluster("b", "1")}));
  ASSERT_EQ(cds_.updates.size(), 1u);
  EXPECT_TRUE(cds_.updates[0].delta);
  EXPECT_EQ(cds_.updates[0].version_info, "sys-n1");
  ASSERT_EQ(cds_.updates[0].resources.size(), 2u);
  EXPECT_EQ(cds_.updates[0].resources[1].name, "b");
  EXPECT_EQ(cds_.updates[0].resources[1].version, "1");
  const auto& ack = transport_.sent.back();
  EXPECT_EQ(ack.response_nonce(), "n1");
  EXPECT_FALSE(ack.has_error_detail());
  transport_.respond(response(kClusterType, "n2", {}, {"a"}));
  ASSERT_EQ(cds_.updates.size(), 2u);
  EXPECT_TRUE(cds_.updates[1].resources.empty());
  EXPECT_EQ(cds_.updates[1].removed, std::vector<std::string>{"a"});
  EXPECT_EQ(client_->versions(kClusterType), (std::map<std::string, std::string>{{"b", "1"}}));
}

TEST_F(DeltaAdsClientTest, EachResourceStandsAloneTheValidAppliedTheInvalidNackedWithItsPath) {
  GrpcSubscription cds(*client_, "envoy.config.cluster.v3.Cluster", {}, cds_);
  std::string unused;
  cds.start(unused);
  client_->start();
  transport_.open();
  transport_.respond(response(kClusterType, "n1", {cluster("a", "1"), cluster("web", "7", -1)}));
  ASSERT_EQ(cds_.updates.size(), 1u);
  ASSERT_EQ(cds_.updates[0].resources.size(), 1u);
  EXPECT_EQ(cds_.updates[0].resources[0].name, "a");
  EXPECT_NE(cds_.updates[0].rejected.find("cluster 'web'.connect_timeout"), std::string::npos)
      << cds_.updates[0].rejected;
  const auto& nack = transport_.sent.back();
  EXPECT_EQ(nack.response_nonce(), "n1");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_EQ(nack.error_detail().code(), 3);
  EXPECT_NE(nack.error_detail().message().find("cluster 'web'.connect_timeout"), std::string::npos);
  // Only the applied one's version is held (and reported on a reconnect).
  EXPECT_EQ(client_->versions(kClusterType), (std::map<std::string, std::string>{{"a", "1"}}));
}

TEST_F(DeltaAdsClientTest, AResponseTheConsumerRejectsIsNackedAndNoVersionIsTaken) {
  GrpcSubscription cds(*client_, "envoy.config.cluster.v3.Cluster", {}, cds_);
  std::string unused;
  cds.start(unused);
  client_->start();
  transport_.open();
  cds_.reject = true;
  transport_.respond(response(kClusterType, "n1", {cluster("a", "1")}));
  ASSERT_EQ(cds_.failures.size(), 1u);
  EXPECT_TRUE(transport_.sent.back().has_error_detail());
  EXPECT_NE(transport_.sent.back().error_detail().message().find("rejected by the test"), std::string::npos);
  EXPECT_TRUE(client_->versions(kClusterType).empty());
}

TEST_F(DeltaAdsClientTest, AResourceWithoutBodyOrWithAnotherNameIsRejected) {
  GrpcSubscription cds(*client_, "envoy.config.cluster.v3.Cluster", {}, cds_);
  std::string unused;
  cds.start(unused);
  client_->start();
  transport_.open();
  envoy::service::discovery::v3::Resource heartbeat;
  heartbeat.set_name("a");
  heartbeat.set_version("2");
  auto misnamed = cluster("b", "1");
  misnamed.set_name("not-b");
  transport_.respond(response(kClusterType, "n1", {heartbeat, misnamed}));
  EXPECT_TRUE(cds_.updates.empty());
  ASSERT_EQ(cds_.failures.size(), 1u);
  EXPECT_NE(cds_.failures[0].find("resources[0]: resource 'a' has no body"), std::string::npos) << cds_.failures[0];
  EXPECT_NE(cds_.failures[0].find("resources[1].name: 'not-b' names a resource called 'b'"), std::string::npos);
}

TEST_F(DeltaAdsClientTest, ReconnectSendsInitialResourceVersionsAndNoNonce) {
  GrpcSubscription cds(*client_, "envoy.config.cluster.v3.Cluster", {}, cds_);
  GrpcSubscription eds(*client_, "envoy.config.endpoint.v3.ClusterLoadAssignment", {"a"}, eds_);
  std::string unused;
  cds.start(unused);
  eds.start(unused);
  client_->start();
  transport_.open();
  transport_.respond(response(kClusterType, "n1", {cluster("a", "1"), cluster("b", "4")}));
  transport_.close();
  EXPECT_EQ(cds_.connection_failures, 1);
  EXPECT_EQ(store_.gauge("control_plane.connected_state").value(), 0);
  transport_.sent.clear();
  transport_.open();
  ASSERT_EQ(transport_.sent.size(), 2u);
  const auto& initial = transport_.sent[0];
  EXPECT_EQ(initial.type_url(), kClusterType);
  EXPECT_EQ(initial.response_nonce(), "");
  EXPECT_TRUE(initial.has_node());  // the first request of the new stream
  ASSERT_EQ(initial.initial_resource_versions_size(), 2);
  EXPECT_EQ(initial.initial_resource_versions().at("a"), "1");
  EXPECT_EQ(initial.initial_resource_versions().at("b"), "4");
  EXPECT_EQ(names(transport_.sent[1].resource_names_subscribe()), std::vector<std::string>{"a"});
}

TEST_F(DeltaAdsClientTest, NameChangesGoOutAsSubscribeAndUnsubscribeAndNothingWhenUnchanged) {
  GrpcSubscription eds(*client_, "envoy.config.endpoint.v3.ClusterLoadAssignment", {"a", "b"}, eds_);
  std::string unused;
  eds.start(unused);
  client_->start();
  transport_.open();
  transport_.sent.clear();
  eds.updateResourceInterest({"b", "c"});
  ASSERT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(names(transport_.sent[0].resource_names_subscribe()), std::vector<std::string>{"c"});
  EXPECT_EQ(names(transport_.sent[0].resource_names_unsubscribe()), std::vector<std::string>{"a"});
  EXPECT_EQ(transport_.sent[0].response_nonce(), "");
  eds.updateResourceInterest({"c", "b"});
  EXPECT_EQ(transport_.sent.size(), 1u);  // unchanged: nothing to say
}

TEST_F(DeltaAdsClientTest, AnUnsubscribedResourceIsForgottenSoAResubscribeGetsItWhole) {
  GrpcSubscription eds(*client_, "envoy.config.endpoint.v3.ClusterLoadAssignment", {"a"}, eds_);
  std::string unused;
  eds.start(unused);
  client_->start();
  transport_.open();
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name("a");
  envoy::service::discovery::v3::Resource r;
  r.set_name("a");
  r.set_version("3");
  r.mutable_resource()->PackFrom(cla);
  transport_.respond(response(kEndpointType, "n1", {r}));
  EXPECT_EQ(client_->versions(kEndpointType).size(), 1u);
  eds.updateResourceInterest({});
  EXPECT_TRUE(client_->versions(kEndpointType).empty());
  EXPECT_EQ(names(transport_.sent.back().resource_names_unsubscribe()), std::vector<std::string>{"a"});
}

TEST_F(DeltaAdsClientTest, ATypeNotSubscribedToIsNacked) {
  client_->start();
  transport_.open();
  transport_.respond(response(kRouteType, "n9", {}));
  ASSERT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(transport_.sent[0].response_nonce(), "n9");
  ASSERT_TRUE(transport_.sent[0].has_error_detail());
}

}  // namespace
}  // namespace sluice::config::xds
