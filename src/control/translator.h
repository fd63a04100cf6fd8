// Translation of a registry into what one kind of node gets (issue 14, 3):
// for each HTTP/1 service and zone a cluster `<service>.<zone>` fed by EDS
// over ADS and its ClusterLoadAssignment (one locality per zone); for the
// gateway named by node.cluster a Listener with an HTTP connection manager
// taking its routes by RDS over ADS, and a RouteConfiguration whose routes
// split over the service's zone clusters (`weighted_clusters`,
// `runtime_key_prefix`); an RTDS Runtime layer `zone_weights` with the
// weights. A route's own weights say only where the service has instances
// (100 or 0), the runtime layer adds the zone weights, so a drain changes
// RTDS alone. Every resource passes sluice's own validator before it is kept.
//
// Proxyless gRPC clients (nodeKindOf() == GrpcClient, gRFC A27/A28) get
// instead, per gRPC service: an `api_listener` Listener named after the
// service (what `xds:///<service>` asks for) whose HttpConnectionManager
// takes its routes by RDS over ADS, a RouteConfiguration of the same name
// splitting over the zone clusters with the zone weights written in the
// route (gRPC has no RTDS), and the same EDS clusters and assignments (the
// locality carries a load_balancing_weight: gRPC drops localities without
// one). A service whose zones all have weight 0 (drained, or no instance
// that takes traffic) gets a virtual host with no route: its calls fail
// with UNAVAILABLE rather than go to a drained zone.
// Pure functions; any thread.
#pragma once

#include <memory>
#include <string>

#include "control/registry.h"
#include "control/snapshot.h"

namespace envoy::config::core::v3 {
class Node;
}

namespace sluice::control {

// What a node is, from what it says of itself: a gRPC client's
// user_agent_name starts with "gRPC " ("gRPC Node Pure JS", "gRPC Go",
// "gRPC Java", "gRPC C-core ..."), and every gRPC xDS client sends the
// client feature "envoy.lb.does_not_support_overprovisioning"; either one
// makes a GrpcClient. Anything else (sluice sends "sluice", Envoy "envoy")
// is an Edge node.
enum class NodeKind { Edge, GrpcClient };
std::string_view nodeKindName(NodeKind kind);  // "edge", "grpc_client"
NodeKind nodeKindOf(const envoy::config::core::v3::Node& node);

inline constexpr std::string_view kRuntimeLayerName = "zone_weights";

// The runtime key prefix of a service's weighted clusters; the key of a zone
// cluster is `<prefix>.<service>.<zone>` (Envoy's runtime_key_prefix rule).
std::string runtimeKeyPrefix(const std::string& service);
std::string zoneClusterName(const std::string& service, const std::string& zone);

// The snapshot for nodes whose node.cluster is `node_cluster` (a gateway's
// name, or anything else: clusters, endpoints and runtime only).
std::shared_ptr<const Snapshot> translate(const Registry& registry, const std::string& node_cluster);

// The snapshot every proxyless gRPC client gets (node.cluster plays no
// part): the registry's `grpc` services only.
std::shared_ptr<const Snapshot> translateForGrpcClients(const Registry& registry);

// The checks the sluice xDS client runs on a response, on one resource:
// protoc-gen-validate rules, the supported subset, and for route tables the
// semantic checks. "" when sluice would accept it, else the errors.
std::string checkResource(XdsType type, const Resource& resource);

// The same checks for what a gRPC client gets: an `api_listener` is not in
// sluice's supported subset (sluice has no API listeners), so a Listener
// passes protoc-gen-validate rules, must carry an HttpConnectionManager as
// its api_listener, and that manager passes sluice's full checks (rules and
// subset). Every other type gets checkResource().
std::string checkGrpcClientResource(XdsType type, const Resource& resource);

}  // namespace sluice::control
