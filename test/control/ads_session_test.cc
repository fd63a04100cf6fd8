// The ADS protocol state machine against a fake stream: each lesson of
// XDS-LESSONS.md that step 1 implements is a test here that fails without it.
#include "control/ads_session.h"

#include <gtest/gtest.h>

#include "control/translator.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "test_registry.h"

namespace sluice::control {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using test::registryOf;
using test::twoZones;

class FakeStream : public ResponseSink {
 public:
  void send(const DiscoveryResponse& response) override { sent.push_back(response); }
  std::vector<DiscoveryResponse> sent;
};

class AdsSessionTest : public ::testing::Test {
 protected:
  AdsSessionTest() : session_(stream_, counters_) {
    session_.setNode(envoy::config::core::v3::Node());
    session_.setSnapshot(translate(*registryOf(twoZones()), "edge"));
  }

  static DiscoveryRequest request(XdsType type, std::vector<std::string> names, const std::string& nonce = "",
                                  const std::string& version = "") {
    DiscoveryRequest r;
    r.set_type_url(std::string(typeUrl(type)));
    for (auto& n : names) r.add_resource_names(n);
    r.set_response_nonce(nonce);
    r.set_version_info(version);
    return r;
  }
  // The last response of `type` sent, or null.
  const DiscoveryResponse* last(XdsType type) const {
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
  // ACKs the last response of `type` with `names`.
  void ack(XdsType type, std::vector<std::string> names = {}) {
    const auto* r = last(type);
    ASSERT_NE(r, nullptr);
    session_.onRequest(request(type, std::move(names), r->nonce(), r->version_info()));
  }
  void nack(XdsType type, std::vector<std::string> names, const std::string& message, bool claim_new_version) {
    const auto* r = last(type);
    ASSERT_NE(r, nullptr);
    auto q = request(type, std::move(names), r->nonce(),
                     claim_new_version ? r->version_info() : session_.status(type).acked_version);
    q.mutable_error_detail()->set_code(3);
    q.mutable_error_detail()->set_message(message);
    session_.onRequest(q);
  }
  void setRegistry(const std::string& yaml) { session_.setSnapshot(translate(*registryOf(yaml), "edge")); }
  std::vector<std::string> names(const DiscoveryResponse& response) const {
    std::vector<std::string> out;
    for (const auto& any : response.resources()) {
      if (any.type_url() == typeUrl(XdsType::Endpoint)) {
        envoy::config::endpoint::v3::ClusterLoadAssignment cla;
        any.UnpackTo(&cla);
        out.push_back(cla.cluster_name());
      } else {
        envoy::config::cluster::v3::Cluster c;  // listeners and clusters both have `name` = field 1
        c.ParseFromString(any.value());
        out.push_back(c.name());
      }
    }
    return out;
  }

  FakeStream stream_;
  SessionCounters counters_;
  AdsSession session_;
};

const std::vector<std::string> kEds = {"echo.z1", "echo.z2", "other.z1", "other.z2"};

TEST_F(AdsSessionTest, AnEmptyFirstCdsRequestIsAWildcardAndGetsEveryCluster) {
  session_.onRequest(request(XdsType::Cluster, {}));
  ASSERT_EQ(stream_.sent.size(), 1u);
  EXPECT_EQ(names(stream_.sent[0]), kEds);
  EXPECT_EQ(session_.status(XdsType::Cluster).state, SyncState::Stale);
  ack(XdsType::Cluster);
  EXPECT_EQ(session_.status(XdsType::Cluster).state, SyncState::Synced);
  EXPECT_EQ(counters_.acks, 1u);
}

// xDS's legacy wildcard: only a stream that never named a resource of the
// type. A gRPC client whose route drops every cluster sends an empty list
// meaning "none"; taking it as a wildcard sent it every cluster.
TEST_F(AdsSessionTest, AnEmptyCdsRequestAfterNamesUnsubscribesFromEverything) {
  session_.onRequest(request(XdsType::Cluster, {"echo.z1"}));
  ack(XdsType::Cluster, {"echo.z1"});
  session_.onRequest(request(XdsType::Cluster, {}, last(XdsType::Cluster)->nonce()));
  EXPECT_FALSE(session_.status(XdsType::Cluster).wildcard);
  ASSERT_NE(last(XdsType::Cluster), nullptr);
  EXPECT_TRUE(names(*last(XdsType::Cluster)).empty());
  // Still a wildcard while it is one: an empty ACK of a wildcard response.
  AdsSession other(stream_, counters_);
  other.setNode(envoy::config::core::v3::Node());
  other.setSnapshot(translate(*registryOf(twoZones()), "edge"));
  other.onRequest(request(XdsType::Cluster, {}));
  other.onRequest(
      request(XdsType::Cluster, {}, last(XdsType::Cluster)->nonce(), last(XdsType::Cluster)->version_info()));
  EXPECT_TRUE(other.status(XdsType::Cluster).wildcard);
}

TEST_F(AdsSessionTest, AnAckOfTheCurrentVersionGetsNothingMore) {
  session_.onRequest(request(XdsType::Cluster, {}));
  ack(XdsType::Cluster);
  setRegistry(twoZones());  // the same content
  EXPECT_EQ(stream_.sent.size(), 1u);
}

// XDS-LESSONS: a new subscription gets data even when the client claims the
// current version (a reconnect, or a cluster removed and re-added).
TEST_F(AdsSessionTest, AFirstRequestIsAnsweredEvenWhenItClaimsTheCurrentVersion) {
  session_.onRequest(request(XdsType::Endpoint, kEds));
  const std::string current = last(XdsType::Endpoint)->version_info();
  FakeStream other_stream;
  AdsSession reconnected(other_stream, counters_);
  reconnected.setNode(envoy::config::core::v3::Node());
  reconnected.setSnapshot(session_.snapshot());
  reconnected.onRequest(request(XdsType::Endpoint, kEds, "", current));
  ASSERT_EQ(other_stream.sent.size(), 1u);
  EXPECT_EQ(other_stream.sent[0].version_info(), current);
}

TEST_F(AdsSessionTest, AReAddedClusterGetsItsAssignmentAgain) {
  session_.onRequest(request(XdsType::Endpoint, kEds));
  ack(XdsType::Endpoint, kEds);
  ack(XdsType::Endpoint, {"echo.z1"});  // echo.z2 gone: a response for the new names
  ASSERT_EQ(sentOf(XdsType::Endpoint), 2u);
  ack(XdsType::Endpoint, {"echo.z1"});
  ack(XdsType::Endpoint, {"echo.z1", "echo.z2"});  // and back: it must come again
  ASSERT_EQ(sentOf(XdsType::Endpoint), 3u);
  EXPECT_EQ(names(*last(XdsType::Endpoint)), (std::vector<std::string>{"echo.z1", "echo.z2"}));
}

// XDS-LESSONS: after a CDS change the client asks for EDS again with the
// names, version and nonce it already has; answering nothing leaves its
// clusters warming for ever.
TEST_F(AdsSessionTest, AnEdsRequestAskedAgainAfterACdsUpdateIsAnswered) {
  session_.onRequest(request(XdsType::Endpoint, kEds));
  ack(XdsType::Endpoint, kEds);
  ASSERT_EQ(sentOf(XdsType::Endpoint), 1u);
  ack(XdsType::Endpoint, kEds);  // the same request again
  ASSERT_EQ(sentOf(XdsType::Endpoint), 2u);
  EXPECT_EQ(stream_.sent[1].version_info(), stream_.sent[0].version_info());
  ack(XdsType::Endpoint, kEds);  // the ACK of that: no loop
  EXPECT_EQ(sentOf(XdsType::Endpoint), 2u);
}

// XDS-LESSONS: EDS names the server does not know get an empty assignment,
// never silence.
TEST_F(AdsSessionTest, UnknownEdsNamesGetAnEmptyAssignment) {
  session_.onRequest(request(XdsType::Endpoint, {"echo.z1", "gone.z9"}));
  ASSERT_EQ(stream_.sent.size(), 1u);
  EXPECT_EQ(names(stream_.sent[0]), (std::vector<std::string>{"echo.z1", "gone.z9"}));
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  ASSERT_TRUE(stream_.sent[0].resources(1).UnpackTo(&cla));
  EXPECT_EQ(cla.endpoints_size(), 0);
}

// XDS-LESSONS: at most one un-ACKed response per type; changes meanwhile are
// sent after the ACK, the latest only.
TEST_F(AdsSessionTest, OneUnackedResponsePerTypeAndTheLatestStateAfterTheAck) {
  session_.onRequest(request(XdsType::Endpoint, kEds));
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));
  setRegistry(twoZones("{ address: 10.0.0.6, port: 80, zone: z1 }"));
  EXPECT_EQ(sentOf(XdsType::Endpoint), 1u);
  ack(XdsType::Endpoint, kEds);
  ASSERT_EQ(sentOf(XdsType::Endpoint), 2u);
  const std::string expected = session_.status(XdsType::Endpoint).current_version;
  EXPECT_EQ(last(XdsType::Endpoint)->version_info(), expected);
}

