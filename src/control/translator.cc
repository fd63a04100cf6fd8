#include "control/translator.h"

#include "config/discovery_file.h"
#include "config/pgv_validator.h"
#include "config/semantic_validator.h"
#include "config/supported_fields.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/service/runtime/v3/rtds.pb.h"
#include "log/logger.h"

namespace sluice::control {

namespace {

namespace core = envoy::config::core::v3;
using HttpConnectionManager = envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

void adsSource(core::ConfigSource& source) {
  source.mutable_ads();
  source.set_resource_api_version(core::V3);
}

// What an edge node (sluice today) can use: HTTP/1 upstreams only.
bool servable(const Service& service) { return service.protocol == Protocol::Http1; }

envoy::config::cluster::v3::Cluster zoneCluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster cluster;
  cluster.set_name(name);
  cluster.set_type(envoy::config::cluster::v3::Cluster::EDS);
  cluster.mutable_connect_timeout()->set_seconds(1);
  adsSource(*cluster.mutable_eds_cluster_config()->mutable_eds_config());
  return cluster;
}

// `locality_weight` 0: none (edge nodes; one locality per cluster, so it
// would change nothing); gRPC clients need one on every locality.
// `degraded`: a degraded instance is sent with health_status DEGRADED (sluice
// and Envoy use it only when the healthy ones do not suffice); otherwise, as
// for gRPC clients, it is sent as healthy.
envoy::config::endpoint::v3::ClusterLoadAssignment zoneAssignment(const Service& service, const std::string& zone,
                                                                  uint32_t locality_weight = 0, bool degraded = true) {
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  assignment.set_cluster_name(zoneClusterName(service.name, zone));
  envoy::config::endpoint::v3::LocalityLbEndpoints* locality = nullptr;
  for (const auto& instance : service.instances) {
    // Only instances that may take traffic are sent.
    if (instance.zone != zone || instance.health == Health::Unhealthy || instance.health == Health::Draining) continue;
    if (locality == nullptr) {
      locality = assignment.add_endpoints();
      locality->mutable_locality()->set_zone(zone);
      if (locality_weight != 0) locality->mutable_load_balancing_weight()->set_value(locality_weight);
    }
    auto* endpoint = locality->add_lb_endpoints();
    auto* address = endpoint->mutable_endpoint()->mutable_address()->mutable_socket_address();
    address->set_address(instance.address);
    address->set_port_value(instance.port);
    if (instance.weight != 1) endpoint->mutable_load_balancing_weight()->set_value(instance.weight);
    if (degraded && instance.health == Health::Degraded) {
      endpoint->set_health_status(envoy::config::core::v3::DEGRADED);
    }
  }
  return assignment;
}

// A zone's share of a service where the service has an instance that takes
// traffic there (else 0): its zone weight (`drain`), or 100 (the route's
// own weights, so that a drain changes the RTDS layer only).
uint32_t zoneShare(const Registry& registry, const Service& service, const std::string& zone, bool drain) {
  for (const auto& instance : service.instances) {
    if (instance.zone == zone && instance.health != Health::Unhealthy && instance.health != Health::Draining) {
      return drain ? registry.zoneWeight(zone) : Registry::kDefaultZoneWeight;
    }
  }
  return 0;
}

// Every zone's share; when all are 0 (nothing anywhere, or every zone
// drained) each zone gets 1, as a split needs a positive total.
std::vector<uint32_t> zoneShares(const Registry& registry, const Service& service, bool drain) {
  std::vector<uint32_t> shares;
  uint32_t total = 0;
  for (const auto& zone : registry.zones) {
    shares.push_back(zoneShare(registry, service, zone, drain));
    total += shares.back();
  }
  if (total == 0) std::fill(shares.begin(), shares.end(), 1);
  return shares;
}

envoy::config::listener::v3::Listener gatewayListener(const Gateway& gateway) {
  envoy::config::listener::v3::Listener listener;
  listener.set_name(gateway.name);
  auto* address = listener.mutable_address()->mutable_socket_address();
  address->set_address(gateway.address);
  address->set_port_value(gateway.port);
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(gateway.name);
  auto* rds = hcm.mutable_rds();
  rds->set_route_config_name(gateway.name);
  adsSource(*rds->mutable_config_source());
  auto* router = hcm.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  auto* filter = listener.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return listener;
}

envoy::config::route::v3::RouteConfiguration gatewayRoutes(const Registry& registry, const Gateway& gateway,
                                                           std::vector<std::string>& skipped) {
  envoy::config::route::v3::RouteConfiguration config;
  config.set_name(gateway.name);
  for (const auto& host : gateway.virtual_hosts) {
    auto* vhost = config.add_virtual_hosts();
    vhost->set_name(host.name);
    for (const auto& domain : host.domains) vhost->add_domains(domain);
    for (const auto& r : host.routes) {
      const Service* service = registry.findService(r.service);
      if (service == nullptr) continue;  // the registry's validation rules this out
      if (!servable(*service)) {
        skipped.push_back("gateway '" + gateway.name + "': route '" + r.prefix + "' to service '" + service->name +
                          "' left out: " + std::string(protocolName(service->protocol)) +
                          " upstreams are not supported by sluice yet");
        continue;
      }
      auto* route = vhost->add_routes();
      route->mutable_match()->set_prefix(r.prefix);
      auto* weighted = route->mutable_route()->mutable_weighted_clusters();
      weighted->set_runtime_key_prefix(runtimeKeyPrefix(service->name));
      const auto shares = zoneShares(registry, *service, false);
      for (size_t i = 0; i < registry.zones.size(); ++i) {
        auto* cluster = weighted->add_clusters();
        cluster->set_name(zoneClusterName(service->name, registry.zones[i]));
        cluster->mutable_weight()->set_value(shares[i]);
      }
    }
  }
  return config;
}

envoy::service::runtime::v3::Runtime zoneWeightsLayer(const Registry& registry) {
  envoy::service::runtime::v3::Runtime runtime;
  runtime.set_name(std::string(kRuntimeLayerName));
  auto& fields = *runtime.mutable_layer()->mutable_fields();
  for (const auto& service : registry.services) {
    if (!servable(service)) continue;
    const auto shares = zoneShares(registry, service, true);
    for (size_t i = 0; i < registry.zones.size(); ++i) {
      const std::string cluster = zoneClusterName(service.name, registry.zones[i]);
      fields[runtimeKeyPrefix(service.name) + "." + cluster].set_number_value(shares[i]);
    }
  }
  return runtime;
}

// A gRPC service as a gRPC client reaches it: `xds:///<service>`.
envoy::config::listener::v3::Listener grpcListener(const Service& service) {
  envoy::config::listener::v3::Listener listener;
  listener.set_name(service.name);
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(service.name);
  auto* rds = hcm.mutable_rds();
  rds->set_route_config_name(service.name);
  adsSource(*rds->mutable_config_source());
  // gRPC (A39) wants the router filter, and it last.
  auto* router = hcm.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  listener.mutable_api_listener()->mutable_api_listener()->PackFrom(hcm);
  return listener;
}

// The zone weights in the route itself, over the zones where the service
// has an instance that takes traffic; no route at all when that leaves
// nothing (a split needs a positive total: gRPC NACKs a zero sum).
envoy::config::route::v3::RouteConfiguration grpcRoutes(const Registry& registry, const Service& service) {
  envoy::config::route::v3::RouteConfiguration config;
  config.set_name(service.name);
  auto* vhost = config.add_virtual_hosts();
  vhost->set_name(service.name);
  vhost->add_domains("*");
  envoy::config::route::v3::WeightedCluster split;
  for (const auto& zone : registry.zones) {
    const uint32_t share = zoneShare(registry, service, zone, true);
    if (share == 0) continue;
    auto* cluster = split.add_clusters();
    cluster->set_name(zoneClusterName(service.name, zone));
    cluster->mutable_weight()->set_value(share);
  }
  if (split.clusters_size() == 0) return config;
  auto* route = vhost->add_routes();
  route->mutable_match()->set_prefix("/");
  *route->mutable_route()->mutable_weighted_clusters() = std::move(split);
  return config;
}

using Check = std::string (*)(XdsType, const Resource&);

// Keeps `message` when the node would accept it (`check`); else records why not.
void add(Snapshot& snapshot, XdsType type, const google::protobuf::Message& message, Check check = checkResource) {
  auto resource = makeResource(message);
  const std::string error = check(type, *resource);
  if (!error.empty()) {
    snapshot.skipped.push_back(std::string(typeShortName(type)) + " '" + resource->name +
                               "' left out: sluice would reject it: " + error);
    return;
  }
  snapshot.of(type)[resource->name] = std::move(resource);
}

}  // namespace

