// The delta ADS state machine against a fake stream: each rule of
// delta_session.h is a test here that fails without it.
#include "control/delta_session.h"

#include <gtest/gtest.h>

#include "control/translator.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "test_registry.h"

namespace sluice::control {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using test::registryOf;
using test::twoZones;

using Names = std::vector<std::string>;
const Names kEds = {"echo.z1", "echo.z2", "other.z1", "other.z2"};

class FakeDeltaStream : public DeltaResponseSink {
 public:
  void send(const DeltaDiscoveryResponse& response) override { sent.push_back(response); }
  std::vector<DeltaDiscoveryResponse> sent;
};

class DeltaSessionTest : public ::testing::Test {
 protected:
  DeltaSessionTest() : session_(stream_, counters_) {
    session_.setNode(envoy::config::core::v3::Node());
    session_.setSnapshot(translate(*registryOf(twoZones()), "edge"));
  }

  static DeltaDiscoveryRequest request(XdsType type, Names subscribe, Names unsubscribe = {},
                                       const std::string& nonce = "") {
    DeltaDiscoveryRequest r;
    r.set_type_url(std::string(typeUrl(type)));
    for (auto& n : subscribe) r.add_resource_names_subscribe(n);
    for (auto& n : unsubscribe) r.add_resource_names_unsubscribe(n);
    r.set_response_nonce(nonce);
    return r;
  }
  const DeltaDiscoveryResponse* last(XdsType type) const {
    for (auto it = stream_.sent.rbegin(); it != stream_.sent.rend(); ++it) {
      if (it->type_url() == typeUrl(type)) return &*it;
    }
    return nullptr;
  }
  size_t sentOf(XdsType type) const {
    size_t n = 0;
    for (const auto& r : stream_.sent) n += r.type_url() == typeUrl(type) ? 1 : 0;
    return n;
  }
  void ack(XdsType type, DeltaAdsSession& session, FakeDeltaStream& stream) {
    const DeltaDiscoveryResponse* r = nullptr;
    for (auto it = stream.sent.rbegin(); it != stream.sent.rend() && r == nullptr; ++it) {
      if (it->type_url() == typeUrl(type)) r = &*it;
    }
    ASSERT_NE(r, nullptr);
    session.onRequest(request(type, {}, {}, r->nonce()));
  }
  void ack(XdsType type) { ack(type, session_, stream_); }
  void nack(XdsType type, const std::string& message) {
    const auto* r = last(type);
    ASSERT_NE(r, nullptr);
    auto q = request(type, {}, {}, r->nonce());
    q.mutable_error_detail()->set_code(3);
    q.mutable_error_detail()->set_message(message);
    session_.onRequest(q);
  }
  void setRegistry(const std::string& yaml) { session_.setSnapshot(translate(*registryOf(yaml), "edge")); }
  static Names names(const DeltaDiscoveryResponse& response) {
    Names out;
    for (const auto& r : response.resources()) out.push_back(r.name());
    return out;
  }
  static Names removed(const DeltaDiscoveryResponse& response) {
    return Names(response.removed_resources().begin(), response.removed_resources().end());
  }
  // Subscribes every type as an edge node does and ACKs everything.
  void syncAll() {
    session_.onRequest(request(XdsType::Cluster, {}));
    session_.onRequest(request(XdsType::Endpoint, kEds));
    session_.onRequest(request(XdsType::Listener, {}));
    session_.onRequest(request(XdsType::Route, {"edge"}));
    session_.onRequest(request(XdsType::Runtime, {"zone_weights"}));
    for (const XdsType type : kPushOrder) ack(type);
    for (const XdsType type : kPushOrder) ASSERT_EQ(session_.status(type).state, SyncState::Synced);
  }