// XDS-LESSONS: a NACKed version is not sent again in a loop; it is parked
// until the state changes, and counted. The NACK is read from error_detail,
// even when the request claims the version it refuses.
TEST_F(AdsSessionTest, ANackedVersionIsParkedUntilTheStateChanges) {
  session_.onRequest(request(XdsType::Cluster, {}));
  ack(XdsType::Cluster);
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }", "{ z1: 50 }"));  // runtime changes
  session_.onRequest(request(XdsType::Runtime, {"zone_weights"}));
  const std::string refused = last(XdsType::Runtime)->version_info();
  nack(XdsType::Runtime, {"zone_weights"}, "bad layer", /*claim_new_version=*/true);
  EXPECT_EQ(counters_.nacks, 1u);
  EXPECT_EQ(counters_.acks, 1u);
  const auto status = session_.status(XdsType::Runtime);
  EXPECT_EQ(status.state, SyncState::Nacked);
  EXPECT_EQ(status.nack_error, "bad layer");
  EXPECT_EQ(status.nacked_version, refused);
  const size_t before = stream_.sent.size();
  session_.onRequest(request(XdsType::Runtime, {"zone_weights"}));  // asked again: still parked
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }", "{ z1: 50 }"));
  EXPECT_EQ(stream_.sent.size(), before);
  EXPECT_GE(counters_.nack_parked, 1u);
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }", "{ z1: 40 }"));  // a new state: sent
  ASSERT_EQ(stream_.sent.size(), before + 1);
  EXPECT_NE(last(XdsType::Runtime)->version_info(), refused);
  ack(XdsType::Runtime, {"zone_weights"});
  EXPECT_EQ(session_.status(XdsType::Runtime).state, SyncState::Synced);
}

