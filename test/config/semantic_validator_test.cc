// Semantic rules: each has an accepted and a rejected case with the exact path.
#include "config/semantic_validator.h"

#include <gtest/gtest.h>

#include "config/yaml_to_proto.h"

namespace sluice::config {
namespace {

ErrorList semantics(const std::string& yaml) {
  envoy::config::bootstrap::v3::Bootstrap b;
  ErrorList errors;
  parseYamlInto(yaml, b, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  checkSemantics(b, errors);
  return errors;
}

std::string cluster(const std::string& name, const std::string& address = "127.0.0.1",
                    const std::string& type = "STATIC") {
  return "  - name: " + name + "\n    type: " + type + "\n    load_assignment: { endpoints: [ { lb_endpoints: [ { " +
         "endpoint: { address: { socket_address: { address: '" + address + "', port_value: 80 } } } } ] } ] }\n";
}

const std::string kRouterFilters =
    "          http_filters:\n          - name: router\n            typed_config: { '@type': "
    "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }\n";

// One listener on `port` whose single route goes to `route`.
std::string listener(const std::string& name, int port, const std::string& route = "cluster: web",
                     const std::string& vhosts_extra = "") {
  return "  - name: " + name +
         "\n    address: { socket_address: { address: 127.0.0.1, port_value: " + std::to_string(port) +
         " } }\n"
         "    filter_chains:\n    - filters:\n      - name: hcm\n        typed_config:\n"
         "          '@type': "
         "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
         "          stat_prefix: in\n" +
         kRouterFilters +
         "          route_config:\n            virtual_hosts:\n            - name: vh\n              domains: ['*']\n"
         "              routes:\n              - match: { prefix: / }\n                route: { " +
         route + " }\n" + vhosts_extra;
}

std::string config(const std::string& listeners, const std::string& clusters) {
  return "static_resources:\n  listeners:\n" + listeners + "  clusters:\n" + clusters;
}

std::string onlyError(const ErrorList& errors) {
  EXPECT_EQ(errors.size(), 1u) << errors.toString();
  return errors.empty() ? "" : errors.errors()[0].toString();
}

TEST(Semantics, AcceptsAConsistentConfig) {
  EXPECT_TRUE(semantics(config(listener("a", 1000) + listener("b", 1001), cluster("web"))).empty());
}

TEST(Semantics, RejectsDuplicateListenerNames) {
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000) + listener("a", 1001), cluster("web")))),
            "static_resources.listeners[1].name: duplicate listener name 'a' (first at "
            "static_resources.listeners[0].name)");
}

TEST(Semantics, RejectsDuplicateRuntimeLayerNames) {
  EXPECT_EQ(
      onlyError(semantics("layered_runtime:\n  layers:\n  - {name: a, static_layer: {}}\n"
                          "  - {name: a, admin_layer: {}}\n")),
      "layered_runtime.layers[1].name: duplicate runtime layer name 'a' (first at layered_runtime.layers[0].name)");
}

TEST(Semantics, RejectsASecondAdminLayer) {
  EXPECT_EQ(onlyError(semantics("layered_runtime:\n  layers:\n  - {name: a, admin_layer: {}}\n"
                                "  - {name: b, admin_layer: {}}\n")),
            "layered_runtime.layers[1].admin_layer: Too many admin layers specified in LayeredRuntime, at most one "
            "may be specified (first at layered_runtime.layers[0])");
}

TEST(Semantics, RejectsDuplicateListenerAddresses) {
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000) + listener("b", 1000), cluster("web")))),
            "static_resources.listeners[1].address: duplicate listener address '127.0.0.1:1000' (first at "
            "static_resources.listeners[0].address)");
}

TEST(Semantics, AllowsTwoListenersOnPortZero) {
  EXPECT_TRUE(semantics(config(listener("a", 0) + listener("b", 0), cluster("web"))).empty());
}

TEST(Semantics, RejectsDuplicateClusterNames) {
  EXPECT_EQ(
      onlyError(semantics(config(listener("a", 1000), cluster("web") + cluster("web")))),
      "static_resources.clusters[1].name: duplicate cluster name 'web' (first at static_resources.clusters[0].name)");
}