std::string_view nodeKindName(NodeKind kind) { return kind == NodeKind::GrpcClient ? "grpc_client" : "edge"; }

NodeKind nodeKindOf(const envoy::config::core::v3::Node& node) {
  if (node.user_agent_name().starts_with("gRPC ")) return NodeKind::GrpcClient;
  for (const auto& feature : node.client_features()) {
    if (feature == "envoy.lb.does_not_support_overprovisioning") return NodeKind::GrpcClient;
  }
  return NodeKind::Edge;
}

std::string runtimeKeyPrefix(const std::string& service) { return std::string(kRuntimeLayerName) + "." + service; }

std::string zoneClusterName(const std::string& service, const std::string& zone) { return service + "." + zone; }

std::shared_ptr<const Snapshot> translate(const Registry& registry, const std::string& node_cluster) {
  auto snapshot = std::make_shared<Snapshot>();
  for (const auto& service : registry.services) {
    if (!servable(service)) {
      snapshot->skipped.push_back("service '" + service.name +
                                  "' left out: " + std::string(protocolName(service.protocol)) +
                                  " upstreams are not supported by sluice yet");
      continue;
    }
    for (const auto& zone : registry.zones) {
      add(*snapshot, XdsType::Cluster, zoneCluster(zoneClusterName(service.name, zone)));
      add(*snapshot, XdsType::Endpoint, zoneAssignment(service, zone));
    }
  }
  if (const Gateway* gateway = registry.findGateway(node_cluster)) {
    add(*snapshot, XdsType::Listener, gatewayListener(*gateway));
    add(*snapshot, XdsType::Route, gatewayRoutes(registry, *gateway, snapshot->skipped));
  }
  add(*snapshot, XdsType::Runtime, zoneWeightsLayer(registry));
  for (const auto& reason : snapshot->skipped) SLUICE_LOG(config, info, "node cluster '{}': {}", node_cluster, reason);
  return snapshot;
}