// XDS-LESSONS: a request with a stale nonce is not an ACK, but the names it
// carries are honoured on the next response.
TEST_F(AdsSessionTest, AStaleNonceIsNotAnAckButItsNamesAreHonoured) {
  session_.onRequest(request(XdsType::Endpoint, {"echo.z1"}));
  const std::string first_nonce = last(XdsType::Endpoint)->nonce();
  ack(XdsType::Endpoint, {"echo.z1"});
  setRegistry(twoZones("{ address: 10.0.0.5, port: 80, zone: z1 }"));
  ASSERT_EQ(sentOf(XdsType::Endpoint), 2u);  // nonce 2 in flight
  // The client had not seen nonce 2 when it subscribed to echo.z2.
  session_.onRequest(request(XdsType::Endpoint, {"echo.z1", "echo.z2"}, first_nonce));
  EXPECT_EQ(counters_.stale_nonces, 1u);
  EXPECT_EQ(sentOf(XdsType::Endpoint), 2u);
  EXPECT_TRUE(session_.status(XdsType::Endpoint).awaiting_ack);
  // Its ACK of nonce 2 carries the names it has now; echo.z2 comes.
  ack(XdsType::Endpoint, {"echo.z1", "echo.z2"});
  ASSERT_EQ(sentOf(XdsType::Endpoint), 3u);
  EXPECT_EQ(names(*last(XdsType::Endpoint)), (std::vector<std::string>{"echo.z1", "echo.z2"}));
}

