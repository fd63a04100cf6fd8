#include "control/translator.h"

#include <gtest/gtest.h>

#include "config/discovery_file.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "envoy/service/runtime/v3/rtds.pb.h"
#include "test_registry.h"

namespace sluice::control {
namespace {

using test::registryOf;
using test::twoZones;

template <typename T>
T unpack(const Snapshot& snapshot, XdsType type, const std::string& name) {
  T out;
  const auto it = snapshot.of(type).find(name);
  EXPECT_NE(it, snapshot.of(type).end()) << name;
  if (it != snapshot.of(type).end()) {
    EXPECT_TRUE(it->second->any.UnpackTo(&out));
  }
  return out;
}

std::map<std::string, std::string> versions(const Snapshot& snapshot, XdsType type) {
  std::map<std::string, std::string> out;
  for (const auto& [name, r] : snapshot.of(type)) out[name] = r->version;
  return out;
}

// The proof the brief asks for: each type's resources, as one SotW response,
// pass the checks sluice's xDS client runs on a response (and route tables
// its semantic checks).
TEST(Translator, TranslatedSnapshotIsAcceptedBySluicesValidator) {
  const auto snapshot = translate(*registryOf(twoZones()), "edge");
  EXPECT_TRUE(snapshot->skipped.empty());
  for (const XdsType type : kPushOrder) {
    envoy::service::discovery::v3::DiscoveryResponse response;
    response.set_type_url(std::string(typeUrl(type)));
    for (const auto& [name, resource] : snapshot->of(type)) *response.add_resources() = resource->any;
    ASSERT_GT(response.resources_size(), 0) << typeShortName(type);
    config::DiscoveryFile decoded;
    config::ErrorList errors;
    EXPECT_TRUE(config::readDiscoveryResponse(response, std::string(typeMessageName(type)), decoded, errors))
        << typeShortName(type) << ": " << errors.toString();
    for (const auto& [name, resource] : snapshot->of(type)) EXPECT_EQ(checkResource(type, *resource), "") << name;
  }
}

TEST(Translator, OneEdsClusterPerServiceAndZone) {
  const auto snapshot = translate(*registryOf(twoZones()), "edge");
  EXPECT_EQ(versions(*snapshot, XdsType::Cluster).size(), 4u);
  const auto cluster = unpack<envoy::config::cluster::v3::Cluster>(*snapshot, XdsType::Cluster, "echo.z2");
  EXPECT_EQ(cluster.type(), envoy::config::cluster::v3::Cluster::EDS);
  EXPECT_TRUE(cluster.eds_cluster_config().eds_config().has_ads());
}

TEST(Translator, AssignmentCarriesTheZoneAsLocalityAndLeavesOutUnhealthyInstances) {
  const auto snapshot = translate(*registryOf(twoZones("{ address: 10.0.0.3, port: 81, zone: z1, weight: 5 }\n      - "
                                                       "{ address: 10.0.0.4, port: 81, zone: z1, health: unhealthy }")),
                                  "edge");
  const auto cla = unpack<envoy::config::endpoint::v3::ClusterLoadAssignment>(*snapshot, XdsType::Endpoint, "echo.z1");
  ASSERT_EQ(cla.endpoints_size(), 1);
  EXPECT_EQ(cla.endpoints(0).locality().zone(), "z1");
  ASSERT_EQ(cla.endpoints(0).lb_endpoints_size(), 2);
  EXPECT_EQ(cla.endpoints(0).lb_endpoints(1).endpoint().address().socket_address().address(), "10.0.0.3");
  EXPECT_EQ(cla.endpoints(0).lb_endpoints(1).load_balancing_weight().value(), 5u);
  // A zone with no instance: an empty assignment, so the cluster warms.
  const auto empty =
      unpack<envoy::config::endpoint::v3::ClusterLoadAssignment>(*snapshot, XdsType::Endpoint, "other.z2");
  EXPECT_EQ(empty.endpoints_size(), 0);
}

TEST(Translator, ADegradedInstanceIsSentDegradedToAnEdgeNodeAndAsHealthyToAGrpcClient) {
  const std::string degraded = "{ address: 10.0.0.3, port: 81, zone: z1, health: degraded }";
  const auto edge = translate(*registryOf(twoZones(degraded)), "edge");
  const auto cla = unpack<envoy::config::endpoint::v3::ClusterLoadAssignment>(*edge, XdsType::Endpoint, "echo.z1");
  ASSERT_EQ(cla.endpoints(0).lb_endpoints_size(), 2);
  EXPECT_EQ(cla.endpoints(0).lb_endpoints(0).health_status(), envoy::config::core::v3::UNKNOWN);
  EXPECT_EQ(cla.endpoints(0).lb_endpoints(1).health_status(), envoy::config::core::v3::DEGRADED);
}

TEST(Translator, GatewayListenerTakesRoutesByRdsOverAds) {
  const auto snapshot = translate(*registryOf(twoZones()), "edge");
  const auto listener = unpack<envoy::config::listener::v3::Listener>(*snapshot, XdsType::Listener, "edge");
  EXPECT_EQ(listener.address().socket_address().port_value(), 10000u);
  EXPECT_EQ(listener.address().socket_address().address(), "0.0.0.0");
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  ASSERT_TRUE(listener.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.rds().route_config_name(), "edge");
  EXPECT_TRUE(hcm.rds().config_source().has_ads());
}

TEST(Translator, RoutesSplitOverZoneClustersWithARuntimeKeyPrefix) {
  const auto snapshot = translate(*registryOf(twoZones()), "edge");
  const auto routes = unpack<envoy::config::route::v3::RouteConfiguration>(*snapshot, XdsType::Route, "edge");
  ASSERT_EQ(routes.virtual_hosts(0).routes_size(), 2);
  const auto& split = routes.virtual_hosts(0).routes(1).route().weighted_clusters();
  EXPECT_EQ(split.runtime_key_prefix(), "zone_weights.echo");
  ASSERT_EQ(split.clusters_size(), 2);
  EXPECT_EQ(split.clusters(0).name(), "echo.z1");
  EXPECT_EQ(split.clusters(1).name(), "echo.z2");
  // `other` has nothing in z2: that cluster gets no share.
  const auto& other = routes.virtual_hosts(0).routes(0).route().weighted_clusters();
  EXPECT_EQ(other.clusters(0).weight().value(), 100u);
  EXPECT_EQ(other.clusters(1).weight().value(), 0u);
}

TEST(Translator, ZoneWeightsLiveInTheRuntimeLayerAndADrainChangesOnlyIt) {
  const auto before = translate(*registryOf(twoZones()), "edge");
  const auto after = translate(*registryOf(twoZones("", "{ z1: 10 }")), "edge");
  const auto layer = unpack<envoy::service::runtime::v3::Runtime>(*after, XdsType::Runtime, "zone_weights");
  EXPECT_EQ(layer.layer().fields().at("zone_weights.echo.echo.z1").number_value(), 10);
  EXPECT_EQ(layer.layer().fields().at("zone_weights.echo.echo.z2").number_value(), 100);
  EXPECT_NE(versions(*before, XdsType::Runtime), versions(*after, XdsType::Runtime));
  for (const XdsType type : {XdsType::Cluster, XdsType::Endpoint, XdsType::Listener, XdsType::Route}) {
    EXPECT_EQ(versions(*before, type), versions(*after, type)) << typeShortName(type);
  }
}

// Per-cluster EDS versions: an instance added in one zone changes that
// assignment's version only.
TEST(Translator, AnEndpointChangeChangesOnlyThatAssignmentsVersion) {
  const auto before = versions(*translate(*registryOf(twoZones()), "edge"), XdsType::Endpoint);
  const auto after = versions(*translate(*registryOf(twoZones("{ address: 10.0.0.9, port: 80, zone: z2 }")), "edge"),
                              XdsType::Endpoint);
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [name, version] : before) {
    if (name == "echo.z2") {
      EXPECT_NE(after.at(name), version);
    } else {
      EXPECT_EQ(after.at(name), version) << name;
    }
  }
}

// Replicas translate the same registry to the same versions.
TEST(Translator, VersionsAreContentHashes) {
  const auto a = translate(*registryOf(twoZones()), "edge");
  const auto b = translate(*registryOf(twoZones()), "edge");
  for (const XdsType type : kPushOrder) EXPECT_EQ(versions(*a, type), versions(*b, type));
}

TEST(Translator, Http2AndGrpcServicesAreNotSentToAnEdgeNodeAndSaySo) {
  const auto snapshot = translate(*registryOf(R"(
zones: [z1]
services:
  - { name: web, instances: [ { address: 10.0.0.1, port: 80, zone: z1 } ] }
  - { name: rpc, protocol: grpc, instances: [ { address: 10.0.0.2, port: 90, zone: z1 } ] }
gateways:
  - name: edge
    port: 10000
    virtual_hosts: [ { domains: ["*"], routes: [ { prefix: /rpc, service: rpc }, { prefix: /, service: web } ] } ]
)"),
                                  "edge");
  EXPECT_EQ(versions(*snapshot, XdsType::Cluster).size(), 1u);
  EXPECT_TRUE(snapshot->of(XdsType::Cluster).contains("web.z1"));
  const auto routes = unpack<envoy::config::route::v3::RouteConfiguration>(*snapshot, XdsType::Route, "edge");
  ASSERT_EQ(routes.virtual_hosts(0).routes_size(), 1);
  EXPECT_EQ(routes.virtual_hosts(0).routes(0).match().prefix(), "/");
  ASSERT_EQ(snapshot->skipped.size(), 2u);
  EXPECT_NE(snapshot->skipped[0].find("service 'rpc' left out: grpc upstreams are not supported"), std::string::npos)
      << snapshot->skipped[0];
}

TEST(Translator, ANodeOfNoGatewayGetsClustersAndRuntimeButNoListener) {
  const auto snapshot = translate(*registryOf(twoZones()), "not-a-gateway");
  EXPECT_FALSE(snapshot->of(XdsType::Cluster).empty());
  EXPECT_TRUE(snapshot->of(XdsType::Listener).empty());
  EXPECT_TRUE(snapshot->of(XdsType::Route).empty());
  EXPECT_EQ(snapshot->of(XdsType::Runtime).size(), 1u);
}

// A gRPC service in two zones, an HTTP/1 one beside it.
std::string grpcZones(const std::string& weights = "{}") {
  return "zones: [z1, z2]\n"
         "services:\n"
         "  - name: echo\n"
         "    protocol: grpc\n"
         "    instances:\n"
         "      - { address: 10.0.0.1, port: 90, zone: z1 }\n"
         "      - { address: 10.0.0.2, port: 90, zone: z2 }\n"
         "      - { address: 10.0.0.3, port: 90, zone: z2, health: draining }\n"
         "  - name: web\n"
         "    instances: [ { address: 10.0.1.1, port: 80, zone: z1 } ]\n"
         "zone_weights: " +
         weights + "\n";
}

envoy::config::core::v3::Node nodeOf(const std::string& user_agent, const std::string& feature = "") {
  envoy::config::core::v3::Node node;
  node.set_id("n1");
  node.set_user_agent_name(user_agent);
  if (!feature.empty()) node.add_client_features(feature);
  return node;
}

TEST(Translator, AGrpcClientIsToldByItsUserAgentOrItsClientFeatures) {
  EXPECT_EQ(nodeKindOf(nodeOf("gRPC Node Pure JS")), NodeKind::GrpcClient);  // grpc-js-xds
  EXPECT_EQ(nodeKindOf(nodeOf("gRPC Go")), NodeKind::GrpcClient);
  EXPECT_EQ(nodeKindOf(nodeOf("", "envoy.lb.does_not_support_overprovisioning")), NodeKind::GrpcClient);
  EXPECT_EQ(nodeKindOf(nodeOf("sluice")), NodeKind::Edge);
  EXPECT_EQ(nodeKindOf(nodeOf("envoy", "envoy.lrs.supports_send_all_clusters")), NodeKind::Edge);
  EXPECT_EQ(nodeKindOf(nodeOf("gRPCish")), NodeKind::Edge);
}

// Every resource a gRPC client gets passes the checks (a Listener's HCM the
// full ones); HTTP/1 services and the runtime layer are not in it.
TEST(Translator, GrpcClientSnapshotPassesTheChecksAndHoldsGrpcServicesOnly) {
  const auto snapshot = translateForGrpcClients(*registryOf(grpcZones()));
  EXPECT_TRUE(snapshot->skipped.empty()) << snapshot->skipped[0];
  EXPECT_EQ(versions(*snapshot, XdsType::Listener).size(), 1u);
  EXPECT_EQ(versions(*snapshot, XdsType::Route).size(), 1u);
  EXPECT_EQ(versions(*snapshot, XdsType::Cluster).size(), 2u);
  EXPECT_EQ(versions(*snapshot, XdsType::Endpoint).size(), 2u);
  EXPECT_TRUE(snapshot->of(XdsType::Runtime).empty());
  for (const XdsType type : kPushOrder) {
    for (const auto& [name, resource] : snapshot->of(type)) {
      EXPECT_EQ(checkGrpcClientResource(type, *resource), "") << name;
    }
  }
}

TEST(Translator, GrpcListenerIsAnApiListenerNamedAfterTheServiceWithRdsOverAdsAndTheRouterLast) {
  const auto snapshot = translateForGrpcClients(*registryOf(grpcZones()));
  const auto listener = unpack<envoy::config::listener::v3::Listener>(*snapshot, XdsType::Listener, "echo");
  EXPECT_FALSE(listener.has_address());
  EXPECT_EQ(listener.filter_chains_size(), 0);
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  ASSERT_TRUE(listener.api_listener().api_listener().UnpackTo(&hcm));
  EXPECT_EQ(hcm.rds().route_config_name(), "echo");
  EXPECT_TRUE(hcm.rds().config_source().has_ads());
  ASSERT_GE(hcm.http_filters_size(), 1);
  EXPECT_TRUE(hcm.http_filters(hcm.http_filters_size() - 1)
                  .typed_config()
                  .Is<envoy::extensions::filters::http::router::v3::Router>());
}

TEST(Translator, GrpcClusterIsRoundRobinEdsOverAdsAndItsLocalityHasAWeight) {
  const auto snapshot = translateForGrpcClients(*registryOf(grpcZones()));
  const auto cluster = unpack<envoy::config::cluster::v3::Cluster>(*snapshot, XdsType::Cluster, "echo.z2");
  EXPECT_EQ(cluster.type(), envoy::config::cluster::v3::Cluster::EDS);
  EXPECT_EQ(cluster.lb_policy(), envoy::config::cluster::v3::Cluster::ROUND_ROBIN);
  EXPECT_TRUE(cluster.eds_cluster_config().eds_config().has_ads());
  const auto cla = unpack<envoy::config::endpoint::v3::ClusterLoadAssignment>(*snapshot, XdsType::Endpoint, "echo.z2");
  ASSERT_EQ(cla.endpoints_size(), 1);
  EXPECT_EQ(cla.endpoints(0).locality().zone(), "z2");
  EXPECT_EQ(cla.endpoints(0).load_balancing_weight().value(), 1u);
  ASSERT_EQ(cla.endpoints(0).lb_endpoints_size(), 1);  // the draining instance left out
}

TEST(Translator, GrpcRouteCarriesTheZoneWeightsThemselves) {
  const auto snapshot = translateForGrpcClients(*registryOf(grpcZones("{ z1: 30 }")));
  const auto routes = unpack<envoy::config::route::v3::RouteConfiguration>(*snapshot, XdsType::Route, "echo");
  ASSERT_EQ(routes.virtual_hosts_size(), 1);
  ASSERT_EQ(routes.virtual_hosts(0).routes_size(), 1);
  const auto& split = routes.virtual_hosts(0).routes(0).route().weighted_clusters();
  EXPECT_EQ(split.runtime_key_prefix(), "");
  ASSERT_EQ(split.clusters_size(), 2);
  EXPECT_EQ(split.clusters(0).name(), "echo.z1");
  EXPECT_EQ(split.clusters(0).weight().value(), 30u);
  EXPECT_EQ(split.clusters(1).name(), "echo.z2");
  EXPECT_EQ(split.clusters(1).weight().value(), 100u);
}

// gRPC NACKs a split whose weights add up to 0: a zone at 0 is left out.
TEST(Translator, AGrpcRouteLeavesOutAZoneOfWeightZero) {
  const auto snapshot = translateForGrpcClients(*registryOf(grpcZones("{ z2: 0 }")));
  const auto routes = unpack<envoy::config::route::v3::RouteConfiguration>(*snapshot, XdsType::Route, "echo");
  const auto& split = routes.virtual_hosts(0).routes(0).route().weighted_clusters();
  ASSERT_EQ(split.clusters_size(), 1);
  EXPECT_EQ(split.clusters(0).name(), "echo.z1");
  // The cluster stays: only the route stops sending to it.
  EXPECT_TRUE(snapshot->of(XdsType::Cluster).contains("echo.z2"));
}

TEST(Translator, AGrpcServiceWithEveryZoneDrainedHasNoRoute) {
  const auto snapshot = translateForGrpcClients(*registryOf(grpcZones("{ z1: 0, z2: 0 }")));
  const auto routes = unpack<envoy::config::route::v3::RouteConfiguration>(*snapshot, XdsType::Route, "echo");
  ASSERT_EQ(routes.virtual_hosts_size(), 1);
  EXPECT_EQ(routes.virtual_hosts(0).routes_size(), 0);
  EXPECT_EQ(checkGrpcClientResource(XdsType::Route, *snapshot->of(XdsType::Route).at("echo")), "");
}

TEST(Translator, GrpcClientCheckRejectsAListenerWithoutAnHttpConnectionManager) {
  envoy::config::listener::v3::Listener listener;
  listener.set_name("echo");
  listener.mutable_api_listener()->mutable_api_listener()->PackFrom(
      envoy::extensions::filters::http::router::v3::Router());
  EXPECT_NE(checkGrpcClientResource(XdsType::Listener, *makeResource(listener)).find("HttpConnectionManager"),
            std::string::npos);
  // And an edge node's check refuses an API listener by name.
  const auto snapshot = translateForGrpcClients(*registryOf(grpcZones()));
  EXPECT_NE(checkResource(XdsType::Listener, *snapshot->of(XdsType::Listener).at("echo")).find("api_listener"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::control