std::shared_ptr<const Snapshot> translateForGrpcClients(const Registry& registry) {
  auto snapshot = std::make_shared<Snapshot>();
  for (const auto& service : registry.services) {
    if (service.protocol != Protocol::Grpc) continue;  // a gRPC client calls gRPC services only
    for (const auto& zone : registry.zones) {
      add(*snapshot, XdsType::Cluster, zoneCluster(zoneClusterName(service.name, zone)), checkGrpcClientResource);
      add(*snapshot, XdsType::Endpoint, zoneAssignment(service, zone, 1, false), checkGrpcClientResource);
    }
    add(*snapshot, XdsType::Listener, grpcListener(service), checkGrpcClientResource);
    add(*snapshot, XdsType::Route, grpcRoutes(registry, service), checkGrpcClientResource);
  }
  for (const auto& reason : snapshot->skipped) SLUICE_LOG(config, info, "gRPC clients: {}", reason);
  return snapshot;
}

std::string checkGrpcClientResource(XdsType type, const Resource& resource) {
  if (type != XdsType::Listener) return checkResource(type, resource);
  envoy::config::listener::v3::Listener listener;
  if (!resource.any.UnpackTo(&listener)) return "not a " + std::string(typeMessageName(type));
  config::ErrorList errors;
  const std::string where = "listener '" + listener.name() + "'";
  config::validateRules(listener, where, errors);
  HttpConnectionManager hcm;
  if (!listener.api_listener().api_listener().UnpackTo(&hcm)) {
    errors.add(where + ".api_listener.api_listener", "expected a " + hcm.GetDescriptor()->full_name());
  } else {
    config::checkSupported(hcm, where + ".api_listener.api_listener", errors);
    config::validateRules(hcm, where + ".api_listener.api_listener", errors);
  }
  return errors.toString();
}

std::string checkResource(XdsType type, const Resource& resource) {
  config::ErrorList errors;
  auto decoded = config::readDiscoveryResource(resource.any, std::string(typeMessageName(type)), "resource", errors);
  if (decoded && type == XdsType::Route) {
    config::checkRouteConfiguration(static_cast<const envoy::config::route::v3::RouteConfiguration&>(*decoded),
                                    config::resourceLabel(*decoded), errors);
  }
  return errors.toString();
}

}  // namespace sluice::control