// XDS-LESSONS: make before break — types go in order (CDS, EDS, LDS, RDS,
// then runtime), and what a change removes goes last.
TEST_F(AdsSessionTest, ChangesArePushedInOrderAndRemovalsLast) {
  session_.onRequest(request(XdsType::Runtime, {"zone_weights"}));
  session_.onRequest(request(XdsType::Cluster, {}));
  session_.onRequest(request(XdsType::Endpoint, kEds));
  session_.onRequest(request(XdsType::Listener, {}));
  session_.onRequest(request(XdsType::Route, {"edge"}));
  for (const XdsType type : kPushOrder)
    ack(type, type == XdsType::Endpoint  ? kEds
              : type == XdsType::Route   ? std::vector<std::string>{"edge"}
              : type == XdsType::Runtime ? std::vector<std::string>{"zone_weights"}
                                         : std::vector<std::string>{});
  size_t mark = stream_.sent.size();
  // `other` goes away and echo gets a new instance and a drain: every type changes.
  setRegistry(R"(
zones: [z1, z2]
services:
  - { name: echo, instances: [ { address: 10.0.0.1, port: 80, zone: z1 }, { address: 10.0.0.7, port: 80, zone: z2 } ] }
  - { name: third, instances: [ { address: 10.0.2.1, port: 80, zone: z1 } ] }
gateways:
  - { name: edge, port: 10001, virtual_hosts: [ { domains: ["*"], routes: [ { prefix: /, service: echo } ] } ] }
zone_weights: { z2: 20 }
)");
  std::vector<std::string> order;
  for (size_t i = mark; i < stream_.sent.size(); ++i) order.push_back(stream_.sent[i].type_url());
  EXPECT_EQ(order,
            (std::vector<std::string>{std::string(typeUrl(XdsType::Cluster)), std::string(typeUrl(XdsType::Endpoint)),
                                      std::string(typeUrl(XdsType::Listener)), std::string(typeUrl(XdsType::Route)),
                                      std::string(typeUrl(XdsType::Runtime))}));
  // The first CDS response adds third's clusters and keeps other's.
  EXPECT_EQ(names(*last(XdsType::Cluster)),
            (std::vector<std::string>{"echo.z1", "echo.z2", "other.z1", "other.z2", "third.z1", "third.z2"}));
  ack(XdsType::Runtime, {"zone_weights"});
  ack(XdsType::Cluster);
  ack(XdsType::Endpoint, {"echo.z1", "echo.z2", "other.z1", "other.z2", "third.z1", "third.z2"});
  ack(XdsType::Listener);
  // The new names' EDS response (third's clusters), ACKed.
  ASSERT_EQ(stream_.sent.size(), 11u);
  ack(XdsType::Endpoint, {"echo.z1", "echo.z2", "other.z1", "other.z2", "third.z1", "third.z2"});
  mark = stream_.sent.size();
  EXPECT_EQ(mark, 11u) << "the removals wait until RDS is ACKed too";
  ack(XdsType::Route, {"edge"});
  ASSERT_EQ(stream_.sent.size(), mark + 2) << "removals go once every type is ACKed";
  // The listener only changed, never went. other's assignments empty, then its clusters go.
  EXPECT_EQ(stream_.sent[mark].type_url(), typeUrl(XdsType::Endpoint));
  envoy::config::endpoint::v3::ClusterLoadAssignment other;
  ASSERT_TRUE(stream_.sent[mark].resources(2).UnpackTo(&other));
  EXPECT_EQ(other.cluster_name(), "other.z1");
  EXPECT_EQ(other.endpoints_size(), 0);
  EXPECT_EQ(stream_.sent.back().type_url(), typeUrl(XdsType::Cluster));
  EXPECT_EQ(names(stream_.sent.back()), (std::vector<std::string>{"echo.z1", "echo.z2", "third.z1", "third.z2"}));
}