  FakeDeltaStream stream_;
  SessionCounters counters_;
  DeltaAdsSession session_;
};

TEST_F(DeltaSessionTest, AnEmptyFirstCdsRequestIsAWildcardAndGetsEveryCluster) {
  session_.onRequest(request(XdsType::Cluster, {}));
  ASSERT_EQ(stream_.sent.size(), 1u);
  EXPECT_EQ(names(stream_.sent[0]), kEds);
  EXPECT_TRUE(session_.status(XdsType::Cluster).wildcard);
  EXPECT_EQ(session_.status(XdsType::Cluster).state, SyncState::Stale);
  ack(XdsType::Cluster);
  EXPECT_EQ(session_.status(XdsType::Cluster).state, SyncState::Synced);
  EXPECT_EQ(counters_.acks, 1u);
  EXPECT_EQ(counters_.resources_sent, 4u);
}

TEST_F(DeltaSessionTest, AnEmptyFirstEdsRequestIsNotAWildcard) {
  session_.onRequest(request(XdsType::Endpoint, {}));
  ASSERT_EQ(stream_.sent.size(), 1u) << "the first request is answered, empty";
  EXPECT_EQ(stream_.sent[0].resources_size(), 0);
  EXPECT_FALSE(session_.status(XdsType::Endpoint).wildcard);
}

TEST_F(DeltaSessionTest, StarSubscribesAndUnsubscribesTheWildcard) {
  session_.onRequest(request(XdsType::Cluster, {"*", "echo.z1"}));
  EXPECT_EQ(names(stream_.sent[0]), kEds);
  ack(XdsType::Cluster);
  session_.onRequest(request(XdsType::Cluster, {}, {"*"}));
  EXPECT_EQ(session_.clientVersions(XdsType::Cluster).size(), 1u) << "only the named one stays";
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));
  EXPECT_EQ(stream_.sent.size(), 1u) << "clusters unchanged";
}

TEST_F(DeltaSessionTest, OnlyTheChangedResourceIsSent) {
  syncAll();
  const size_t mark = stream_.sent.size();
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));
  ASSERT_EQ(stream_.sent.size(), mark + 1);
  EXPECT_EQ(stream_.sent[mark].type_url(), typeUrl(XdsType::Endpoint));
  EXPECT_EQ(names(stream_.sent[mark]), Names{"echo.z1"});
  EXPECT_TRUE(removed(stream_.sent[mark]).empty());
  ack(XdsType::Endpoint);
  EXPECT_EQ(session_.status(XdsType::Endpoint).state, SyncState::Synced);
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));  // the same content
  EXPECT_EQ(stream_.sent.size(), mark + 1);
}

TEST_F(DeltaSessionTest, AReconnectGetsOnlyWhatItDoesNotHave) {
  syncAll();
  const auto clusters = session_.clientVersions(XdsType::Cluster);
  FakeDeltaStream other_stream;
  SessionCounters other_counters;
  DeltaAdsSession reconnected(other_stream, other_counters);
  reconnected.setNode(envoy::config::core::v3::Node());
  reconnected.setSnapshot(session_.snapshot());
  auto q = request(XdsType::Cluster, {});
  for (const auto& [name, version] : clusters) (*q.mutable_initial_resource_versions())[name] = version;
  (*q.mutable_initial_resource_versions())["echo.z1"] = "old";
  (*q.mutable_initial_resource_versions())["gone.z1"] = "old";
  reconnected.onRequest(q);
  ASSERT_EQ(other_stream.sent.size(), 1u);
  EXPECT_EQ(names(other_stream.sent[0]), Names{"echo.z1"});
  EXPECT_TRUE(removed(other_stream.sent[0]).empty()) << "removals go last";
  ack(XdsType::Cluster, reconnected, other_stream);
  ASSERT_EQ(other_stream.sent.size(), 2u);
  EXPECT_TRUE(names(other_stream.sent[1]).empty());
  EXPECT_EQ(removed(other_stream.sent[1]), Names{"gone.z1"});
  ack(XdsType::Cluster, reconnected, other_stream);
  EXPECT_EQ(reconnected.status(XdsType::Cluster).state, SyncState::Synced);

  // Everything current: nothing at all is sent, and the type is SYNCED.
  auto e = request(XdsType::Endpoint, kEds);
  for (const auto& [name, version] : session_.clientVersions(XdsType::Endpoint))
    (*e.mutable_initial_resource_versions())[name] = version;
  reconnected.onRequest(e);
  EXPECT_EQ(other_stream.sent.size(), 2u);
  EXPECT_EQ(reconnected.status(XdsType::Endpoint).state, SyncState::Synced);
  EXPECT_EQ(other_counters.resources_sent, 1u);
}

TEST_F(DeltaSessionTest, UnknownEdsNamesGetAnEmptyAssignment) {
  session_.onRequest(request(XdsType::Endpoint, {"echo.z1", "gone.z9"}));
  ASSERT_EQ(stream_.sent.size(), 1u);
  EXPECT_EQ(names(stream_.sent[0]), (Names{"echo.z1", "gone.z9"}));
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  ASSERT_TRUE(stream_.sent[0].resources(1).resource().UnpackTo(&cla));
  EXPECT_EQ(cla.cluster_name(), "gone.z9");
  EXPECT_EQ(cla.endpoints_size(), 0);
}