TEST(Semantics, RejectsDuplicateVirtualHostNames) {
  const std::string extra =
      "            - name: vh\n              domains: ['a.example']\n              routes: [ { match: { prefix: / }, "
      "route: { cluster: web } } ]\n";
  EXPECT_EQ(
      onlyError(semantics(config(listener("a", 1000, "cluster: web", extra), cluster("web")))),
      "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[1].name: "
      "duplicate virtual host name 'vh' (first at "
      "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].name)");
}

TEST(Semantics, RejectsDuplicateDomainsAcrossVirtualHosts) {
  const std::string extra =
      "            - name: vh2\n              domains: ['*']\n              routes: [ { match: { prefix: / }, "
      "route: { cluster: web } } ]\n";
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000, "cluster: web", extra), cluster("web")))),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[1]."
            "domains[0]: duplicate domain '*' (first at "
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0]."
            "domains[0])");
}

TEST(Semantics, RejectsAWildcardInTheMiddleOfADomain) {
  const std::string extra =
      "            - name: vh2\n              domains: ['a.*.example']\n              routes: [ { match: { prefix: / "
      "}, route: { cluster: web } } ]\n";
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000, "cluster: web", extra), cluster("web")))),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[1]."
            "domains[0]: 'a.*.example': a wildcard may only be the whole domain, its first or its last character");
}

TEST(Semantics, RejectsARouteToAMissingCluster) {
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000, "cluster: nope"), cluster("web")))),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0]."
            "routes[0].route.cluster: unknown cluster 'nope' (not in static_resources.clusters)");
}

TEST(Semantics, AllowsRoutesToClustersThatCdsMayDeliver) {
  const std::string yaml = config(listener("a", 1000, "cluster: nope"), cluster("web")) +
                           "dynamic_resources: { cds_config: { path_config_source: { path: /tmp/cds.yaml } } }\n";
  EXPECT_TRUE(semantics(yaml).empty());
}

TEST(Semantics, AcceptsWeightsThatAddUpToTotalWeight) {
  const std::string route =
      "weighted_clusters: { total_weight: 100, clusters: [ { name: web, weight: 60 }, { name: web2, weight: 40 } ] }";
  EXPECT_TRUE(semantics(config(listener("a", 1000, route), cluster("web") + cluster("web2"))).empty());
}

TEST(Semantics, RejectsWeightsThatDoNotAddUpToTotalWeight) {
  const std::string route =
      "weighted_clusters: { total_weight: 100, clusters: [ { name: web, weight: 60 }, { name: web2, weight: 30 } ] }";
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000, route), cluster("web") + cluster("web2")))),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0]."
            "routes[0].route.weighted_clusters.total_weight: the cluster weights add up to 90, not 100");
}

TEST(Semantics, RejectsWeightedClustersNamingMissingClusters) {
  const std::string route = "weighted_clusters: { clusters: [ { name: web, weight: 1 }, { name: gone, weight: 1 } ] }";
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000, route), cluster("web")))),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0]."
            "routes[0].route.weighted_clusters.clusters[1].name: unknown cluster 'gone' (not in "
            "static_resources.clusters)");
}

TEST(Semantics, RejectsAnUnparsableListenerAddress) {
  std::string l = listener("a", 1000);
  l.replace(l.find("127.0.0.1"), 9, "localhost");
  EXPECT_EQ(onlyError(semantics(config(l, cluster("web")))),
            "static_resources.listeners[0].address.socket_address.address: 'localhost' is not an IP address (only DNS "
            "clusters resolve host names)");
}

TEST(Semantics, RejectsAnUnparsableStaticEndpointAddress) {
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000), cluster("web", "10.0.0.300")))),
            "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address."
            "address: '10.0.0.300' is not an IP address (only DNS clusters resolve host names)");
}

TEST(Semantics, AcceptsHostNamesInDnsClusters) {
  EXPECT_TRUE(semantics(config(listener("a", 1000), cluster("web", "backend.internal", "STRICT_DNS"))).empty());
}