// A zone that loses its last instance keeps its endpoints until the routes
// and the zone weights have moved the traffic away: no 503 in between.
TEST_F(AdsSessionTest, AnAssignmentKeepsItsLastEndpointsUntilTrafficHasMovedAway) {
  session_.onRequest(request(XdsType::Endpoint, kEds));
  session_.onRequest(request(XdsType::Route, {"edge"}));
  session_.onRequest(request(XdsType::Runtime, {"zone_weights"}));
  ack(XdsType::Endpoint, kEds);
  ack(XdsType::Route, {"edge"});
  ack(XdsType::Runtime, {"zone_weights"});
  const size_t mark = stream_.sent.size();
  setRegistry(R"(
zones: [z1, z2]
services:
  - { name: echo, instances: [ { address: 10.0.0.1, port: 80, zone: z1 } ] }
  - { name: other, instances: [ { address: 10.0.1.1, port: 80, zone: z1 } ] }
gateways:
  - name: edge
    port: 10000
    virtual_hosts: [ { domains: ["*"], routes: [ { prefix: /other, service: other }, { prefix: /, service: echo } ] } ]
)");
  ASSERT_EQ(stream_.sent.size(), mark + 2);  // no EDS yet: echo.z2 keeps 10.0.0.2
  EXPECT_EQ(stream_.sent[mark].type_url(), typeUrl(XdsType::Route));
  EXPECT_EQ(stream_.sent[mark + 1].type_url(), typeUrl(XdsType::Runtime));
  ack(XdsType::Route, {"edge"});
  EXPECT_EQ(stream_.sent.size(), mark + 2);
  ack(XdsType::Runtime, {"zone_weights"});
  ASSERT_EQ(stream_.sent.size(), mark + 3);
  EXPECT_EQ(stream_.sent.back().type_url(), typeUrl(XdsType::Endpoint));
  envoy::config::endpoint::v3::ClusterLoadAssignment z2;
  ASSERT_TRUE(stream_.sent.back().resources(1).UnpackTo(&z2));
  EXPECT_EQ(z2.cluster_name(), "echo.z2");
  EXPECT_EQ(z2.endpoints_size(), 0);
}

TEST_F(AdsSessionTest, RemovedListenersGoBeforeRemovedClusters) {
  session_.onRequest(request(XdsType::Cluster, {}));
  session_.onRequest(request(XdsType::Listener, {}));
  ack(XdsType::Cluster);
  ack(XdsType::Listener);
  stream_.sent.clear();
  setRegistry("zones: [z1, z2]\n");  // everything goes; nothing is added, so removals start at once
  ASSERT_EQ(stream_.sent.size(), 2u);
  EXPECT_EQ(stream_.sent[0].type_url(), typeUrl(XdsType::Listener));
  EXPECT_EQ(stream_.sent[0].resources_size(), 0);
  EXPECT_EQ(stream_.sent[1].type_url(), typeUrl(XdsType::Cluster));
  EXPECT_EQ(stream_.sent[1].resources_size(), 0);
}

TEST_F(AdsSessionTest, SessionsOfOneSnapshotGetTheSameVersions) {
  FakeStream other_stream;
  AdsSession other(other_stream, counters_);
  other.setNode(envoy::config::core::v3::Node());
  other.setSnapshot(translate(*registryOf(twoZones()), "edge"));
  for (const XdsType type : kPushOrder) {
    const std::vector<std::string> n = type == XdsType::Endpoint  ? kEds
                                       : type == XdsType::Route   ? std::vector<std::string>{"edge"}
                                       : type == XdsType::Runtime ? std::vector<std::string>{"zone_weights"}
                                                                  : std::vector<std::string>{};
    session_.onRequest(request(type, n));
    other.onRequest(request(type, n));
    EXPECT_EQ(last(type)->version_info(), other_stream.sent.back().version_info()) << typeShortName(type);
  }
}

}  // namespace
}  // namespace sluice::control