TEST_F(DeltaSessionTest, UnsubscribedAndResubscribedNamesAreSentAgain) {
  session_.onRequest(request(XdsType::Endpoint, kEds));
  ack(XdsType::Endpoint);
  session_.onRequest(request(XdsType::Endpoint, {}, {"echo.z2"}));
  EXPECT_EQ(sentOf(XdsType::Endpoint), 1u) << "an unsubscribe needs no answer";
  session_.onRequest(request(XdsType::Endpoint, {"echo.z2"}));
  ASSERT_EQ(sentOf(XdsType::Endpoint), 2u) << "a re-added cluster must not stay empty";
  EXPECT_EQ(names(*last(XdsType::Endpoint)), Names{"echo.z2"});
}

TEST_F(DeltaSessionTest, OneUnackedResponsePerTypeAndTheLatestStateAfterTheAck) {
  session_.onRequest(request(XdsType::Endpoint, kEds));
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));
  setRegistry(twoZones("{ address: 10.0.0.6, port: 80, zone: z1 }"));
  EXPECT_EQ(sentOf(XdsType::Endpoint), 1u);
  ack(XdsType::Endpoint);
  ASSERT_EQ(sentOf(XdsType::Endpoint), 2u);
  EXPECT_EQ(names(*last(XdsType::Endpoint)), Names{"echo.z1"});
  ack(XdsType::Endpoint);
  EXPECT_EQ(session_.status(XdsType::Endpoint).state, SyncState::Synced);
  EXPECT_EQ(sentOf(XdsType::Endpoint), 2u);
}

TEST_F(DeltaSessionTest, ANackedVersionIsParkedUntilItsContentChanges) {
  syncAll();
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));
  const size_t mark = stream_.sent.size();
  nack(XdsType::Endpoint, "bad endpoint");
  EXPECT_EQ(counters_.nacks, 1u);
  const auto status = session_.status(XdsType::Endpoint);
  EXPECT_EQ(status.state, SyncState::Nacked);
  EXPECT_EQ(status.nack_error, "bad endpoint");
  EXPECT_EQ(stream_.sent.size(), mark) << "the NACKed version is not sent again";
  EXPECT_GE(counters_.nack_parked, 1u);
  EXPECT_NE(session_.clientVersions(XdsType::Endpoint).at("echo.z1"),
            session_.snapshot()->of(XdsType::Endpoint).at("echo.z1")->version)
      << "a NACKed response changes nothing on the client";
  session_.onRequest(request(XdsType::Endpoint, {"echo.z1"}));  // a request that changes nothing
  EXPECT_EQ(stream_.sent.size(), mark);
  setRegistry(twoZones("{ address: 10.0.0.6, port: 80, zone: z1 }"));  // new content: sent
  ASSERT_EQ(stream_.sent.size(), mark + 1);
  ack(XdsType::Endpoint);
  EXPECT_EQ(session_.status(XdsType::Endpoint).state, SyncState::Synced);
}

TEST_F(DeltaSessionTest, AStaleNonceIsNotAnAckButItsSubscriptionsStand) {
  session_.onRequest(request(XdsType::Endpoint, {"echo.z1"}));
  const std::string first = stream_.sent[0].nonce();
  ack(XdsType::Endpoint);
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));
  ASSERT_EQ(sentOf(XdsType::Endpoint), 2u);
  session_.onRequest(request(XdsType::Endpoint, {"echo.z2"}, {}, first));  // stale
  EXPECT_EQ(counters_.stale_nonces, 1u);
  EXPECT_EQ(counters_.acks, 1u);
  EXPECT_EQ(sentOf(XdsType::Endpoint), 2u) << "still one un-ACKed response";
  ack(XdsType::Endpoint);
  ASSERT_EQ(sentOf(XdsType::Endpoint), 3u);
  EXPECT_EQ(names(*last(XdsType::Endpoint)), Names{"echo.z2"});
}