TEST(Semantics, RejectsMalformedHostNamesInDnsClusters) {
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000), cluster("web", "bad host!", "STRICT_DNS")))),
            "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address."
            "address: 'bad host!' is neither an IP address nor a host name");
}

TEST(Semantics, RejectsAStaticClusterWithoutEndpoints) {
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000), "  - name: web\n    type: STATIC\n"))),
            "static_resources.clusters[0].load_assignment: a STATIC cluster needs at least one endpoint");
}

TEST(Semantics, RejectsALogicalDnsClusterWithTwoEndpoints) {
  const std::string c =
      "  - name: web\n    type: LOGICAL_DNS\n    load_assignment: { endpoints: [ { lb_endpoints: [ "
      "{ endpoint: { address: { socket_address: { address: a.example, port_value: 80 } } } }, "
      "{ endpoint: { address: { socket_address: { address: b.example, port_value: 80 } } } } ] } ] }\n";
  EXPECT_EQ(onlyError(semantics(config(listener("a", 1000), c))),
            "static_resources.clusters[0].load_assignment: a LOGICAL_DNS cluster needs exactly one endpoint");
}

TEST(Semantics, RejectsHttpFiltersThatDoNotEndWithTheRouter) {
  std::string l = listener("a", 1000);
  l.replace(l.find(kRouterFilters), kRouterFilters.size(), "          http_filters: []\n");
  EXPECT_EQ(onlyError(semantics(config(l, cluster("web")))),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters: needs "
            "envoy.filters.http.router as its last filter");
}

TEST(Semantics, RejectsAListenerWithoutAddress) {
  std::string l = listener("a", 1000);
  l.erase(l.find("    address:"), l.find("    filter_chains:") - l.find("    address:"));
  EXPECT_EQ(onlyError(semantics(config(l, cluster("web")))), "static_resources.listeners[0].address: is required");
}

TEST(Semantics, RejectsAnAdminAddressThatIsNotAnIp) {
  EXPECT_EQ(onlyError(semantics("admin: { address: { socket_address: { address: my.host, port_value: 9901 } } }\n")),
            "admin.address.socket_address.address: 'my.host' is not an IP address (only DNS clusters resolve host "
            "names)");
}

