#include "control/drift.h"

#include <gtest/gtest.h>

#include "control/translator.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "test_registry.h"

namespace sluice::control {
namespace {

using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using test::registryOf;
using test::twoZones;

ClusterLoadAssignment assignment(std::vector<std::pair<std::string, uint32_t>> endpoints) {
  ClusterLoadAssignment out;
  out.set_cluster_name("echo.z1");
  auto* locality = out.add_endpoints();
  locality->mutable_locality()->set_zone("z1");
  for (const auto& [address, port] : endpoints) {
    auto* socket = locality->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
    socket->set_address(address);
    socket->set_port_value(port);
  }
  return out;
}

TEST(EffectiveEndpointsHash, FollowsTheEndpointsNotTheirOrder) {
  const auto ab = makeResource(assignment({{"10.0.0.1", 80}, {"10.0.0.2", 80}}));
  const auto ba = makeResource(assignment({{"10.0.0.2", 80}, {"10.0.0.1", 80}}));
  const auto other_port = makeResource(assignment({{"10.0.0.1", 80}, {"10.0.0.2", 81}}));
  EXPECT_NE(ab->version, ba->version);                                  // other bytes...
  EXPECT_EQ(effectiveEndpointsHash(*ab), effectiveEndpointsHash(*ba));  // ...the same endpoints served
  EXPECT_NE(effectiveEndpointsHash(*ab), effectiveEndpointsHash(*other_port));
  auto unhealthy = assignment({{"10.0.0.1", 80}, {"10.0.0.2", 80}});
  unhealthy.mutable_endpoints(0)->mutable_lb_endpoints(1)->set_health_status(envoy::config::core::v3::DEGRADED);
  EXPECT_NE(effectiveEndpointsHash(*ab), effectiveEndpointsHash(*makeResource(unhealthy)));
  EXPECT_EQ(effectiveEndpointsHash(Resource{}), "");  // not an assignment
}

class FakeStream : public ResponseSink {
 public:
  void send(const DiscoveryResponse& response) override { sent.push_back(response); }
  std::vector<DiscoveryResponse> sent;
};

class DriftDetectorTest : public ::testing::Test {
 protected:
  DriftDetectorTest() : cp_(io_, {std::chrono::milliseconds(1), std::chrono::milliseconds(1)}) {
    cp_.start(registryOf(twoZones()), "test");
  }
  // Opens a stream of node `id` subscribed to echo.z1's endpoints.
  uint64_t connect(FakeStream& stream, const std::string& id) {
    const uint64_t session = cp_.openSession(stream);
    DiscoveryRequest r;
    r.mutable_node()->set_id(id);
    r.mutable_node()->set_cluster("edge");
    r.set_type_url(std::string(typeUrl(XdsType::Endpoint)));
    r.add_resource_names("echo.z1");
    cp_.onRequest(session, r);
    return session;
  }
  void ack(uint64_t session, const FakeStream& stream) {
    DiscoveryRequest r;
    r.set_type_url(std::string(typeUrl(XdsType::Endpoint)));
    r.add_resource_names("echo.z1");
    r.set_version_info(stream.sent.back().version_info());
    r.set_response_nonce(stream.sent.back().nonce());
    cp_.onRequest(session, r);
  }
  void change(const std::string& extra_instance) {
    cp_.onRegistryUpdate(registryOf(twoZones(extra_instance)));
    io_.run();  // the debounce
    io_.restart();
  }

  asio::io_context io_;
  ControlPlane cp_;
};

TEST_F(DriftDetectorTest, ReportsAProxyBehindOnlyPastTheThresholdAndCountsItOnce) {
  DriftDetector drift(io_, cp_, std::chrono::hours(1));
  FakeStream stream;
  const uint64_t session = connect(stream, "n1");
  drift.check();  // sent, not ACKed: behind, but not for an hour
  EXPECT_EQ(drift.json(session)["state"], "in_sync");
  EXPECT_EQ(drift.drifted(), 0u);
  DriftDetector strict(io_, cp_, std::chrono::milliseconds(0));
  strict.check();
  EXPECT_EQ(strict.json(session)["state"], "behind");
  EXPECT_EQ(strict.json(session)["clusters_behind"], nlohmann::json::array({"echo.z1"}));
  strict.check();
  EXPECT_EQ(strict.events(), 1u);  // one episode, one event
  EXPECT_EQ(strict.drifted(), 1u);
  ack(session, stream);
  strict.check();
  EXPECT_EQ(strict.json(session)["state"], "in_sync");
  EXPECT_EQ(strict.drifted(), 0u);
  const auto cluster = strict.json(session)["clusters"][0];
  EXPECT_EQ(cluster["acked_version"], cluster["current_version"]);
  EXPECT_EQ(cluster["acked_endpoints_hash"], cluster["current_endpoints_hash"]);
}

TEST_F(DriftDetectorTest, ARegistryChangeTheProxyDoesNotAckPutsItBehindAndAnEqualOneBackInSync) {
  DriftDetector drift(io_, cp_, std::chrono::milliseconds(0));
  FakeStream stream;
  const uint64_t session = connect(stream, "n1");
  ack(session, stream);
  drift.check();
  ASSERT_EQ(drift.json(session)["state"], "in_sync");
  change("{ address: 10.0.0.9, port: 80, zone: z1 }");  // pushed, never ACKed
  drift.check();
  EXPECT_EQ(drift.json(session)["state"], "behind");
  const auto cluster = drift.json(session)["clusters"][0];
  EXPECT_NE(cluster["acked_endpoints_hash"], cluster["current_endpoints_hash"]);
  change("");  // back to what the proxy serves
  drift.check();
  EXPECT_EQ(drift.json(session)["state"], "in_sync");
  EXPECT_EQ(drift.events(), 1u);
}

TEST_F(DriftDetectorTest, AClosedStreamIsForgotten) {
  DriftDetector drift(io_, cp_, std::chrono::milliseconds(0));
  FakeStream stream;
  const uint64_t session = connect(stream, "n1");
  drift.check();
  EXPECT_EQ(drift.drifted(), 1u);
  cp_.closeSession(session);
  drift.check();
  EXPECT_EQ(drift.drifted(), 0u);
  EXPECT_FALSE(drift.json(session).contains("clusters"));
}

}  // namespace
}  // namespace sluice::control