TEST_F(DeltaSessionTest, ChangesGoInOrderAndRemovalsLastListenersBeforeClusters) {
  syncAll();
  size_t mark = stream_.sent.size();
  // `other` goes, `third` comes, the gateway port changes, a drain.
  setRegistry(R"(
zones: [z1, z2]
services:
  - { name: echo, instances: [ { address: 10.0.0.1, port: 80, zone: z1 }, { address: 10.0.0.7, port: 80, zone: z2 } ] }
  - { name: third, instances: [ { address: 10.0.2.1, port: 80, zone: z1 } ] }
gateways:
  - { name: edge, port: 10001, virtual_hosts: [ { domains: ["*"], routes: [ { prefix: /, service: echo } ] } ] }
zone_weights: { z2: 20 }
)");
  Names order;
  for (size_t i = mark; i < stream_.sent.size(); ++i) order.push_back(stream_.sent[i].type_url());
  EXPECT_EQ(order, (Names{std::string(typeUrl(XdsType::Cluster)), std::string(typeUrl(XdsType::Endpoint)),
                          std::string(typeUrl(XdsType::Listener)), std::string(typeUrl(XdsType::Route)),
                          std::string(typeUrl(XdsType::Runtime))}));
  EXPECT_EQ(names(*last(XdsType::Cluster)), (Names{"third.z1", "third.z2"}));
  EXPECT_TRUE(removed(*last(XdsType::Cluster)).empty()) << "other's clusters stay for now";
  for (const XdsType type : {XdsType::Cluster, XdsType::Endpoint, XdsType::Listener, XdsType::Route}) ack(type);
  mark = stream_.sent.size();
  EXPECT_EQ(stream_.sent.size(), mark);
  session_.onRequest(request(XdsType::Endpoint, {"third.z1", "third.z2"}));  // the client asks for the new ones
  ASSERT_EQ(stream_.sent.size(), mark + 1);
  ack(XdsType::Endpoint);
  EXPECT_EQ(stream_.sent.size(), mark + 1) << "removals wait until RTDS is ACKed too";
  ack(XdsType::Runtime);
  ASSERT_EQ(stream_.sent.size(), mark + 3);
  EXPECT_EQ(stream_.sent[mark + 1].type_url(), typeUrl(XdsType::Endpoint));
  EXPECT_EQ(names(stream_.sent[mark + 1]), Names{"other.z1"}) << "emptied, not yet gone (other.z2 had none)";
  EXPECT_EQ(stream_.sent[mark + 2].type_url(), typeUrl(XdsType::Cluster));
  EXPECT_EQ(removed(stream_.sent[mark + 2]), (Names{"other.z1", "other.z2"}));
  EXPECT_EQ(counters_.removals_sent, 2u);
}

TEST_F(DeltaSessionTest, RemovedListenersGoBeforeRemovedClusters) {
  session_.onRequest(request(XdsType::Cluster, {}));
  session_.onRequest(request(XdsType::Listener, {}));
  ack(XdsType::Cluster);
  ack(XdsType::Listener);
  stream_.sent.clear();
  setRegistry("zones: [z1, z2]\n");
  ASSERT_EQ(stream_.sent.size(), 2u);
  EXPECT_EQ(stream_.sent[0].type_url(), typeUrl(XdsType::Listener));
  EXPECT_EQ(removed(stream_.sent[0]), Names{"edge"});
  EXPECT_EQ(stream_.sent[1].type_url(), typeUrl(XdsType::Cluster));
  EXPECT_EQ(removed(stream_.sent[1]), kEds);
  ack(XdsType::Listener);
  ack(XdsType::Cluster);
  EXPECT_TRUE(session_.clientVersions(XdsType::Cluster).empty());
  EXPECT_EQ(session_.status(XdsType::Cluster).state, SyncState::Synced);
}

// Memory follows distinct snapshots: every session of one snapshot sends the
// same packed resources (shared, never copied into the session).
TEST_F(DeltaSessionTest, SessionsOfOneSnapshotShareItsResourcesAndVersions) {
  syncAll();
  FakeDeltaStream other_stream;
  DeltaAdsSession other(other_stream, counters_);
  other.setNode(envoy::config::core::v3::Node());
  other.setSnapshot(session_.snapshot());
  other.onRequest(request(XdsType::Cluster, {}));
  ack(XdsType::Cluster, other, other_stream);
  EXPECT_EQ(other.status(XdsType::Cluster).acked_version, session_.status(XdsType::Cluster).acked_version);
  EXPECT_EQ(other.snapshot().get(), session_.snapshot().get());
}

}  // namespace
}  // namespace sluice::control