TEST(Semantics, ReportsEveryProblemNotOnlyTheFirst) {
  const auto errors =
      semantics(config(listener("a", 1000, "cluster: nope") + listener("a", 1000), cluster("web") + cluster("web")));
  EXPECT_EQ(errors.size(), 4u) << errors.toString();
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(Semantics, InitialFetchTimeoutOnlyWhereAResourceMayComeLater) {
  EXPECT_EQ(onlyError(semantics("dynamic_resources:\n  cds_config:\n    path_config_source: { path: /x }\n"
                                "    initial_fetch_timeout: 1s\n")),
            "dynamic_resources.cds_config.initial_fetch_timeout: is not supported by sluice here: file-based LDS "
            "and CDS are read before serving, LDS over ADS serves listeners as they come (only RDS, EDS, and CDS "
            "and RTDS over gRPC wait for their first fetch)");
}

TEST(Semantics, RdsRouteConfigurationsAreCheckedWithoutClusterReferences) {
  envoy::config::route::v3::RouteConfiguration rc;
  ErrorList errors;
  parseYamlInto(
      "virtual_hosts:\n- {name: a, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: nowhere}}]}\n"
      "- {name: a, domains: [x]}\n",
      rc, errors);
  ASSERT_TRUE(errors.empty()) << errors.toString();
  checkRouteConfiguration(rc, "route_config 'r'", errors);
  EXPECT_EQ(onlyError(errors),
            "route_config 'r'.virtual_hosts[1].name: duplicate virtual host name 'a' (first at route_config "
            "'r'.virtual_hosts[0].name)");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

const char* kAdsCluster =
    "static_resources:\n  clusters:\n  - name: xds\n    type: STATIC\n    load_assignment: { endpoints: [ { "
    "lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 18000 } } } } ] } "
    "] }\n";

TEST(Semantics, AdsConfigMustNameAStaticClusterOfTheBootstrap) {
  EXPECT_EQ(onlyError(semantics(std::string(kAdsCluster) +
                                "dynamic_resources:\n  ads_config:\n    api_type: GRPC\n    grpc_services: [ { "
                                "envoy_grpc: { cluster_name: nope } } ]\n")),
            "dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name: 'nope' is not a cluster of "
            "static_resources (a gRPC service's cluster must be static)");
  EXPECT_TRUE(semantics(std::string(kAdsCluster) +
                        "dynamic_resources:\n  ads_config:\n    api_type: GRPC\n    grpc_services: [ { "
                        "envoy_grpc: { cluster_name: xds } } ]\n  cds_config: { ads: {}, initial_fetch_timeout: 1s }\n")
                  .empty());
}

TEST(Semantics, RateLimitSettingsNeedAToken) {
  const std::string ads = std::string(kAdsCluster) +
                          "dynamic_resources:\n  ads_config:\n    api_type: GRPC\n    grpc_services: [ { "
                          "envoy_grpc: { cluster_name: xds } } ]\n    rate_limit_settings: ";
  EXPECT_EQ(onlyError(semantics(ads + "{ max_tokens: 0 }\n")),
            "dynamic_resources.ads_config.rate_limit_settings.max_tokens: must be at least 1: with 0 no request is "
            "ever sent");
  EXPECT_TRUE(semantics(ads + "{ max_tokens: 1, fill_rate: 0.5 }\n").empty());
}

TEST(Semantics, AdsSourceNeedsAdsConfig) {
  EXPECT_EQ(onlyError(semantics("dynamic_resources:\n  cds_config: { ads: {} }\n")),
            "dynamic_resources.cds_config.ads: needs dynamic_resources.ads_config");
}

TEST(Semantics, RdsOverAdsNeedsAdsConfig) {
  const std::string listener =
      "static_resources:\n  listeners:\n  - name: l\n    address: { socket_address: { address: 127.0.0.1, "
      "port_value: 8080 } }\n    filter_chains:\n    - filters:\n      - name: hcm\n        typed_config:\n"
      "          '@type': "
      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
      "          stat_prefix: l\n          rds: { route_config_name: r1, config_source: { ads: {}, "
      "resource_api_version: V3, initial_fetch_timeout: 2s } }\n          http_filters:\n          - name: "
      "router\n            typed_config: { '@type': "
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }\n";
  EXPECT_EQ(onlyError(semantics(listener)),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.rds.config_source.ads: needs "
            "dynamic_resources.ads_config");
  const std::string ads = std::string(kAdsCluster).substr(std::string("static_resources:\n").size());
  EXPECT_TRUE(semantics(listener + ads +
                        "dynamic_resources:\n  ads_config:\n    api_type: GRPC\n    grpc_services: [ { "
                        "envoy_grpc: { cluster_name: xds } } ]\n")
                  .empty());
}

TEST(Semantics, RtdsLayerNeedsANameAndASourceAndWaitsOnlyOverAds) {
  EXPECT_EQ(onlyError(semantics("layered_runtime:\n  layers:\n  - name: r\n    rtds_layer: { rtds_config: { "
                                "path_config_source: { path: /tmp/rtds.yaml } } }\n")),
            "layered_runtime.layers[0].rtds_layer.name: names the Runtime resource: required");
  EXPECT_EQ(onlyError(semantics("layered_runtime:\n  layers:\n  - name: r\n    rtds_layer: { name: drain }\n")),
            "layered_runtime.layers[0].rtds_layer.rtds_config: is required");
  EXPECT_NE(semantics("layered_runtime:\n  layers:\n  - name: r\n    rtds_layer: { name: d, rtds_config: { "
                      "path_config_source: { path: /tmp/rtds.yaml }, initial_fetch_timeout: 1s } }\n")
                .toString()
                .find("layered_runtime.layers[0].rtds_layer.rtds_config.initial_fetch_timeout: is not supported"),
            std::string::npos);
  EXPECT_TRUE(semantics(std::string(kAdsCluster) +
                        "dynamic_resources:\n  ads_config:\n    api_type: GRPC\n    grpc_services: [ { "
                        "envoy_grpc: { cluster_name: xds } } ]\nlayered_runtime:\n  layers:\n  - name: r\n    "
                        "rtds_layer: { name: d, rtds_config: { ads: {}, initial_fetch_timeout: 1s } }\n")
                  .empty());
}

TEST(Semantics, Http2OptionsOnlyOnTheAdsCluster) {
  const std::string yaml =
      "static_resources:\n  clusters:\n  - name: web\n    http2_protocol_options: {}\n    load_assignment: { "
      "endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 80 "
      "} } } } ] } ] }\n";
  EXPECT_EQ(onlyError(semantics(yaml)),
            "static_resources.clusters[0].http2_protocol_options: is accepted only on a cluster a grpc_service names "
            "(ads_config, an api_config_source or an http_grpc access log: sluice's data plane speaks HTTP/1.1 only)");
}

TEST(Semantics, ApiConfigSourceNamesAStaticClusterWhichMaySpeakHttp2) {
  const std::string xds =
      "static_resources:\n  clusters:\n  - name: xds\n    type: STATIC\n    http2_protocol_options: {}\n"
      "    load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: "
      "127.0.0.1, port_value: 18000 } } } } ] } ] }\n";
  EXPECT_TRUE(semantics(xds +
                        "dynamic_resources:\n  cds_config:\n    api_config_source: { api_type: DELTA_GRPC, "
                        "grpc_services: [ { envoy_grpc: { cluster_name: xds } } ] }\n    initial_fetch_timeout: 1s\n")
                  .empty());
  EXPECT_NE(semantics(xds + "dynamic_resources:\n  lds_config:\n    api_config_source: { api_type: GRPC, "
                            "grpc_services: [ { envoy_grpc: { cluster_name: nope } } ] }\n")
                .toString()
                .find("dynamic_resources.lds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name: "
                      "'nope' is not a cluster of static_resources (a gRPC service's cluster must be static)"),
            std::string::npos);
  // Without a grpc_service naming it, the HTTP/2 options are refused.
  EXPECT_EQ(onlyError(semantics(xds)),
            "static_resources.clusters[0].http2_protocol_options: is accepted only on a cluster a grpc_service names "
            "(ads_config, an api_config_source or an http_grpc access log: sluice's data plane speaks HTTP/1.1 only)");
}

TEST(Semantics, LoadStatsConfigIsOneGrpcV3StreamToAStaticCluster) {
  const std::string lrs = std::string(kAdsCluster) + "cluster_manager:\n  load_stats_config:\n";
  EXPECT_TRUE(semantics(lrs + "    api_type: GRPC\n    transport_api_version: V3\n    grpc_services: [ { envoy_grpc: "
                              "{ cluster_name: xds } } ]\n")
                  .empty());
  const auto errors =
      semantics(lrs +
                "    api_type: DELTA_GRPC\n    set_node_on_first_message_only: true\n"
                "    rate_limit_settings: {}\n    grpc_services: [ { envoy_grpc: { cluster_name: nope } } ]\n");
  std::vector<std::string> paths;
  for (const auto& e : errors.errors()) paths.push_back(e.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"cluster_manager.load_stats_config.api_type",
                                      "cluster_manager.load_stats_config.transport_api_version",
                                      "cluster_manager.load_stats_config.set_node_on_first_message_only",
                                      "cluster_manager.load_stats_config.rate_limit_settings",
                                      "cluster_manager.load_stats_config.grpc_services[0].envoy_grpc.cluster_name"}));
  EXPECT_EQ(onlyError(semantics(lrs + "    api_type: GRPC\n    transport_api_version: V3\n")),
            "cluster_manager.load_stats_config.grpc_services: needs exactly one gRPC service");
}

}  // namespace
}  // namespace sluice::config
